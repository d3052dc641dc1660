"""The dispatch engine (SPEC M-5, M-6, M-8, M-9, M-10): recipients → message rows → mail.

1. **Materialise** (``campaign_materialize``): the campaign's recipients are streamed from the
   audience (``mailing.segments.recipients``, a generator) into one ``Message`` row each, in
   chunks of ``MATERIALIZE_CHUNK`` (never all in memory). ``INSERT … ON CONFLICT DO NOTHING`` on
   (campaign, email) makes a re-run after a crash idempotent. Each row's ``due_at`` is the chosen
   local time in the recipient's site time zone (M-5); under an A/B test (M-6) a share of the
   rows gets variant A or B and the rest is held for the winner.
2. **Claim** (``batch_send``): in one short transaction, under the shop's quota row for the
   natural day (M-8), up to a batch of due rows move ``queued → claimed``
   (``SELECT … FOR UPDATE SKIP LOCKED``: workers never share a row) and the quota counter grows.
   Over quota, the due rows get error 429 and wait for the next natural day.
3. **Send**, one message at a time over one connection: the row moves ``claimed → sending``
   (committed) *before* the mail server is talked to, then ``sent`` (committed) after it
   accepted the message — recorded in the same statement that marks the next message
   ``sending`` (``_SENT_THEN_SENDING_SQL``; the batch's last one at its end), so one round trip
   per message and never more than one row ``sending``. While PostgreSQL commits that
   statement the SMTP transaction is opened (MAIL, RCPT, DATA: nothing delivered yet;
   ``overlapped``); its result is read before the message's data goes. The next messages
   (``BUILD_AHEAD``) are built and signed meanwhile on the batch's build thread, which never
   queries the database (``_build``): the hand-over mostly waits on sockets, which lets it
   run. Per batch, not per message: the DKIM key (``dkim.KeySigner``), the
   registry numbers, the render of each (content, language) (``_render``: the message's own
   unsubscribe link swapped for a stand-in), the tracking links' signers and the encoded
   headers (``dispatch_message``). The message is written as bytes and handed to the open SMTP
   connection's ``sendmail``.
   A 4xx answer puts it back in the queue with backoff; a 5xx fails it (the recipient refused
   at RCPT, or an enhanced status 5.1.x, or the ESP rejecting the recipient: the address is
   quarantined 30 days; a refused sender or content is not the address's fault); an ambiguous
   end (connection lost mid-transfer) leaves it ``unknown``. Due rows whose address was
   suppressed since the campaign was confirmed are marked ``skipped`` by the claim (M-3).
4. **Recover** (``claims_recover``, beat): a worker that died (SIGKILL, OOM) leaves rows
   ``claimed`` or ``sending``. Claimed rows were never handed to the server: they go back to the
   queue. The one ``sending`` row may or may not have left: it becomes ``unknown`` and is
   **never resent** — a message is never sent twice (README "Dispatch").

This module is the engine's public face and runs a batch (``batch_send``); the parts live in
``dispatch_message`` (building and signing a message, tracking links), ``dispatch_records``
(claims, quota, the state records) and ``dispatch_queue`` (materialising, recovery, the
campaigns due, A/B), and every public name is imported here: use ``dispatch.<name>``.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import smtplib
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import mailers
from django.core.mail.backends.smtp import EmailBackend as SmtpBackend
from django.db import connection as db
from django.utils.module_loading import import_string

from core import clock
from core.errors import DomainError

from .. import rules
from ..models import (
    BounceKind,
    Campaign,
    CampaignContent,
    CampaignStatus,
    Message,
    MessageState,
)
from ..segments import Recipient
from .dispatch_message import (  # noqa: F401  (the public face of the engine)
    _PLAIN_ADDRESS,
    CLICK_SALT,
    OPEN_SALT,
    UNSUBSCRIBE_SALT,
    Built,
    Links,
    Sender,
    SignedEmail,
    _sign,
    brand_for,
    build_message,
    check_header_value,
    click_url,
    open_pixel_url,
    public_url,
    sender_for,
    token_value,
    tracking_token,
    unsubscribe_url,
)
from .dispatch_queue import (  # noqa: F401  (the public face of the engine)
    MATERIALIZE_CHUNK,
    OPEN_STATES,
    _chunks,
    _finish_if_done,
    ab_decide,
    ab_due,
    bucket,
    campaign_materialize,
    campaigns_due,
    campaigns_finish,
    claims_recover,
    local_due_at,
    variant_for,
)
from .dispatch_records import (  # noqa: F401  (the public face of the engine)
    E_CONTENT,
    E_DOMAIN,
    E_QUOTA,
    E_UNKNOWN,
    SKIPPED_DETAIL,
    BatchResult,
    SendNumbers,
    _claim,
    _mark_sending,
    _Pending,
    _quota_give_back,
    _record,
    _record_sent,
    _release,
    _retry,
    _unknown,
    account_enabled_at,
    quota_for,
    sending_paused,
)

log = logging.getLogger(__name__)

# Messages built and signed ahead of the one being handed over, on the batch's build thread.
BUILD_AHEAD = 2


# --- test hooks: a killed worker is simulated by replacing these (tests/mailing) -------------


def _before_send(message: Message) -> None:
    """Called after the row is committed ``sending``, before the server is talked to."""


def _after_send(message: Message) -> None:
    """Called after the server accepted the message, before ``sent`` is recorded."""


# --- what other parts of the module provide ----------------------------------------------------


def recipients_for(campaign: Campaign) -> Iterator[Recipient]:
    """The campaign's audience after suppression and consent (SPEC M-3, M-4), streamed."""
    from mailing import segments

    yield from segments.recipients(campaign.segment, shop=campaign.shop)


def suppress_hard_bounce(*, shop, email: str, source: str, at: datetime) -> None:
    """SPEC M-3/M-10: a rejected address joins the suppression list for 30 days."""
    from mailing.services import audience

    audience.suppress(
        shop=shop,
        email=email,
        reason="hard_bounce",
        source=source,
        expires_at=at + timedelta(days=rules.hard_bounce_quarantine_days()),
        at=at,
    )


# --- 3. send ----------------------------------------------------------------------------------


def connection():
    """The marketing mail connection: ``settings.SC_MAILING_EMAIL_BACKEND`` (with
    ``SC_MAILING_EMAIL_OPTIONS``) when set, else the default mailer (SMTP, or an ESP through
    django-anymail)."""
    path = getattr(settings, "SC_MAILING_EMAIL_BACKEND", "")
    if path:
        return import_string(path)(**getattr(settings, "SC_MAILING_EMAIL_OPTIONS", {}))
    return mailers.default


def batch_send(
    *, campaign_id: int, size: int | None = None, conn=None, now: datetime | None = None
) -> BatchResult:
    """Claim and send one batch of the campaign's due messages (see the module docstring).
    ``conn``: the mail connection to hand the messages to (default ``connection()``); the demo
    passes a discarding one (record-only: built, signed and recorded, delivered nowhere).
    ``now``: the moment of the whole batch (the demo's history); by default each step reads
    the clock."""
    result = BatchResult()
    at = now
    now = now or clock.now()
    campaign = Campaign.objects.select_related("shop").get(pk=campaign_id)
    if campaign.status != CampaignStatus.SENDING or sending_paused(campaign.shop):
        return result
    try:
        sender = sender_for(campaign.shop)
    except DomainError as exc:
        if str(getattr(exc, "code", "")) not in {"401", "domain_not_verified"}:
            raise
        # SPEC M-10: 401 — nothing leaves until the domain verifies (DNS can take 48 h).
        Message.objects.filter(
            campaign_id=campaign.pk, state=MessageState.QUEUED, due_at__lte=now
        ).update(
            error_code=E_DOMAIN, error_detail=exc.message[:500], due_at=now + timedelta(hours=1)
        )
        return result
    if sender.dkim is not None:
        from mailing import dkim

        # The domain's key decrypted and parsed once for the batch (held in memory only).
        sender = dataclasses.replace(sender, signer=dkim.KeySigner(sender.dkim))
    token = uuid.uuid4()
    skipped: list[int] = []
    ids = _claim(campaign, size=size or rules.batch_size(), token=token, now=now, skipped=skipped)
    result.claimed, result.skipped = len(ids), len(skipped)
    if not ids:
        # Nothing to hand over (an empty audience, the last due rows skipped as suppressed):
        # the campaign may be over — nothing else would notice, as no message is due any more.
        _finish_if_done(campaign.pk, now=at)
        return result
    contents = _contents(campaign)
    brand = brand_for(campaign.shop)
    numbers = SendNumbers.read()
    conn = conn if conn is not None else connection()
    try:
        conn.open()
    except (OSError, smtplib.SMTPException) as exc:
        log.warning("campaign %s: mail server unreachable: %s", campaign.pk, exc)
        result.released = _release(token, ids, campaign.shop_id, retry=True)
        return result
    renders: dict = {}  # each (content, language) rendered once per batch
    pending = _Pending()

    def prepare(m: Message) -> Built | DomainError:
        return _prepare(campaign, m, sender, contents, brand, renders, now=at)

    builder = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mail-build")
    try:
        rows = list(Message.objects.filter(pk__in=ids, claim_token=token).order_by("id"))
        queue: deque = deque()
        upcoming = iter(rows)

        def top_up() -> None:
            while len(queue) < BUILD_AHEAD:
                row = next(upcoming, None)
                if row is None:
                    return
                queue.append((row, builder.submit(_build, prepare, row)))

        top_up()
        while queue:
            message, future = queue.popleft()
            current = future.result()
            top_up()
            outcome = _send_one(
                conn,
                campaign,
                message,
                sender,
                contents,
                token,
                brand,
                numbers,
                renders=renders,
                pending=pending,
                built=current,
                now=at,
            )
            setattr(result, outcome, getattr(result, outcome) + 1)
            if message.error_code is not None:
                result.codes[message.error_code] = result.codes.get(message.error_code, 0) + 1
            if outcome == "unknown":
                break  # the connection is in an unknown state: hand the rest back
    finally:
        builder.shutdown(wait=True, cancel_futures=True)
        pending.flush(token, numbers.dedupe_hours)
        try:
            conn.close()
        except Exception:
            log.debug("closing the mail connection failed", exc_info=True)
        result.released += _release(token, ids, campaign.shop_id, retry=False, now=at)
    _finish_if_done(campaign.pk, now=at)
    log.info(
        "campaign %s batch: claimed %s sent %s retried %s failed %s unknown %s",
        campaign.pk,
        result.claimed,
        result.sent,
        result.retried,
        result.failed,
        result.unknown,
    )
    return result


def _refuse_query(execute, sql, params, many, context):
    raise RuntimeError("A message is built from what the batch read: no query on the build thread.")


def _build(prepare: Callable[[Message], Built | DomainError], message: Message):
    """``prepare(message)`` on the batch's build thread. Everything it needs was read before
    the batch; a query would open a second connection outside the batch's view, so it is
    refused (loudly: the batch stops and hands its rows back)."""
    try:
        with db.execute_wrapper(_refuse_query):
            return prepare(message)
    finally:
        if db.connection is not None:
            db.close()


def _contents(campaign: Campaign) -> dict[tuple[str, str], CampaignContent]:
    return {(c.variant, c.language): c for c in campaign.contents.all()}


def pick_content(
    contents: dict[tuple[str, str], CampaignContent], *, variant: str, language: str, default: str
) -> CampaignContent | None:
    """SPEC M-5: the recipient's language variant, else the campaign's default language."""
    for key in ((variant, language), (variant, default), ("A", language), ("A", default)):
        if key in contents:
            return contents[key]
    return next(iter(contents.values()), None)


def _smtp_code(exc: BaseException, rcpt: str) -> int | None:
    return _smtp_answer(exc, rcpt)[0]


_ENHANCED = re.compile(rb"\s*([245]\.\d{1,3}\.\d{1,3})\b")


def _smtp_answer(exc: BaseException, rcpt: str) -> tuple[int | None, str, str]:
    """The server's answer in a refusal: (code, stage, enhanced status code). The stage is
    "rcpt" (the recipient refused), "mail" (the sender), "data" (the message) or ""."""
    code: int | None = None
    text: bytes | str = b""
    stage = ""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        answer = exc.recipients.get(rcpt) or next(iter(exc.recipients.values()), None)
        if answer:
            code, text = int(answer[0]), answer[1]
        stage = "rcpt"
    elif isinstance(exc, smtplib.SMTPResponseException):
        code, text = int(exc.smtp_code), exc.smtp_error
        if isinstance(exc, smtplib.SMTPSenderRefused):
            stage = "mail"
        elif isinstance(exc, smtplib.SMTPDataError):
            stage = "data"
    raw = text.encode("utf-8", "replace") if isinstance(text, str) else bytes(text or b"")
    m = _ENHANCED.match(raw)
    return code, stage, m.group(1).decode() if m else ""


def _path(address: str) -> str:
    """``smtplib.quoteaddr`` (the reverse/forward path of MAIL and RCPT) without parsing the
    plain addresses the engine sends to (as ``quoteaddr`` turns them: ``<address>``)."""
    return f"<{address}>" if _PLAIN_ADDRESS.match(address) else smtplib.quoteaddr(address)


class _Transaction:
    """``smtplib.SMTP.sendmail`` in two steps, for Django's SMTP backend. ``open``: MAIL, RCPT
    and DATA (answered 354) — nothing is delivered yet: a server discards a transaction whose
    data never ended. ``deliver``: the data and its final dot — the message is handed over.
    The same answers raise the same exceptions as ``sendmail``. ``abort`` drops the connection
    of a transaction opened but not to be delivered (in DATA, nothing else can end it)."""

    def __init__(self, conn, built: Built) -> None:
        self.conn = conn
        self.smtp = conn.connection
        self.built = built
        self.opened = False
        self.error: BaseException | None = None

    @classmethod
    def for_conn(cls, conn, built: Built) -> _Transaction | None:
        smtp = getattr(conn, "connection", None) if isinstance(conn, SmtpBackend) else None
        if smtp is None or not built.envelope.isascii() or not all(a.isascii() for a in built.to):
            return None
        return cls(conn, built)

    def _fail(self, code: int) -> None:
        if code == 421:
            self.smtp.close()
        else:
            self.smtp._rset()

    def open(self) -> None:
        """MAIL, RCPT, DATA; an error is kept (raised by ``deliver``)."""
        try:
            smtp, built = self.smtp, self.built
            smtp.ehlo_or_helo_if_needed()
            sized = smtp.does_esmtp and smtp.has_extn("size")
            options = [f"size={len(built.data)}"] if sized else []
            smtp.putcmd("mail", f"FROM:{_path(built.envelope)}{''.join(' ' + o for o in options)}")
            code, resp = smtp.getreply()
            if code != 250:
                self._fail(code)
                raise smtplib.SMTPSenderRefused(code, resp, built.envelope)
            refused = {}
            for rcpt in built.to:
                smtp.putcmd("rcpt", f"TO:{_path(rcpt)}")
                code, resp = smtp.getreply()
                if code not in (250, 251):
                    refused[rcpt] = (code, resp)
                if code == 421:
                    smtp.close()
                    raise smtplib.SMTPRecipientsRefused(refused)
            if len(refused) == len(built.to):
                smtp._rset()
                raise smtplib.SMTPRecipientsRefused(refused)
            smtp.putcmd("data")
            code, resp = smtp.getreply()
            if code != 354:
                self._fail(code)
                raise smtplib.SMTPDataError(code, resp)
            self.opened = True
        except (smtplib.SMTPException, OSError) as exc:
            self.error = exc

    def deliver(self) -> None:
        if self.error is not None:
            raise self.error
        if not self.opened:
            self.open()
            if self.error is not None:
                raise self.error
        data = self.built.data
        if data[:1] == b"." or b"\n." in data:  # a line starting with a dot is doubled
            data = smtplib._quote_periods(data)  # type: ignore[attr-defined]
        if data[-2:] != b"\r\n":
            data += b"\r\n"
        self.smtp.send(data + b".\r\n")
        self.opened = False
        code, resp = self.smtp.getreply()
        if code != 250:
            self._fail(code)
            raise smtplib.SMTPDataError(code, resp)

    def abort(self) -> None:
        """Drop an opened transaction: the connection closes (the server discards the
        unfinished data) and a new one is opened for the batch's next messages."""
        if not self.opened:
            return
        self.opened = False
        self.smtp.close()
        self.conn.connection = None
        self.conn.open()


def _hand_over(conn, built: Built):
    """Give the message to the mail server. Django's SMTP backend: its open connection's
    ``sendmail`` with the signed bytes, as the backend itself would do (minus rebuilding the
    addresses it would find unchanged); other mailers (ESP, locmem): ``send_messages`` with the
    message as a Django email, which is returned."""
    smtp = getattr(conn, "connection", None) if isinstance(conn, SmtpBackend) else None
    if smtp is not None and built.envelope.isascii() and all(a.isascii() for a in built.to):
        smtp.sendmail(built.envelope, built.to, built.data)
        return None
    email = built.email
    conn.send_messages([email])
    return email


def _prepare(
    campaign: Campaign,
    message: Message,
    sender: Sender,
    contents: dict,
    brand,
    renders,
    *,
    now: datetime | None = None,
) -> Built | DomainError:
    """The message built and signed, or why it cannot be (recorded when its turn comes)."""
    content = pick_content(
        contents,
        variant=message.variant,
        language=message.language,
        default=campaign.default_language,
    )
    try:
        if content is None:
            raise DomainError("The campaign has no content.", code="lint")
        return build_message(
            campaign, message, sender, content, brand=brand, renders=renders, now=now
        )
    except DomainError as exc:
        return exc


def _send_one(
    conn,
    campaign: Campaign,
    message: Message,
    sender: Sender,
    contents: dict,
    token: uuid.UUID,
    brand=None,
    numbers: SendNumbers | None = None,
    renders: dict | None = None,
    pending: _Pending | None = None,
    built: Built | DomainError | None = None,
    now: datetime | None = None,
) -> str:
    """Send one claimed message (``built``: already built, else built here)."""
    at = now
    now = now or clock.now()
    numbers = numbers or SendNumbers.read()
    if built is None:
        built = _prepare(campaign, message, sender, contents, brand, renders, now=at)
    if isinstance(built, DomainError):
        _record(
            message,
            token,
            state=MessageState.FAILED,
            code=E_CONTENT,
            detail=built.message,
            now=now,
        )
        return "failed"
    # Committed before the message is handed over: a worker that dies from here on leaves the
    # row 'sending', which recovery turns into 'unknown' (never resent). While the database
    # commits, the SMTP transaction is opened (MAIL, RCPT, DATA: nothing delivered yet).
    transaction_ = _Transaction.for_conn(conn, built)

    def while_committing() -> None:
        if transaction_ is not None:
            transaction_.open()

    try:
        moved = _mark_sending(message, token, now, pending, numbers.dedupe_hours, while_committing)
    except BaseException:
        if transaction_ is not None:
            transaction_.abort()
        raise
    if not moved:
        if transaction_ is not None:
            transaction_.abort()
        return "released"  # recovered meanwhile by someone else: not ours any more
    _before_send(message)
    try:
        if transaction_ is not None:
            transaction_.deliver()
            handed = None
        else:
            handed = _hand_over(conn, built)
    except (smtplib.SMTPRecipientsRefused, smtplib.SMTPResponseException) as exc:
        answered, stage, enhanced = _smtp_answer(exc, message.email)
        code = answered or 451
        detail = str(exc)[:500]
        if rules.is_hard_failure(code):
            # SPEC M-10: a permanent refusal fails the message (not billed, M-9). Only the
            # recipient's refusal (at RCPT, or 5.1.x: unknown/rejected address) quarantines
            # the address 30 days (M-3); a refused sender or content does not.
            _record(
                message,
                token,
                state=MessageState.FAILED,
                code=code,
                detail=detail,
                bounce=BounceKind.HARD,
                now=now,
            )
            if rules.quarantines(code=code, stage=stage, enhanced=enhanced):
                suppress_hard_bounce(
                    shop=campaign.shop,
                    email=message.email,
                    source=f"campaign:{campaign.pk}",
                    at=now,
                )
            return "failed"
        return _retry(message, token, code, detail, now, numbers)
    except (TimeoutError, smtplib.SMTPServerDisconnected, OSError) as exc:
        return _unknown(message, token, str(exc)[:500])
    # django-anymail's per-recipient answer
    status = getattr(handed, "anymail_status", None) if handed is not None else None
    if (
        status is not None
        and getattr(status, "status", None)
        and status.status <= {"rejected", "invalid"}
    ):
        # The ESP refused the recipient (invalid, or on its own suppression list): SPEC M-10
        # 550 recipient rejected → quarantined 30 days (M-3), as a refusal at RCPT.
        _record(
            message,
            token,
            state=MessageState.FAILED,
            code=550,
            detail="Rejected by the ESP.",
            bounce=BounceKind.HARD,
            now=now,
        )
        suppress_hard_bounce(
            shop=campaign.shop, email=message.email, source=f"campaign:{campaign.pk}", at=now
        )
        return "failed"
    _after_send(message)
    if pending is None:
        _record_sent(message, token, now, numbers.dedupe_hours)
    else:
        # Recorded with the next message's 'sending' mark (one statement), or at the batch's end.
        pending.message, pending.at = message, now
    message.error_code = None
    return "sent"
