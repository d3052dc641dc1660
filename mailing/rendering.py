"""Sandboxed rendering of seller-editable email content (SPEC M-2 c, M-7).

Seller content never reaches a template engine. It is plain restricted HTML in which the only
dynamic parts are **merge tags** of the allow-list ``MERGE_TAGS`` (``{{ buyer.first_name }}``,
``{{ shop.name }}``, ``{{ coins.balance }}``, ``{{ unsubscribe_url }}`` …):

- a merge tag is replaced by the value found under that exact path in the ``context`` dict
  (nested dicts or flat dotted keys; only dict look-ups, never attributes, so nothing but the
  values the caller put there can be reached), HTML-escaped; a missing value renders empty;
- anything else between ``{{ }}``, and any ``{% %}`` or ``{# #}``, is refused
  (``TemplateRejected``, with every problem) when the content is saved and when it is rendered;
- the substituted HTML is then sanitised with nh3 (Ammonia): only the tags and attributes of
  ``ALLOWED_TAGS`` / ``ALLOWED_ATTRIBUTES``, links only to http(s)/mailto, no scripts, styles,
  event handlers or comments. A call-to-action button is ``<a class="sc-button" href="…">``.

The sanitised body is then placed in the platform's own layout (``mailing/email/layout.html``
and ``layout.txt``: logo, colours, and the footer every message carries — physical address,
customer-service phone, one-click unsubscribe link — which seller content cannot remove).

Public API (used by campaigns and dispatch)::

    render(template_variant_or_source, *, context: dict, language: str, brand=None)
        -> RenderedMessage(subject, html, text, preheader, language, footer_complete)

``template_variant_or_source`` is a ``MailTemplate`` (its variant in ``language``, else English,
else the first), a ``MailTemplateVariant`` or a ``TemplateSource``. ``context`` must carry
``unsubscribe_url``. ``brand`` defaults to the template's shop's ``BrandProfile``.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

import nh3
from django.core import signing
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .builtin_templates import footer_words

__all__ = [
    "MERGE_TAGS",
    "RenderedMessage",
    "TemplateRejected",
    "TemplateSource",
    "render",
    "sample_context",
    "validate_content",
]

# The allow-list: path → (what it is, a sample value for previews).
MERGE_TAGS: dict[str, tuple[Any, str]] = {
    "buyer.first_name": (gettext_lazy("The buyer's first name"), "Maria"),
    "buyer.name": (gettext_lazy("The buyer's full name"), "Maria Silva"),
    "shop.name": (gettext_lazy("Your shop's name"), "Your Shop"),
    "shop.url": (gettext_lazy("Your shop's storefront link"), "https://www.aliexpress.com/store/1"),
    "coins.balance": (gettext_lazy("The buyer's coin balance"), "1,200"),
    "coins.expiring": (gettext_lazy("Coins expiring soon"), "300"),
    "coins.expiry_date": (gettext_lazy("When those coins expire"), "2026-12-31"),
    "product.name": (gettext_lazy("A product's name"), "Wireless earbuds"),
    "product.url": (gettext_lazy("A product's link"), "https://www.aliexpress.com/item/1.html"),
    "product.price": (gettext_lazy("A product's price"), "US $19.99"),
    "order.number": (gettext_lazy("The buyer's order number"), "8101234567"),
    "order.status": (gettext_lazy("The order's status"), "shipped"),
    "order.tracking_url": (
        gettext_lazy("The order's tracking link"),
        "https://www.aliexpress.com/tracking/1",
    ),
    "cart.url": (gettext_lazy("The buyer's cart link"), "https://www.aliexpress.com/cart"),
    "offer.code": (gettext_lazy("A coupon code"), "SAVE10"),
    "offer.ends_at": (gettext_lazy("When the offer ends"), "2026-12-12"),
    "anniversary.years": (gettext_lazy("Years since the buyer's first order"), "2"),
    "unsubscribe_url": (gettext_lazy("The one-click unsubscribe link"), "#unsubscribe"),
}

ALLOWED_TAGS = {
    "a", "b", "blockquote", "br", "div", "em", "h1", "h2", "h3", "hr", "i", "img", "li", "ol",
    "p", "span", "strong", "table", "tbody", "td", "th", "thead", "tr", "u", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
}
ALLOWED_CLASSES = {"a": {"sc-button"}}
URL_SCHEMES = {"http", "https", "mailto"}
CTA_CLASS = "sc-button"

_TAG = re.compile(r"{{(.*?)}}", re.S)
_PATH = re.compile(r"^\s*([a-z_]+(?:\.[a-z_]+)?)\s*$")
_BLOCK = re.compile(r"{%|%}|{#|#}")
_HEADER_UNSAFE = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")

SUBJECT_MAX = 200


class TemplateRejected(ValueError):
    """Seller content that cannot be rendered: ``problems`` lists every reason."""

    code = "template_rejected"

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class TemplateSource:
    """Content not (yet) saved as a template: a built-in's, or a form's being previewed."""

    subject: str
    body: str
    preheader: str = ""
    language: str = "en"
    shop: Any = None


@dataclass(frozen=True)
class RenderedMessage:
    subject: str
    html: str
    text: str
    preheader: str = ""
    language: str = "en"
    footer_complete: bool = False  # the brand has a physical address and phone (M-7)


def validate_content(*parts: str) -> list[str]:
    """Every problem in ``parts`` (subject, preheader, body …): unknown merge tags and template
    syntax. ``[]`` when they are fine."""
    problems: list[str] = []
    for part in parts:
        if _BLOCK.search(part or ""):
            problem = _(
                "Template instructions (%(block)s) are not allowed: only merge tags such as "
                "%(example)s."
            ) % {"block": "{% … %}, {# … #}", "example": "{{ buyer.first_name }}"}
            if problem not in problems:
                problems.append(problem)
        for match in _TAG.finditer(part or ""):
            inner = match.group(1)
            path = _PATH.match(inner)
            if path is None or path.group(1) not in MERGE_TAGS:
                problem = _("Unknown merge tag %(tag)s. Use one of the listed merge tags.") % {
                    "tag": "{{" + inner[:40] + "}}"
                }
                if problem not in problems:
                    problems.append(problem)
        # A lone "{{" left open would otherwise pass through as text.
        rest = _TAG.sub("", part or "")
        if "{{" in rest or "}}" in rest:
            problem = _("A merge tag is not closed: write it as {{ shop.name }}.")
            if problem not in problems:
                problems.append(problem)
    return problems


def _lookup(context: dict, path: str) -> str:
    if path in context:
        value = context[path]
    else:
        value = context
        for part in path.split("."):
            if not isinstance(value, dict) or part not in value:
                return ""
            value = value[part]
    if value is None or isinstance(value, dict | list | tuple | set):
        return ""
    if not isinstance(value, str | int | float) and not hasattr(value, "as_tuple"):
        return ""  # only plain values (str, numbers, Decimal), never objects
    return str(value)


def _substitute(text: str, context: dict, *, escape: bool) -> str:
    def repl(match: re.Match) -> str:
        path = _PATH.match(match.group(1))
        value = _lookup(context, path.group(1)) if path else ""
        return html.escape(value, quote=True) if escape else value

    return _TAG.sub(repl, text)


def sanitise(body_html: str) -> str:
    """The body's HTML reduced to the allow-list (nh3)."""
    return nh3.clean(
        body_html,
        tags=ALLOWED_TAGS,
        clean_content_tags={"script", "style"},
        attributes=ALLOWED_ATTRIBUTES,
        allowed_classes=ALLOWED_CLASSES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener",
        strip_comments=True,
    )


def header_safe(value: str, *, limit: int = SUBJECT_MAX) -> str:
    """One line, no control characters (no header injection), at most ``limit`` characters."""
    return " ".join(_HEADER_UNSAFE.sub(" ", value or "").split())[:limit]


class _TextExtractor(HTMLParser):
    BLOCKS = {"p", "div", "h1", "h2", "h3", "li", "tr", "blockquote", "table", "ul", "ol"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.href: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in self.BLOCKS:
            self.parts.append("\n\n" if tag not in {"li", "tr"} else "\n")
        if tag == "li":
            self.parts.append("- ")
        elif tag == "br":
            self.parts.append("\n")
        elif tag == "hr":
            self.parts.append("\n----\n")
        elif tag == "a":
            self.href = attrs.get("href")
        elif tag == "img" and attrs.get("alt"):
            self.parts.append(f"[{attrs['alt']}]")

    def handle_endtag(self, tag):
        if tag == "a" and self.href:
            self.parts.append(f" ({self.href})")
            self.href = None
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data):
        self.parts.append(" ".join(data.split()) if data.strip() else (" " if data else ""))


def html_to_text(fragment: str) -> str:
    parser = _TextExtractor()
    parser.feed(fragment)
    parser.close()
    lines = [line.strip() for line in "".join(parser.parts).splitlines()]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _variant_of(template, language: str):
    variants = {v.language: v for v in template.variants.all()}
    return variants.get(language) or variants.get("en") or next(iter(variants.values()), None)


def _brand_for(shop):
    if shop is None:
        return None
    from .models import BrandProfile

    return BrandProfile.objects.filter(shop=shop).select_related("logo").first()


def logo_url(brand, *, public_base: str | None = None) -> str:
    """The public address of the brand's logo (a signed link: the file itself is stored
    privately; mail clients load it without logging in), under ``public_base`` (default
    ``SC_MAILING_PUBLIC_URL``; "" for a path). "" without a logo."""
    if brand is None or brand.logo_id is None:
        return ""
    from django.conf import settings

    token = signing.dumps(
        {"s": brand.shop_id, "f": str(brand.logo_id)}, salt="mailing.brand-logo", compress=True
    )
    base = settings.SC_MAILING_PUBLIC_URL if public_base is None else public_base
    return base.rstrip("/") + reverse("mailing:brand_logo", args=[token])


def _style_buttons(body_html: str, layout: dict) -> str:
    """Inline style for the call-to-action buttons (mail clients drop most <style>)."""
    colour = layout["primary_colour"]
    if not re.match(r"^#[0-9a-fA-F]{6}$", colour or ""):
        colour = "#e62e04"
    style = (
        f"display:inline-block;padding:12px 20px;background:{colour};color:#ffffff;"
        "text-decoration:none;border-radius:4px;"
    )
    return body_html.replace('<a class="sc-button"', f'<a class="sc-button" style="{style}"')


def render(
    template_variant_or_source,
    *,
    context: dict,
    language: str,
    brand=None,
    public_base: str | None = None,
) -> RenderedMessage:
    """Render a template for one recipient (see the module docstring). ``public_base`` is the
    base of the logo's link (default ``SC_MAILING_PUBLIC_URL``; "" for the seller's own
    preview, served from the same site). Raises
    ``TemplateRejected`` for content with template syntax or unknown merge tags, or a context
    without ``unsubscribe_url``."""
    from .models import MailTemplate, MailTemplateVariant

    source = template_variant_or_source
    shop = None
    if isinstance(source, MailTemplate):
        shop = source.shop
        variant = _variant_of(source, language)
        if variant is None:
            raise TemplateRejected([_("This template has no content in any language.")])
        source = variant
    if isinstance(source, MailTemplateVariant):
        shop = shop or source.template.shop
        subject, preheader, body, lang = (
            source.subject,
            source.preheader,
            source.body,
            source.language,
        )
    elif isinstance(source, TemplateSource):
        shop = source.shop
        subject, preheader, body, lang = (
            source.subject,
            source.preheader,
            source.body,
            source.language,
        )
    else:
        raise TypeError("render() takes a MailTemplate, MailTemplateVariant or TemplateSource.")

    problems = validate_content(subject, preheader, body)
    unsubscribe = _lookup(context, "unsubscribe_url")
    if not unsubscribe:
        problems.append(_("Every message needs its one-click unsubscribe link (unsubscribe_url)."))
    if problems:
        raise TemplateRejected(problems)

    if brand is None:
        brand = _brand_for(shop)
    shop_name = _lookup(context, "shop.name") or (shop.name if shop is not None else "")
    body_html = sanitise(_substitute(body, context, escape=True))
    rendered_subject = header_safe(_substitute(subject, context, escape=False))
    rendered_preheader = header_safe(_substitute(preheader, context, escape=False))
    words = footer_words(lang)
    layout = {
        "preheader": rendered_preheader,
        "subject": rendered_subject,
        "language": lang,
        "shop_name": shop_name,
        "logo_url": logo_url(brand, public_base=public_base),
        "primary_colour": brand.primary_colour if brand else "#e62e04",
        "background_colour": brand.background_colour if brand else "#f5f5f5",
        "address": brand.physical_address if brand else "",
        "phone": brand.service_phone if brand else "",
        "unsubscribe_url": unsubscribe,
        "words": words,
        "why": words["why"].format(shop=shop_name),
    }
    styled = mark_safe(_style_buttons(body_html, layout))  # noqa: S308 - sanitised by nh3
    html_out = render_to_string("mailing/email/layout.html", {**layout, "body": styled})
    text_out = render_to_string(
        "mailing/email/layout.txt", {**layout, "body": html_to_text(body_html)}
    )
    return RenderedMessage(
        subject=rendered_subject,
        html=html_out,
        text=text_out,
        preheader=rendered_preheader,
        language=lang,
        footer_complete=bool(brand and brand.footer_complete),
    )


def sample_context(shop=None) -> dict:
    """Sample values of every merge tag, for previews and test sends."""
    context = {path: str(sample) for path, (_label, sample) in MERGE_TAGS.items()}
    if shop is not None:
        context["shop.name"] = shop.name
    return context
