"""Activities and enrolment (SPEC E-1) with the per-SKU pre-check (E-2)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from core import clock
from core.checks import Check, all_passed
from core.errors import DomainError
from core.money import Money
from shops.models import Shop, Sku
from shops.selectors import usable_carriers

from .. import rules
from ..models import Activity, ActivityKind, Enrolment, EnrolmentStatus


@dataclass(frozen=True)
class ActivityInput:
    kind: str
    name: str
    starts_at: datetime
    ends_at: datetime
    enrol_until: datetime
    description: str = ""
    min_discount_bp: int = 0
    max_stock_per_sku: int = 10_000


@transaction.atomic
def activity_create(data: ActivityInput) -> Activity:
    """An activity with its window and rules (SPEC E-1; admins create them)."""
    if data.kind not in ActivityKind.values:
        raise DomainError(f"Unknown activity kind {data.kind!r}.", code="invalid_kind")
    if not data.name.strip():
        raise DomainError("An activity needs a name.", code="invalid_name")
    if data.ends_at <= data.starts_at:
        raise DomainError("An activity must end after it starts.", code="invalid_window")
    if data.enrol_until > data.ends_at:
        raise DomainError("Enrolment must close before the activity ends.", code="invalid_window")
    if not 0 <= data.min_discount_bp <= 10000:
        raise DomainError("The minimum discount is 0-100%.", code="invalid_discount")
    if data.max_stock_per_sku < 1:
        raise DomainError("The stock cap must be at least 1.", code="invalid_stock")
    return Activity.objects.create(
        kind=data.kind,
        name=data.name.strip(),
        description=data.description,
        starts_at=data.starts_at,
        ends_at=data.ends_at,
        enrol_until=data.enrol_until,
        min_discount_bp=data.min_discount_bp,
        max_stock_per_sku=data.max_stock_per_sku,
    )


def _money(minor: int, currency: str) -> str:
    return str(Money(minor, currency))


def _stock_cover_check(*, sku: Sku, stock: int, elsewhere: int, percent: int) -> Check:
    """SPEC E-2: stock on hand covers ``percent`` of every unit the SKU commits at once —
    ``stock`` here plus ``elsewhere`` in the overlapping activities it is still enrolled in."""
    committed = stock + elsewhere
    need = rules.stock_cover_needed(committed=committed, percent=percent)
    ok = stock >= 1 and sku.stock >= need
    detail = fix = ""
    if sku.stock < need:
        if elsewhere:
            detail = _(
                "Stock %(have)s is below %(need)s: %(pct)s%% of %(total)s units committed at "
                "once (%(stock)s here and %(other)s in overlapping activities)."
            ) % {
                "have": sku.stock,
                "need": need,
                "pct": percent,
                "total": committed,
                "stock": stock,
                "other": elsewhere,
            }
        else:
            detail = _("Stock %(have)s is below %(need)s (%(pct)s%% of %(stock)s).") % {
                "have": sku.stock,
                "need": need,
                "pct": percent,
                "stock": stock,
            }
        most = sku.stock * 100 // percent - elsewhere  # the most units that still pass
        if most >= 1:
            fix = _("Restock this SKU or commit at most %(max)s units to the activity.") % {
                "max": most
            }
        else:
            fix = _(
                "Restock this SKU, or withdraw it from an overlapping activity: its other "
                "activities already commit all the stock it covers."
            )
    return Check(
        code="e2_stock_cover",
        label=_("Stock on hand covers %(pct)s%% of the activity stock") % {"pct": percent},
        passed=ok,
        measured=str(sku.stock),
        required=_("at least %(n)s") % {"n": need},
        detail=detail,
        fix=fix,
        fix_url=reverse("shops:products") if fix else "",
        fix_link=_("Products") if fix else "",
    )


def precheck_sku(
    *,
    activity: Activity,
    sku: Sku,
    price_minor: int,
    stock: int,
    carriers_ok: bool,
    coin_account_active: bool,
    exited: bool = False,
    committed_elsewhere: int = 0,
    cover_percent: int | None = None,
) -> list[Check]:
    """SPEC E-2 (and E-1 rules): each condition one SKU must meet to enter ``activity`` at
    ``price_minor`` with ``stock`` committed, passed or failed with its reason and the fix.
    What needs the database is handed in (``carriers_ok``, ``coin_account_active``, the units
    ``committed_elsewhere`` — ``selectors.stock_committed_elsewhere``); ``cover_percent``
    defaults to the registry's."""
    checks = []
    currency = sku.currency
    checks.append(
        _stock_cover_check(
            sku=sku,
            stock=stock,
            elsewhere=committed_elsewhere,
            percent=rules.stock_cover_percent() if cover_percent is None else cover_percent,
        )
    )
    checks.append(
        Check(
            code="e2_certified_carrier",
            label=_("A certified carrier enabled in logistics settings"),
            passed=carriers_ok,
            measured=_("yes") if carriers_ok else _("none"),
            required=_("at least one"),
            fix=""
            if carriers_ok
            else _(
                "Enable a certified carrier (such as AliExpress Standard Shipping) in your "
                "marketplace logistics settings."
            ),
        )
    )
    lowest = sku.lowest_price_30d_minor
    ceiling = lowest if lowest is not None else sku.price_minor
    price_ok = 0 < price_minor <= ceiling
    checks.append(
        Check(
            code="e2_lowest_price",
            label=_("Activity price at or below the 30-day lowest transacted price"),
            passed=price_ok,
            measured=_money(price_minor, currency),
            required=_("at most %(p)s") % {"p": _money(ceiling, currency)},
            detail=""
            if price_ok
            else _("%(price)s is above the 30-day lowest price %(low)s.")
            % {"price": _money(price_minor, currency), "low": _money(ceiling, currency)},
            fix=""
            if price_ok
            else _("Set an activity price of %(p)s or less.") % {"p": _money(ceiling, currency)},
        )
    )
    if activity.min_discount_bp:
        top = sku.price_minor * (10000 - activity.min_discount_bp) // 10000
        ok = price_minor <= top
        checks.append(
            Check(
                code="e1_min_discount",
                label=_("Discount the activity asks for"),
                passed=ok,
                measured=_money(price_minor, currency),
                required=_("at most %(p)s") % {"p": _money(top, currency)},
                fix=""
                if ok
                else _("Lower the activity price to %(p)s or less.") % {"p": _money(top, currency)},
            )
        )
    cap_ok = 1 <= stock <= activity.max_stock_per_sku
    checks.append(
        Check(
            code="e1_stock_cap",
            label=_("Activity stock within the activity's limit"),
            passed=cap_ok,
            measured=str(stock),
            required=_("1 to %(n)s") % {"n": activity.max_stock_per_sku},
            fix=""
            if cap_ok
            else _("Commit between 1 and %(n)s units.") % {"n": activity.max_stock_per_sku},
        )
    )
    if activity.kind == ActivityKind.COIN_EVENT:
        checks.append(
            Check(
                code="c10_coin_account",
                label=_("An active coin account"),
                passed=coin_account_active,
                measured=_("active") if coin_account_active else _("none or paused"),
                required=_("active"),
                fix=""
                if coin_account_active
                else _("Coin events are for shops with an active coin account: open one first."),
                fix_url="" if coin_account_active else reverse("coins:index"),
                fix_link="" if coin_account_active else _("Coins"),
            )
        )
    if exited:
        checks.append(
            Check(
                code="e8_reenrol",
                label=_("Re-enrolment conditions met after a forced exit"),
                passed=False,
                measured=_("not yet"),
                required=_("all conditions"),
                fix=_("See the re-enrolment self-check for what is left and when it can pass."),
                fix_url=reverse("activities:reenrol"),
                fix_link=_("Re-enrolment self-check"),
            )
        )
    return checks


def _open_for_enrolment(activity: Activity, now: datetime) -> None:
    if now >= activity.enrol_until or now >= activity.ends_at:
        raise DomainError("Enrolment in this activity has closed.", code="enrolment_closed")


@transaction.atomic
def enrolment_create(
    *,
    shop: Shop,
    activity: Activity,
    sku: Sku,
    activity_price_minor: int,
    stock: int,
    now: datetime | None = None,
) -> Enrolment:
    """Enrol ``sku`` of ``shop`` (SPEC E-1) if every pre-check passes (E-2); otherwise raise
    ``DomainError`` naming the first failed condition — nothing written."""
    from coins.selectors import account_active

    from ..selectors import reenrolment_blocked, stock_committed_elsewhere

    now = now or clock.now()
    if sku.shop_id != shop.pk:
        raise DomainError("This SKU belongs to another shop.", code="foreign_sku")
    _open_for_enrolment(activity, now)
    # SPEC E-2 counts the SKU's stock committed in overlapping activities: two enrolments of
    # one SKU at once must not each pass against the same stock, so they take turns here.
    Sku.objects.select_for_update().filter(pk=sku.pk).first()
    checks = precheck_sku(
        activity=activity,
        sku=sku,
        price_minor=activity_price_minor,
        stock=stock,
        carriers_ok=bool(usable_carriers(shop=shop)),
        coin_account_active=activity.kind != ActivityKind.COIN_EVENT or account_active(shop=shop),
        exited=reenrolment_blocked(shop=shop, at=now),
        committed_elsewhere=stock_committed_elsewhere(sku=sku, activity=activity, at=now),
    )
    if not all_passed(checks):
        failed = next(c for c in checks if c.passed is not True)
        raise DomainError(f"{failed.label}: {failed.detail or failed.fix}", code=failed.code)
    try:
        with transaction.atomic():
            return Enrolment.objects.create(
                activity=activity,
                shop=shop,
                sku=sku,
                activity_price_minor=activity_price_minor,
                currency=sku.currency,
                stock=stock,
                enrolled_at=now,
            )
    except IntegrityError:
        raise DomainError(
            "This SKU is already enrolled in the activity.", code="already_enrolled"
        ) from None


@transaction.atomic
def enrolment_withdraw(*, shop: Shop, enrolment_id: int, now: datetime | None = None) -> Enrolment:
    now = now or clock.now()
    enrolment = Enrolment.objects.select_for_update().filter(shop=shop, pk=enrolment_id).first()
    if enrolment is None:
        raise DomainError("No such enrolment.", code="not_found")
    if enrolment.status != EnrolmentStatus.ENROLLED:
        raise DomainError("This SKU has already left the activity.", code="not_enrolled")
    enrolment.status = EnrolmentStatus.WITHDRAWN
    enrolment.left_at = now
    enrolment.save(update_fields=["status", "left_at", "updated_at"])
    return enrolment
