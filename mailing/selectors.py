"""Reads of the marketing-email module."""

from datetime import datetime, timedelta

from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core import clock, fx
from core.checks import Check
from core.errors import DomainError
from orders.selectors import gmv_30d
from shops.models import Shop
from shops.selectors import serious_violations

from . import rules


def eligibility_checks(
    *, shop: Shop, at: datetime | None = None, violations: int | None = None
) -> list[Check]:
    """SPEC M-1: shop open long enough, 30-day GMV, store rating, no serious violation.
    ``violations``: the serious violations in the window when the caller counted them already
    (the home tile, in its one query)."""
    at = at or clock.now()
    checks = []

    min_days = rules.min_shop_age_days()
    age = (at - shop.opened_at).days
    old_enough = age >= min_days
    ready_on = timezone.localtime(shop.opened_at + timedelta(days=min_days), clock.platform_tz())
    checks.append(
        Check(
            code="m1_shop_age",
            label=_("Shop open for at least %(days)s days") % {"days": min_days},
            passed=old_enough,
            measured=ngettext("%(n)s day", "%(n)s days", age)
            % {"n": formats.number_format(age, force_grouping=True)},
            required=_("≥ %(n)s days")
            % {"n": formats.number_format(min_days, force_grouping=True)},
            fix=""
            if old_enough
            else _("Nothing to do but wait: your shop meets this condition on %(date)s.")
            % {"date": formats.date_format(ready_on, "DATE_FORMAT")},
        )
    )

    # GMV compared as integer minor units of one currency (never floats).
    # A floor in another currency is converted at today's rate of the dated table (SPEC §0),
    # rounded up: the shop meets at least the floor itself.
    threshold = rules.min_gmv_30d()
    gmv = gmv_30d(shop=shop, at=at)
    try:
        floor = fx.convert(threshold, gmv.currency, on=clock.natural_day(at), rounding="up")
    except fx.FxRateMissing:
        floor = None
    if floor is not None:
        ok = gmv >= floor
        required = f"≥ {floor.format()}"
        if floor.currency != threshold.currency:
            required += f" ({threshold.format()})"
        checks.append(
            Check(
                code="m1_gmv",
                label=_("30-day GMV"),
                passed=ok,
                measured=gmv.format(),
                required=required,
                detail=""
                if ok
                else _("%(short)s more GMV needed") % {"short": (floor - gmv).format()},
                fix=""
                if ok
                else _(
                    "Grow your sales: join a marketing activity such as a Flash Deal or a "
                    "coupon event to bring more buyers to your products."
                ),
                fix_url="" if ok else reverse("activities:index"),
                fix_link="" if ok else _("Marketing activities"),
            )
        )
    else:
        # No rate applies today: say so rather than guess.
        checks.append(
            Check(
                code="m1_gmv",
                label=_("30-day GMV"),
                passed=None,
                measured=gmv.format(),
                required=f"≥ {threshold.format()}",
                detail=_(
                    "No %(from)s→%(to)s exchange rate is configured, "
                    "so this cannot be compared yet."
                )
                % {"from": gmv.currency, "to": threshold.currency},
                fix=_(
                    "Ask the platform team to add the exchange rate (Django admin → Exchange "
                    "rates); the check then "
                    "runs on its own."
                ),
            )
        )

    min_rating = rules.min_store_rating()
    checks.append(
        Check(
            code="m1_store_rating",
            label=_("Store rating"),
            passed=shop.store_rating >= min_rating,
            measured=f"{shop.store_rating:.2f}",
            required=f"≥ {min_rating}",
            fix=""
            if shop.store_rating >= min_rating
            else _(
                "Your rating follows your buyers' reviews: ship paid orders on time and answer "
                "buyers quickly."
            ),
            fix_url=""
            if shop.store_rating >= min_rating
            else f"{reverse('orders:list')}?status=paid",
            fix_link="" if shop.store_rating >= min_rating else _("Orders waiting to ship"),
        )
    )

    window = rules.violation_window_days()
    n = serious_violations(shop=shop, days=window, at=at) if violations is None else violations
    checks.append(
        Check(
            code="m1_violations",
            label=_("No serious violation in the last %(days)s days") % {"days": window},
            passed=n == 0,
            measured=ngettext("%(n)s serious violation", "%(n)s serious violations", n) % {"n": n},
            required="0",
            fix=""
            if n == 0
            else ngettext(
                "This condition passes again once the violation is older than %(days)s days; "
                "if it was recorded in error, appeal it with marketplace seller support.",
                "This condition passes again once the violations are older than %(days)s days; "
                "if one was recorded in error, appeal it with marketplace seller support.",
                n,
            )
            % {"days": window},
        )
    )
    return checks


# --- set-up (M-2) ---------------------------------------------------------------------------------


class SenderDomainNotVerified(DomainError):
    """SPEC M-10 error 401: the shop's sender domain is not verified (DNS can take up to 48 h).
    ``code`` is ``"401"``; ``domain`` is the SenderDomain concerned (``None`` when the shop has
    not enabled marketing email or has no domain of the chosen kind)."""

    code = "401"
    send_code = 401

    def __init__(self, message: str, *, domain=None) -> None:
        super().__init__(message)
        self.domain = domain


def mailing_account(*, shop: Shop):
    """The shop's MailingAccount, or ``None`` before it enabled marketing email (M-1)."""
    from .models import MailingAccount

    return MailingAccount.objects.filter(shop=shop).first()


def sender_domains(*, shop: Shop) -> dict:
    """kind → SenderDomain of the shop (one query)."""
    from .models import SenderDomain

    return {d.kind: d for d in SenderDomain.objects.filter(shop=shop)}


def sending_identity(shop: Shop) -> tuple[str, object]:
    """SPEC M-2 a, M-10: ``(from_address, sender_domain)`` for the shop's messages, or raises
    ``SenderDomainNotVerified`` (code ``"401"``, "sender domain not verified").

    ``from_address`` is the complete ``From`` header value, ``"Sender name"
    <news@domain>`` (``SC_MAILING_FROM_LOCAL_PART``), with the display name on one line (no
    header injection possible) and RFC 2047-encoded when not ASCII. ``sender_domain`` is the
    ``SenderDomain`` to sign with (``mailing.dkim.sign``). Two queries."""
    from email.headerregistry import Address
    from email.utils import formataddr

    from django.conf import settings

    from .models import BrandProfile, DomainKind, MailingAccount, SenderDomain
    from .rendering import header_safe

    account = MailingAccount.objects.filter(shop=shop).first()
    if account is None:
        raise SenderDomainNotVerified("Marketing email is not enabled for this shop.")
    domain = SenderDomain.objects.filter(shop=shop, kind=account.sender_kind).first()
    if domain is None and account.sender_kind == DomainKind.OWN:
        raise SenderDomainNotVerified("Sender domain not verified: no own domain entered.")
    if domain is None or not domain.is_verified:
        raise SenderDomainNotVerified(
            f"Sender domain not verified: {domain.domain if domain else '-'} "
            "(DNS changes can take up to 48 hours).",
            domain=domain,
        )
    brand = BrandProfile.objects.filter(shop=shop).only("sender_name").first()
    name = header_safe((brand.sender_name if brand else "") or shop.name, limit=80)
    address = Address(username=settings.SC_MAILING_FROM_LOCAL_PART, domain=domain.domain).addr_spec
    return formataddr((name, address), charset="utf-8"), domain


def brand_for_shop(*, shop: Shop):
    from .models import BrandProfile

    return BrandProfile.objects.filter(shop=shop).select_related("logo").first()


def footer_problems(*, shop: Shop, brand=None) -> list[str]:
    """SPEC M-7: what the mandatory footer still misses (physical address, customer-service
    phone); the unsubscribe link is always generated. ``[]`` when complete."""
    brand = brand if brand is not None else brand_for_shop(shop=shop)
    problems = []
    if brand is None or not brand.physical_address.strip():
        problems.append(_("The physical address (as on the business licence) is missing."))
    if brand is None or not brand.service_phone.strip():
        problems.append(_("The customer-service phone is missing."))
    return problems


def brand_problems(*, shop: Shop, brand=None, footer: bool = True) -> list[str]:
    """SPEC M-2 (b): what the brand profile still misses before a send — the logo, and (unless
    ``footer=False``: the M-7 lint checks it) the footer's physical address and
    customer-service phone (``footer_problems``). ``[]`` when complete."""
    brand = brand if brand is not None else brand_for_shop(shop=shop)
    logo = [] if brand is not None and brand.logo_id else [_("The logo is missing.")]
    return logo + (footer_problems(shop=shop, brand=brand) if footer else [])


def setup_checks(*, shop: Shop) -> list[Check]:
    """SPEC M-2: the three things needed before the first send, each with how to fix it."""
    from .models import DomainKind, MailTemplate

    account = mailing_account(shop=shop)
    domains = sender_domains(shop=shop)
    brand = brand_for_shop(shop=shop)
    kind = account.sender_kind if account else DomainKind.DEFAULT
    domain = domains.get(kind)
    checks = [
        Check(
            code="m2_domain",
            label=_("Sender domain"),
            passed=bool(domain and domain.is_verified),
            measured=(f"{domain.domain} ({domain.get_status_display()})" if domain else _("none")),
            required=_("verified"),
            fix=""
            if domain and domain.is_verified
            else _("Publish the DNS records shown on the sender domain page, then check again."),
            fix_url="" if domain and domain.is_verified else reverse("mailing:domain"),
            fix_link="" if domain and domain.is_verified else _("Sender domain"),
        )
    ]
    missing = brand_problems(shop=shop, brand=brand)
    brand_ok = not missing
    checks.append(
        Check(
            code="m2_brand",
            label=_("Brand logo, physical address and customer-service phone"),
            passed=brand_ok,
            measured=_("complete") if brand_ok else " ".join(str(m) for m in missing),
            required=_("complete"),
            fix="" if brand_ok else _("Fill in the brand profile."),
            fix_url="" if brand_ok else reverse("mailing:brand"),
            fix_link="" if brand_ok else _("Brand profile"),
        )
    )
    n = MailTemplate.objects.filter(shop=shop).count()
    checks.append(
        Check(
            code="m2_template",
            label=_("A first template"),
            passed=n > 0,
            measured=ngettext("%(n)s template", "%(n)s templates", n) % {"n": n},
            required="≥ 1",
            fix="" if n else _("Start from one of the 12 built-in templates."),
            fix_url="" if n else reverse("mailing:templates"),
            fix_link="" if n else _("Templates"),
        )
    )
    return checks


def templates_for_shop(*, shop: Shop):
    from .models import MailTemplate

    return MailTemplate.objects.filter(shop=shop).order_by("-id")


def get_template_for_shop(*, shop: Shop, template_id: int):
    """The shop's template, or 404 (another shop's id is not found)."""
    from django.shortcuts import get_object_or_404

    from .models import MailTemplate

    return get_object_or_404(MailTemplate, shop=shop, pk=template_id)


# The audience's reads live in selectors_audience; the suppression check is asked for here too.
from .selectors_audience import is_suppressed  # noqa: E402, F401
