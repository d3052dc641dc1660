"""One campaign message, built and signed (SPEC M-2, M-7, M-11): part of the dispatch engine
(``mailing.services.dispatch`` is its public face; import from there).

``build_message`` renders the content in the sandbox (``mailing.rendering``), checks the footer
(M-7), routes every link through a signed click redirect and adds the open pixel (M-11), writes
the RFC 5322 / MIME message itself and DKIM-signs it (``mailing.dkim.KeySigner``).

The message is written directly as bytes, not through the ``email`` package (which cost more
than everything else of a message together): ``multipart/alternative`` with a ``text/plain``
and a ``text/html`` part, both UTF-8 in quoted-printable (``binascii.b2a_qp``: lines of at most
76 characters, ``=`` never followed by ``_``, so the boundary ``=_sc_<message id>`` cannot
occur in a part). The headers whose value a seller or buyer controls (Subject, From, a To that
is not a plain address) are still written by the ``email`` package's SMTP policy — RFC 2047
encoded-words for non-ASCII text, folding — once per distinct value and batch; the others are
ASCII tokens the engine makes (Message-ID, Date, List-*, Feedback-ID) and are written as they
are. ``List-Unsubscribe`` is one ``<URL>`` on one line (an encoded-word there would hide the
URL from the receiver), and both RFC 8058 headers are covered by the DKIM signature.

A batch passes one ``renders`` dict to every ``build_message`` call: each (content, language)
is rendered once (``_render``), and the tracking links' signers and URL prefixes
(``Links``) and the encoded headers are made once.
"""

from __future__ import annotations

import binascii
import dataclasses
import email.policy
import html as htmllib
import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime, formataddr, parseaddr
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.urls import reverse

from core import clock
from core.errors import DomainError

from ..models import Campaign, CampaignContent, Message

CLICK_SALT = "mailing.click"
OPEN_SALT = "mailing.open"
UNSUBSCRIBE_SALT = "mailing.unsubscribe"
_CRLF = re.compile(r"[\r\n\x00]")


@dataclass(frozen=True)
class Sender:
    name: str
    address: str  # the From address
    domain: str
    dkim: Any = None  # what mailing.dkim.sign needs (a SenderDomain), or None: unsigned
    from_header: str = ""  # the complete From value when the identity built it already
    signer: Any = None  # a mailing.dkim.KeySigner for ``dkim``, made once per batch


def sender_for(shop) -> Sender:
    """The shop's sending identity (``mailing.selectors.sending_identity``); ``DomainError``
    code "401" while its sender domain is not verified (SPEC M-10)."""
    from mailing import selectors

    from_header, domain = selectors.sending_identity(shop)
    domain_name: str = domain.domain  # type: ignore[attr-defined]  # a SenderDomain
    name, address = parseaddr(from_header)
    return Sender(
        name=name, address=address, domain=domain_name, dkim=domain, from_header=from_header
    )


def brand_for(shop):
    """The shop's brand profile (footer, colours, logo), read once per batch."""
    from mailing.selectors import brand_for_shop

    return brand_for_shop(shop=shop)


def _sign(data: bytes, sender: Sender) -> bytes:
    if sender.dkim is None:
        return data
    if sender.signer is not None:
        return sender.signer.sign(data)
    from mailing import dkim

    return dkim.sign(data, domain=sender.dkim)


# --- tracking links (SPEC M-11) ----------------------------------------------------------------


def tracking_token(message: Message, salt: str) -> str:
    """A deterministic signed token (no timestamp: the link works as long as the mail lives)."""
    return signing.Signer(salt=salt).sign_object(message.message_id.hex, compress=True)


def token_value(token: str, salt: str):
    """What a token signed with ``salt`` carries; ``signing.BadSignature`` when tampered."""
    return signing.Signer(salt=salt).unsign_object(token)


def public_url(path: str) -> str:
    base = getattr(settings, "SC_MAILING_PUBLIC_URL", "") or getattr(
        settings, "SC_PUBLIC_URL", "http://localhost:8000"
    )
    return base.rstrip("/") + path


def unsubscribe_url(message: Message) -> str:
    return public_url(
        reverse("mailing_t:unsubscribe", args=[tracking_token(message, UNSUBSCRIBE_SALT)])
    )


def open_pixel_url(message: Message) -> str:
    return public_url(reverse("mailing_t:open", args=[tracking_token(message, OPEN_SALT)]))


def click_url(message: Message, url: str) -> str:
    token = signing.Signer(salt=CLICK_SALT).sign_object(
        [message.message_id.hex, url], compress=True
    )
    return public_url(reverse("mailing_t:click", args=[token]))


# A signed token is made of these (URL-safe base64, ':' and the '.' of a compressed one), which
# ``reverse`` leaves as they are: prefix + token + suffix is the reversed URL.
_TOKEN_CHARS = re.compile(r"^[A-Za-z0-9_.:-]+$")
_MARK = "sc0token0mark"


class Links:
    """The tracking links of one batch's messages: the same URLs as ``unsubscribe_url``,
    ``open_pixel_url`` and ``click_url``, with the signers and the reversed URL around the
    token made once (``reverse`` and ``Signer()`` cost more than the signing itself)."""

    def __init__(self) -> None:
        self._signers = {
            salt: signing.Signer(salt=salt) for salt in (UNSUBSCRIBE_SALT, OPEN_SALT, CLICK_SALT)
        }
        self._around = {
            name: tuple(public_url(reverse(f"mailing_t:{name}", args=[_MARK])).split(_MARK, 1))
            for name in ("unsubscribe", "open", "click")
        }

    def _url(self, name: str, token: str, fallback) -> str:
        if not _TOKEN_CHARS.match(token):
            return fallback()
        before, after = self._around[name]
        return before + token + after

    def unsubscribe(self, message: Message) -> str:
        token = self._signers[UNSUBSCRIBE_SALT].sign_object(message.message_id.hex, compress=True)
        return self._url("unsubscribe", token, lambda: unsubscribe_url(message))

    def open_pixel(self, message: Message) -> str:
        token = self._signers[OPEN_SALT].sign_object(message.message_id.hex, compress=True)
        return self._url("open", token, lambda: open_pixel_url(message))

    def click(self, message: Message, url: str) -> str:
        token = self._signers[CLICK_SALT].sign_object([message.message_id.hex, url], compress=True)
        return self._url("click", token, lambda: click_url(message, url))


_HREF = re.compile(r'href="(https?://[^"]+)"')


def _track_links(html: str, message: Message, unsubscribe: str, links: Links | None = None) -> str:
    """SPEC M-11: every http(s) link goes through a signed click redirect (never the
    unsubscribe link), and the open pixel closes the body."""
    links = links or Links()

    def repl(m: re.Match) -> str:
        url = htmllib.unescape(m.group(1))
        if url == unsubscribe:
            return m.group(0)
        return f'href="{htmllib.escape(links.click(message, url), quote=True)}"'

    tracked = _HREF.sub(repl, html)
    pixel = (
        f'<img src="{htmllib.escape(links.open_pixel(message), quote=True)}" width="1" '
        'height="1" alt="" style="display:block;border:0">'
    )
    if "</body>" in tracked:
        return tracked.replace("</body>", pixel + "</body>", 1)
    return tracked + pixel


# --- the message itself ------------------------------------------------------------------------


class _Raw:
    """The wire form of a signed message: exactly the bytes that were signed. Django's SMTP
    backend only asks for ``as_bytes()`` (and locmem only builds it); parsing it back into an
    email object would cost as much as building it."""

    def __init__(self, data: bytes) -> None:
        self._raw = data

    def as_bytes(self, *args, **kwargs) -> bytes:
        return self._raw

    def as_string(self, *args, **kwargs) -> str:
        return self._raw.decode("utf-8", "replace")


class SignedEmail(EmailMultiAlternatives):
    """A Django email whose wire form is its DKIM-signed bytes (SMTP backend and locmem)."""

    signed: bytes | None = None

    def message(self, **kwargs):
        if self.signed is None:
            return super().message(**kwargs)
        return _Raw(self.signed)


def check_header_value(value: str, what: str) -> str:
    """Header injection: a line break (or NUL) in a subject or sender name is refused."""
    if _CRLF.search(value or ""):
        raise DomainError(f"The {what} cannot contain line breaks.", code="header_injection")
    return value


class Built:
    """A built message: ``data`` is what goes on the wire (signed), ``envelope`` the SMTP
    envelope sender; ``email`` the same message as a Django email (for the other mailers)."""

    __slots__ = ("_email", "data", "envelope", "headers", "html", "subject", "text", "to")

    def __init__(self, *, data, envelope, to, subject, html, text, headers) -> None:
        self.data: bytes = data
        self.envelope: str = envelope
        self.to: list[str] = to
        self.subject: str = subject
        self.html: str = html
        self.text: str = text
        self.headers: dict[str, str] = headers
        self._email: SignedEmail | None = None

    @property
    def email(self) -> SignedEmail:
        if self._email is None:
            mail = SignedEmail(
                subject=self.subject,
                body=self.text,
                from_email=self.envelope,
                to=list(self.to),
                headers=self.headers,
            )
            mail.attach_alternative(self.html, "text/html")
            mail.signed = self.data
            self._email = mail
        return self._email


_POLICY = email.policy.SMTP
_PLAIN_ADDRESS = re.compile(r"^[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+$")
_PART_HEAD = (
    b'Content-Type: text/%s; charset="utf-8"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n'
)


def _encoded_header(name: str, value: str, cache: dict | None = None) -> bytes:
    """The header as the ``email`` package writes it (RFC 2047 encoded-words, folded)."""
    key = ("header", name, value)
    if cache is not None and key in cache:
        return cache[key]
    line = _POLICY.fold_binary(*_POLICY.header_store_parse(name, value))
    if cache is not None:
        cache[key] = line
    return line


def _token_header(name: str, value: str) -> bytes:
    """A header whose value the engine made (ASCII, no line breaks): written as it is."""
    line = f"{name}: {value}\r\n"
    if not line.isascii() or len(line) > 998 or _CRLF.search(value):
        return _encoded_header(name, value)
    return line.encode("ascii")


def _qp(text: str) -> bytes:
    """The part's body in quoted-printable (CRLF line ends)."""
    data = text.replace("\r\n", "\n").replace("\r", "\n").encode("utf-8")
    return binascii.b2a_qp(data, istext=True).replace(b"\n", b"\r\n")


def compose(*, header_lines: list[bytes], text: str, html: str, boundary: str) -> bytes:
    """A ``multipart/alternative`` message (text, then HTML) with the given header lines."""
    b = boundary.encode("ascii")
    return b"".join(
        (
            b"MIME-Version: 1.0\r\n",
            b'Content-Type: multipart/alternative;\r\n boundary="' + b + b'"\r\n',
            *header_lines,
            b"\r\n--" + b + b"\r\n",
            _PART_HEAD % b"plain",
            _qp(text),
            b"\r\n--" + b + b"\r\n",
            _PART_HEAD % b"html",
            _qp(html),
            b"\r\n--" + b + b"--\r\n",
        )
    )


def build_message(
    campaign: Campaign,
    message: Message,
    sender: Sender,
    content: CampaignContent,
    *,
    extra_context: dict | None = None,
    brand=None,
    renders: dict | None = None,
    subject_prefix: str = "",
    now: datetime | None = None,
) -> Built:
    """Render (sandboxed, SPEC M-2 c), add the footer and tracking (M-7, M-11), the RFC 8058
    headers, and DKIM-sign (M-2 a). Raises ``DomainError`` for content that cannot be sent.
    ``renders``: the batch's cache (see the module docstring); ``now``: the Date (default
    now)."""
    from mailing.rendering import TemplateRejected

    links = renders.get(("links",)) if renders is not None else None
    if links is None:
        links = Links()
        if renders is not None:
            renders[("links",)] = links
    unsubscribe = links.unsubscribe(message)
    try:
        rendered = _render(
            campaign,
            message,
            content,
            unsubscribe=unsubscribe,
            extra_context=extra_context,
            brand=brand,
            renders=renders,
        )
    except TemplateRejected as exc:
        raise DomainError(
            "; ".join(str(p) for p in getattr(exc, "problems", [exc])), code="lint"
        ) from None
    if not rendered.footer_complete or unsubscribe not in rendered.html:
        # SPEC M-7: a message without its footer is blocked, not sent.
        raise DomainError(
            "The footer needs the physical address and customer-service phone of the brand.",
            code="footer_missing",
        )
    subject = subject_prefix + rendered.subject
    check_header_value(subject, "subject")
    check_header_value(sender.name, "sender name")
    html = _track_links(rendered.html, message, unsubscribe, links)
    message_hex = message.message_id.hex
    headers = {
        "From": sender.from_header or formataddr((sender.name, sender.address)),
        "Message-ID": f"<{message_hex}@{sender.domain}>",
        "Date": format_datetime(now or clock.now()),
        # RFC 8058 one-click unsubscribe (covered by the DKIM signature: mailing.dkim).
        "List-Unsubscribe": f"<{unsubscribe}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        "List-Id": f"<shop-{campaign.shop_id}.{sender.domain}>",
        "Feedback-ID": f"{campaign.pk}:{campaign.shop_id}:sellercenter",
        "X-SC-Message": message_hex,
    }
    to = message.email
    lines = [
        _encoded_header("Subject", subject, renders),
        _encoded_header("From", headers["From"], renders),
        _token_header("To", to) if _PLAIN_ADDRESS.match(to) else _encoded_header("To", to),
        *(_token_header(name, value) for name, value in headers.items() if name != "From"),
    ]
    plain = compose(
        header_lines=lines, text=rendered.text, html=html, boundary=f"=_sc_{message_hex}"
    )
    return Built(
        data=_sign(plain, sender),
        # The envelope sender carries the message id (VERP): a bounce names its message.
        envelope=f"bounce+{message_hex}@{sender.domain}",
        to=[to],
        subject=subject,
        html=html,
        text=rendered.text,
        headers=headers,
    )


# Characters that neither HTML escaping (the layout's autoescape, merge-tag escaping) nor the
# sanitiser changes: an unsubscribe URL made only of them appears verbatim wherever it is used.
_VERBATIM_URL = re.compile(r"^[A-Za-z0-9:/._~-]+$")


def _render(
    campaign: Campaign,
    message: Message,
    content: CampaignContent,
    *,
    unsubscribe: str,
    extra_context: dict | None,
    brand,
    renders: dict | None,
):
    """The sandboxed render (``mailing.rendering.render``) of ``content`` for this message.

    A batch (``renders``: its cache) renders each (content, language) once, with a random
    stand-in for the unsubscribe URL — the one per-recipient value of a campaign message — and
    puts the message's own URL in its place. Same output as rendering each message, as long as
    both URLs appear verbatim (``_VERBATIM_URL``); otherwise, and whenever the caller passes
    per-recipient values (``extra_context``), the message is rendered on its own."""
    from mailing.rendering import TemplateSource, render

    source = TemplateSource(
        subject=content.subject,
        body=content.body,
        preheader=content.preheader,
        language=content.language,
        shop=campaign.shop,
    )

    def render_with(url: str):
        context = {
            "shop.name": campaign.shop.name,
            **(extra_context or {}),
            "unsubscribe_url": url,  # always this message's own (never a sample's)
        }
        return render(source, context=context, language=message.language, brand=brand)

    if (
        renders is None
        or extra_context
        or not _VERBATIM_URL.match(unsubscribe)
        # a subject/preheader is cut at its length limit: there the URL's length matters
        or "unsubscribe_url" in content.subject
        or "unsubscribe_url" in content.preheader
    ):
        return render_with(unsubscribe)
    key = (content.pk, content.variant, content.language, message.language)
    cached = renders.get(key)
    if cached is None:
        stand_in = public_url(
            reverse("mailing_t:unsubscribe", args=[f"sc-stand-in-{uuid.uuid4().hex}"])
        )
        cached = renders[key] = (stand_in, render_with(stand_in))
    stand_in, rendered = cached
    if not _VERBATIM_URL.match(stand_in):
        return render_with(unsubscribe)
    return dataclasses.replace(
        rendered,
        subject=rendered.subject.replace(stand_in, unsubscribe),
        preheader=rendered.preheader.replace(stand_in, unsubscribe),
        html=rendered.html.replace(stand_in, unsubscribe),
        text=rendered.text.replace(stand_in, unsubscribe),
    )
