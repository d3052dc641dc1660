"""Reads of marketplace facts. Functions that take an id also take the shop (404 across shops)."""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Count, Exists, F, Max, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import TruncDate
from django.http import Http404

from core import clock
from core.money import Money
from shops.models import Shop

from . import guards, stats
from .models import (
    PROGRESS_STATUSES,
    Cart,
    CartLine,
    Feedback,
    FeedbackKind,
    Order,
    OrderStatus,
    Refund,
    Review,
    Shipment,
    ShipVerdict,
    ShopDailyStats,
    status_field,
)


def get_order_for_shop(*, shop: Shop, order_id: int) -> Order:
    try:
        return (
            Order.objects.select_related("buyer", "shipment")
            .prefetch_related(
                "lines__sku__product", "payments", "refunds", "disputes", "shipment__events"
            )
            .get(pk=order_id, shop=shop)
        )
    except (Order.DoesNotExist, ValueError, TypeError):
        raise Http404("No such order in this shop.") from None


ORDER_SORTS = {
    "placed": ("placed_at", "id"),
    "-placed": ("-placed_at", "-id"),
    "amount": ("amount_paid_minor", "id"),
    "-amount": ("-amount_paid_minor", "-id"),
    "number": ("number", "id"),
    "-number": ("-number", "-id"),
}


# The columns order lists show: a list row needs neither the amounts breakdown nor the
# marketing references, so the list query carries a third of the order's columns.
ORDER_LIST_FIELDS = (
    "shop_id",
    "number",
    "status",
    "disputed",
    "currency",
    "amount_paid_minor",
    "refunded_minor",
    "payment_method",
    "placed_at",
    "buyer__external_id",
    "buyer__email",
    "buyer__phone",
    "buyer__country",
)


def orders_for_shop(
    *,
    shop: Shop,
    status: str = "",
    date_from: date | None = None,
    date_to: date | None = None,
    buyer: str = "",
    number: str = "",
    sort: str = "-placed",
    search_contacts: bool = False,
) -> QuerySet[Order]:
    """A shop's orders, filtered and sorted (ties broken by id, so keyset pages are stable).

    ``buyer`` matches the buyer id exactly; with ``search_contacts`` (a membership that may
    see buyers' contacts, ``Membership.can_see_buyer_contacts``) also an e-mail prefix or the
    exact phone. Without it a contact search would be an oracle for the contact (SPEC B-8).
    """
    qs = Order.objects.filter(shop=shop).select_related("buyer").only(*ORDER_LIST_FIELDS)
    if status:
        qs = qs.filter(status=status)
    if date_from:
        qs = qs.filter(placed_at__gte=clock.day_start(date_from))
    if date_to:
        qs = qs.filter(placed_at__lt=clock.day_start(date_to + timedelta(days=1)))
    if buyer:
        match = Q(buyer__external_id=buyer)
        if search_contacts:
            match |= Q(buyer__email__istartswith=buyer) | Q(buyer__phone=buyer)
        qs = qs.filter(match)
    if number:
        qs = qs.filter(number__istartswith=number)
    return qs.order_by(*ORDER_SORTS.get(sort, ORDER_SORTS["-placed"]))


def _rate(numerator: int, denominator: int) -> Decimal | None:
    if not denominator:
        return None
    return (Decimal(numerator) * 100 / Decimal(denominator)).quantize(Decimal("0.1"))


def _window(days: int, at: datetime | None) -> tuple[date, date]:
    today = clock.natural_day(at)
    return today - timedelta(days=days - 1), today


@dataclass(frozen=True)
class DsrAverages:
    item_as_described: Decimal | None
    communication: Decimal | None
    shipping: Decimal | None
    reviews: int


@dataclass(frozen=True)
class DayFigures:
    day: date
    orders_created: int
    orders_paid: int
    orders_cancelled: int
    gmv: Money


class DailyWindow:
    """A shop's pre-aggregated figures (ShopDailyStats) of its last ``days`` natural days.

    Read in one query of at most ``days`` rows, whatever the shop's volume; every figure
    below sums the trailing ``n`` days of it, so one window serves a whole dashboard.
    """

    def __init__(self, *, shop: Shop, days: int, at: datetime | None = None) -> None:
        self.shop = shop
        self.days = days
        self.start, self.end = _window(days, at)
        self.rows = {
            r.day: r
            for r in ShopDailyStats.objects.filter(shop=shop, day__range=(self.start, self.end))
        }

    def _last(self, n: int) -> list[ShopDailyStats]:
        if n > self.days:
            raise ValueError(f"this window holds {self.days} days, not {n}")
        first = self.end - timedelta(days=n - 1)
        return [r for d, r in self.rows.items() if d >= first]

    def total(self, field: str, n: int) -> int:
        return sum(getattr(r, field) for r in self._last(n))

    def gmv(self, n: int = 30) -> Money:
        """What buyers paid, less refunds (SPEC C-9: coin deductions are not GMV)."""
        return Money(
            self.total("gmv_minor", n) - self.total("refunded_minor", n), self.shop.currency
        )

    def cancel_rate(self, n: int = 30) -> Decimal | None:
        """Cancelled / created, in percent (orders by creation day)."""
        return _rate(self.total("orders_cancelled", n), self.total("orders_created", n))

    def positive_rate(self, n: int = 90) -> Decimal | None:
        """Positive / all feedback posted, in percent rounded to 0.1 (for display: a check
        against a minimum compares ``positive_feedback`` exactly, SPEC C-1(b))."""
        return _rate(self.total("feedback_positive", n), self.total("feedback_total", n))

    def positive_feedback(self, n: int = 90) -> tuple[int, int]:
        """(positive, all) feedback posted: the exact counts behind ``positive_rate``."""
        return self.total("feedback_positive", n), self.total("feedback_total", n)

    def dsr(self, n: int = 30) -> DsrAverages:
        """Average DSR scores of the reviews posted (SPEC E-8)."""
        count = self.total("reviews", n)

        def avg(field: str) -> Decimal | None:
            if not count:
                return None
            return (Decimal(self.total(field, n)) / count).quantize(Decimal("0.01"), ROUND_HALF_UP)

        return DsrAverages(
            avg("dsr_item_as_described_sum"),
            avg("dsr_communication_sum"),
            avg("dsr_shipping_sum"),
            count,
        )

    def status_counts(self, n: int = 30) -> dict[str, int]:
        """Orders placed in the window, by their current status."""
        return {s: self.total(status_field(s), n) for s in OrderStatus.values}

    def series(self, n: int = 30) -> list[DayFigures]:
        """One row per natural day, zero-filled (the dashboard charts)."""
        out = []
        for i in range(n):
            d = self.end - timedelta(days=n - 1 - i)
            r = self.rows.get(d)
            out.append(
                DayFigures(
                    day=d,
                    orders_created=r.orders_created if r else 0,
                    orders_paid=r.orders_paid if r else 0,
                    orders_cancelled=r.orders_cancelled if r else 0,
                    gmv=Money((r.gmv_minor - r.refunded_minor) if r else 0, self.shop.currency),
                )
            )
        return out


def order_count(*, shop: Shop, status: str = "") -> int:
    """All of a shop's orders, or those now in ``status``, from its daily figures.

    Exact as long as ShopDailyStats is in step (the services keep it so); a few hundred
    rows at most, where counting the orders themselves would scan an index of millions.
    """
    field = status_field(status) if status else "orders_created"
    return ShopDailyStats.objects.filter(shop=shop).aggregate(n=Sum(field))["n"] or 0


def positive_feedback_rate_90d(*, shop: Shop, at: datetime | None = None) -> Decimal | None:
    """Positive / all feedback posted in the last 90 natural days, in percent rounded to 0.1:
    for display. The SPEC C-1(b) check compares ``positive_feedback_90d`` exactly (a rounded
    94.97% reads 95.0%)."""
    return DailyWindow(shop=shop, days=90, at=at).positive_rate(90)


def positive_feedback_90d(*, shop: Shop, at: datetime | None = None) -> tuple[int, int]:
    """SPEC C-1(b): (positive, all) feedback posted in the last 90 natural days, for a check
    that compares the rate with its minimum exactly."""
    return DailyWindow(shop=shop, days=90, at=at).positive_feedback(90)


def gmv_30d(*, shop: Shop, at: datetime | None = None) -> Money:
    """GMV of the last 30 natural days: what buyers paid, less refunds (SPEC C-9, M-1)."""
    return DailyWindow(shop=shop, days=30, at=at).gmv(30)


def cancel_rate_30d(*, shop: Shop, at: datetime | None = None) -> Decimal | None:
    """Cancelled / created over the last 30 natural days, in percent (orders by creation day)."""
    return DailyWindow(shop=shop, days=30, at=at).cancel_rate(30)


def dsr_averages_30d(*, shop: Shop, at: datetime | None = None) -> DsrAverages:
    """Average DSR scores of reviews posted in the last 30 natural days (SPEC E-8)."""
    return DailyWindow(shop=shop, days=30, at=at).dsr(30)


def daily_series(*, shop: Shop, days: int = 30, at: datetime | None = None) -> list[DayFigures]:
    """One row per natural day of the window, zero-filled (the dashboard charts)."""
    return DailyWindow(shop=shop, days=days, at=at).series(days)


def status_counts(*, shop: Shop, days: int = 30, at: datetime | None = None) -> dict[str, int]:
    """Orders placed in the last ``days`` natural days, by their current status."""
    return DailyWindow(shop=shop, days=days, at=at).status_counts(days)


DAILY_FIGURES = tuple(
    f.name for f in ShopDailyStats._meta.concrete_fields if f.name not in {"id", "shop", "day"}
)


def daily_figures_from_orders(
    *, shop_ids: Iterable[int] | None = None, since: datetime | None = None
) -> dict[tuple[int, date], dict[str, int]]:
    """The ShopDailyStats figures recomputed from orders and refunds, by natural day."""
    tz = clock.platform_tz()
    out: dict[tuple[int, date], dict[str, int]] = defaultdict(
        lambda: dict.fromkeys(DAILY_FIGURES, 0)
    )
    orders = Order.objects.all()
    refunds = Refund.objects.all()
    feedback = Feedback.objects.all()
    reviews = Review.objects.all()
    if shop_ids is not None:
        ids = list(shop_ids)
        orders = orders.filter(shop_id__in=ids)
        refunds = refunds.filter(order__shop_id__in=ids)
        feedback = feedback.filter(shop_id__in=ids)
        reviews = reviews.filter(shop_id__in=ids)
    since_day = clock.natural_day(since) if since else None
    created = orders.annotate(d=TruncDate("placed_at", tzinfo=tz))
    if since_day:
        created = created.filter(d__gte=since_day)
    row: Any  # one name for the rows of five differently shaped queries
    for row in (
        created.values("shop_id", "d", "status")
        .annotate(
            n=Count("id"),
            shipped=Count("id", filter=Q(shipped_at__isnull=False)),
            on_time=Count("id", filter=Q(ship_verdict=ShipVerdict.ON_TIME)),
            late=Count("id", filter=Q(ship_verdict=ShipVerdict.LATE)),
            quiet=Count(
                "id", filter=Q(shipment__anomaly_at__isnull=False, shipment__official=False)
            ),
            quiet_official=Count(
                "id", filter=Q(shipment__anomaly_at__isnull=False, shipment__official=True)
            ),
        )
        .order_by()
    ):
        f = out[(row["shop_id"], row["d"])]
        f["orders_created"] += row["n"]
        f[status_field(row["status"])] = row["n"]
        if row["status"] == OrderStatus.CANCELLED:
            f["orders_cancelled"] = row["n"]
        f["orders_shipped"] += row["shipped"]
        f["ship_on_time"] += row["on_time"]
        f["ship_late"] += row["late"]
        f["anomalies"] += row["quiet"]
        f["anomalies_official"] += row["quiet_official"]
    paid = orders.filter(paid_at__isnull=False).annotate(d=TruncDate("paid_at", tzinfo=tz))
    if since_day:
        paid = paid.filter(d__gte=since_day)
    for row in (
        paid.values("shop_id", "d")
        .annotate(n=Count("id"), gmv=Sum("amount_paid_minor"))  # type: ignore[no-redef]
        .order_by()
    ):
        f = out[(row["shop_id"], row["d"])]
        f["orders_paid"] = row["n"]
        f["gmv_minor"] = row["gmv"] or 0
    ref = refunds.annotate(d=TruncDate("refunded_at", tzinfo=tz))
    if since_day:
        ref = ref.filter(d__gte=since_day)
    for row in ref.values("order__shop_id", "d").annotate(total=Sum("amount_minor")).order_by():
        out[(row["order__shop_id"], row["d"])]["refunded_minor"] = row["total"] or 0
    fb = feedback.annotate(d=TruncDate("posted_at", tzinfo=tz))
    if since_day:
        fb = fb.filter(d__gte=since_day)
    for row in (
        fb.values("shop_id", "d")
        .annotate(n=Count("id"), positive=Count("id", filter=Q(kind=FeedbackKind.POSITIVE)))
        .order_by()
    ):
        f = out[(row["shop_id"], row["d"])]
        f["feedback_total"] = row["n"]
        f["feedback_positive"] = row["positive"]
    rv = reviews.annotate(d=TruncDate("posted_at", tzinfo=tz))
    if since_day:
        rv = rv.filter(d__gte=since_day)
    for row in (
        rv.values("shop_id", "d")
        .annotate(
            n=Count("id"),
            item=Sum("dsr_item_as_described"),
            comm=Sum("dsr_communication"),
            ship=Sum("dsr_shipping"),
        )
        .order_by()
    ):
        f = out[(row["shop_id"], row["d"])]
        f["reviews"] = row["n"]
        f["dsr_item_as_described_sum"] = row["item"]
        f["dsr_communication_sum"] = row["comm"]
        f["dsr_shipping_sum"] = row["ship"]
    # SPEC E-3: reviews of activity orders, and the low-rated ones whose text matches the
    # keyword list (few: matched here, as ``stats.Deltas.review`` matches them when posted).
    on_activity = rv.filter(order__activity_id__isnull=False)
    for row in on_activity.values("shop_id", "d").annotate(n=Count("id")).order_by():
        out[(row["shop_id"], row["d"])]["activity_reviews"] = row["n"]
    keywords = None
    for row in on_activity.filter(rating__lte=2).values("shop_id", "d", "rating", "text"):
        if keywords is None:
            keywords = stats.not_as_described_keywords()
        if guards.not_as_described(rating=row["rating"], text=row["text"], keywords=keywords):
            out[(row["shop_id"], row["d"])]["activity_reviews_negative"] += 1
    return dict(out)


# --- the home dashboard ------------------------------------------------------------------------


def window_before(window: DailyWindow, days_back: int) -> DailyWindow:
    """The same window as it stood ``days_back`` days ago, read from the rows already loaded
    (no query): ``window_before(w, 30).gmv(30)`` is the previous 30 days' GMV."""
    if not 0 < days_back < window.days:
        raise ValueError(f"cannot shift a {window.days}-day window by {days_back} days")
    shifted = object.__new__(DailyWindow)
    shifted.shop = window.shop
    shifted.days = window.days - days_back
    shifted.start = window.start
    shifted.end = window.end - timedelta(days=days_back)
    shifted.rows = {d: r for d, r in window.rows.items() if d <= shifted.end}
    return shifted


@dataclass(frozen=True)
class ShipDeadlines:
    """Paid, unshipped orders against their 72-hour shipping deadline (SPEC E-3)."""

    due_soon: int  # the deadline falls within the next ``within`` hours
    overdue: int  # the deadline has passed
    hours: int  # the shipping deadline, hours from placement
    within: int  # the look-ahead, hours


def ship_deadlines(
    *, shop: Shop, within_hours: int = 24, at: datetime | None = None
) -> ShipDeadlines:
    """One aggregate over the (shop, status, -placed_at) index: the paid orders placed in the
    last 72 h (due soon when placed more than 72-24 h ago) and the older ones still unshipped."""
    now = at or clock.now()
    deadline = SHIP_WITHIN
    due_from = now - deadline  # placed before this: already late
    due_to = due_from + timedelta(
        hours=within_hours
    )  # placed before this: late within the look-ahead
    figures = Order.objects.filter(
        shop=shop, status=OrderStatus.PAID, shipped_at__isnull=True, placed_at__lt=due_to
    ).aggregate(
        overdue=Count("id", filter=Q(placed_at__lt=due_from)),
        due_soon=Count("id", filter=Q(placed_at__gte=due_from)),
    )
    return ShipDeadlines(
        due_soon=figures["due_soon"] or 0,
        overdue=figures["overdue"] or 0,
        hours=int(SHIP_WITHIN.total_seconds() // 3600),
        within=within_hours,
    )


def cancellations_to_cross(*, cancelled: int, created: int, threshold: Decimal) -> int | None:
    """How many more of the window's orders cancelled would take cancelled / created above
    ``threshold`` percent; 0 when it already is, None when even cancelling all would not."""
    if not created:
        return None
    # smallest k with (cancelled + k) * 100 > threshold * created
    limit = threshold * created / 100
    k = int(limit) + 1 - cancelled
    k = max(k, 0)
    return k if cancelled + k <= created else None


# --- Orders list: status tabs, ship-by deadline, export, top-bar search --------------------

# SPEC E-3: a paid order needs a valid tracking number within 72 h of its creation, or it
# counts toward the late-shipment rate (one number: ``guards.SHIP_WITHIN``).
SHIP_WITHIN = guards.SHIP_WITHIN
# Under this much time left the deadline is shown as urgent.
SHIP_SOON = timedelta(hours=24)


class ShipUrgency:
    OVERDUE = "overdue"
    SOON = "soon"
    OK = "ok"


@dataclass(frozen=True)
class ShipBy:
    at: datetime
    urgency: str
    left: timedelta  # negative once overdue


def ship_by(*, order: Order, now: datetime) -> ShipBy | None:
    """The shipping deadline of a paid, unshipped order (SPEC E-3), with its urgency; None
    for every other order (nothing to ship, or shipped already)."""
    if order.status != OrderStatus.PAID:
        return None
    at = order.placed_at + SHIP_WITHIN
    left = at - now
    if left <= timedelta(0):
        urgency = ShipUrgency.OVERDUE
    elif left < SHIP_SOON:
        urgency = ShipUrgency.SOON
    else:
        urgency = ShipUrgency.OK
    return ShipBy(at=at, urgency=urgency, left=left)


def order_tab_counts(*, shop: Shop) -> dict[str, int]:
    """Every order of the shop (``""``) and those in each status, from its daily figures in one
    aggregate over a few hundred rows, never a COUNT over the orders themselves."""
    fields = {"": "orders_created", **{s: status_field(s) for s in OrderStatus.values}}
    sums = ShopDailyStats.objects.filter(shop=shop).aggregate(
        **{f"n_{key or 'all'}": Sum(field) for key, field in fields.items()}
    )
    return {key: sums[f"n_{key or 'all'}"] or 0 for key in fields}


# An export reads the rows through a server-side cursor this many at a time: memory stays
# flat whatever the shop's size.
EXPORT_CHUNK = 2000


def orders_for_export(**filters: Any) -> Iterable[Order]:
    """The rows of ``orders_for_shop(**filters)``, streamed in chunks (one query)."""
    return orders_for_shop(**filters).iterator(chunk_size=EXPORT_CHUNK)


@dataclass(frozen=True)
class SearchHit:
    kind: str  # "order" | "buyer" | "sku"
    pk: int
    label: str
    detail: str


# Order numbers, buyer ids and SKU codes are at most 64 characters; an e-mail at most 254.
SEARCH_MAX_LENGTH = 64
SEARCH_CONTACT_MAX_LENGTH = 254


def search_shop(*, shop: Shop, q: str, search_contacts: bool = False) -> list[SearchHit]:
    """Exact matches of ``q`` in ``shop`` only: an order number, a buyer id (the marketplace's
    external id) of a buyer who ordered here, a SKU code. With ``search_contacts`` also the
    buyer's exact e-mail or phone; without it never (SPEC B-8: no oracle for a contact)."""
    from shops.models import Sku

    q = q.strip()
    if not q or len(q) > SEARCH_CONTACT_MAX_LENGTH or "\x00" in q:
        return []
    hits: list[SearchHit] = []
    if len(q) <= SEARCH_MAX_LENGTH:
        for o in Order.objects.filter(shop=shop, number__iexact=q).only("pk", "number")[:5]:
            hits.append(SearchHit("order", o.pk, o.number, ""))
        for s in (
            Sku.objects.filter(shop=shop, code__iexact=q)
            .select_related("product")
            .only("pk", "code", "product__title", "product_id")[:5]
        ):
            hits.append(SearchHit("sku", s.product_id, s.code, s.product.title))
    match = Q(buyer__external_id=q)
    if search_contacts:
        match |= Q(buyer__email__iexact=q) | Q(buyer__phone=q)
    buyer = (
        Order.objects.filter(match, shop=shop)
        .values_list("buyer_id", "buyer__external_id")
        .order_by()
        .first()
    )
    if buyer is not None:
        hits.append(SearchHit("buyer", buyer[0], buyer[1], ""))
    return hits


# --- figures for marketing modules' previews and reports (coins C-7 preview, C-11) ------------


@dataclass(frozen=True)
class OrderSetFigures:
    """Counts and sums over a set of a shop's orders (one aggregate query each)."""

    orders: int
    paid_minor: int  # amount paid, less refunds


def paid_orders_figures(
    *, shop: Shop, since: datetime, until: datetime, min_paid_minor: int = 0
) -> OrderSetFigures:
    """Orders paid in [since, until) whose amount paid is at least ``min_paid_minor``: one
    aggregate (index on shop + status; the window narrows it)."""
    row = Order.objects.filter(
        shop=shop, paid_at__gte=since, paid_at__lt=until, amount_paid_minor__gte=min_paid_minor
    ).aggregate(n=Count("id"), paid=Sum("amount_paid_minor"), refunded=Sum("refunded_minor"))
    return OrderSetFigures(row["n"], (row["paid"] or 0) - (row["refunded"] or 0))


def completed_orders_share(
    *, shop: Shop, since: datetime, until: datetime, share_bp: int, unit_minor: int
) -> tuple[int, int]:
    """Orders completed in [since, until), and the sum over them of ⌊(paid − refunded) ×
    ``share_bp`` / 10,000 / ``unit_minor``⌋ (each order rounded down, in SQL: integer division
    on both PostgreSQL and SQLite). One aggregate query."""
    from django.db.models import BigIntegerField, ExpressionWrapper, F

    per_order = ExpressionWrapper(
        (F("amount_paid_minor") - F("refunded_minor")) * share_bp / (10_000 * unit_minor),
        output_field=BigIntegerField(),
    )
    row = Order.objects.filter(
        shop=shop, completed_at__gte=since, completed_at__lt=until
    ).aggregate(n=Count("id"), units=Sum(per_order))
    return row["n"], int(row["units"] or 0)


def first_paid_buyers(
    *, shop: Shop, since: datetime, until: datetime, exclude_flagged: bool = True
) -> int:
    """Buyers whose first paid order in the shop was paid in [since, until) — a welcome
    grant's audience (SPEC C-7); ``exclude_flagged`` leaves out low-activity buyers and buyers in
    risk review. One grouped query counted in the database."""
    from django.db.models import Min

    qs = Order.objects.filter(shop=shop, paid_at__isnull=False)
    if exclude_flagged:
        qs = qs.filter(buyer__low_activity=False).exclude(buyer__risk_status="risk_review")
    firsts = (
        qs.values("buyer_id")
        .annotate(first=Min("paid_at"))
        .filter(first__gte=since, first__lt=until)
    )
    return firsts.count()


@dataclass(frozen=True)
class CoinUseComparison:
    """Orders placed in a window that deducted coins vs the others (SPEC C-11)."""

    coin_orders: int
    coin_paid_minor: int
    coin_refunded_orders: int
    other_orders: int
    other_paid_minor: int
    other_refunded_orders: int


def orders_by_coin_use(*, shop: Shop, since: datetime, until: datetime) -> CoinUseComparison:
    """Orders placed in [since, until), paid ones only, split by whether they deducted coins:
    count, amount paid, and how many were refunded. One aggregate query."""
    coin = Q(coin_deduction_coins__gt=0)
    refunded = Q(refunded_minor__gt=0)
    row = Order.objects.filter(
        shop=shop, placed_at__gte=since, placed_at__lt=until, paid_at__isnull=False
    ).aggregate(
        cn=Count("id", filter=coin),
        cp=Sum("amount_paid_minor", filter=coin),
        cr=Count("id", filter=coin & refunded),
        on=Count("id", filter=~coin),
        op=Sum("amount_paid_minor", filter=~coin),
        orf=Count("id", filter=~coin & refunded),
    )
    return CoinUseComparison(
        row["cn"], row["cp"] or 0, row["cr"], row["on"], row["op"] or 0, row["orf"]
    )


# --- SPEC E-3 metrics inputs (read by activities) ------------------------------------------------

# The daily figures the four metrics read, summed over a window.
METRIC_FIGURES = (
    "orders_created",
    "orders_cancelled",
    "ship_on_time",
    "ship_late",
    "orders_shipped",
    "anomalies",
    "anomalies_official",
    "activity_reviews",
    "activity_reviews_negative",
)
# The figures a carrier incident takes out (SPEC E-3a: late shipment and logistics anomaly).
EXEMPTED_FIGURES = (
    "ship_on_time",
    "ship_late",
    "orders_shipped",
    "anomalies",
    "anomalies_official",
)


@dataclass(frozen=True)
class IncidentWindow:
    """A declared carrier incident: orders of ``carrier`` to ``region`` ("" = any), placed in
    [starts_at, ends_at)."""

    carrier: str
    region: str
    starts_at: datetime
    ends_at: datetime

    def q(self, prefix: str = "") -> Q:
        q = Q(
            **{
                f"{prefix}logistics_service": self.carrier,
                f"{prefix}placed_at__gte": self.starts_at,
                f"{prefix}placed_at__lt": self.ends_at,
            }
        )
        if self.region:
            q &= Q(**{f"{prefix}country": self.region})
        return q

    def covers(self, *, carrier: str, country: str, placed_at: datetime) -> bool:
        return (
            carrier == self.carrier
            and (not self.region or country == self.region)
            and self.starts_at <= placed_at < self.ends_at
        )


def metric_window_sums(*, first_day: date, last_day: date) -> dict[int, dict[str, int]]:
    """Every shop's ``METRIC_FIGURES`` summed over natural days [first_day, last_day]: one
    ``GROUP BY`` over the daily figures (the (shop, day) unique index), never the orders."""
    rows: Any = (
        ShopDailyStats.objects.filter(day__gte=first_day, day__lte=last_day)
        .values("shop_id")
        .annotate(**{f"s_{f}": Sum(f) for f in METRIC_FIGURES})
        .order_by()
    )
    return {r["shop_id"]: {f: r[f"s_{f}"] or 0 for f in METRIC_FIGURES} for r in rows}


def _exempted_counts(orders: QuerySet[Order]) -> dict:
    return {
        "ship_on_time": Count("id", filter=Q(ship_verdict=ShipVerdict.ON_TIME)),
        "ship_late": Count("id", filter=Q(ship_verdict=ShipVerdict.LATE)),
        "orders_shipped": Count("id", filter=Q(shipped_at__isnull=False)),
        "anomalies": Count(
            "id", filter=Q(shipment__anomaly_at__isnull=False, shipment__official=False)
        ),
        "anomalies_official": Count(
            "id", filter=Q(shipment__anomaly_at__isnull=False, shipment__official=True)
        ),
    }


def incident_exemptions(
    *, incidents: Iterable[IncidentWindow], placed_from: datetime, placed_to: datetime
) -> dict[int, dict[str, int]]:
    """Per shop, what the orders inside declared carrier incidents (and the window) add to
    ``EXEMPTED_FIGURES`` — the evaluation subtracts it. One query, bounded by the incidents."""
    incidents = list(incidents)
    if not incidents:
        return {}
    q = Q()
    for incident in incidents:
        q |= incident.q()
    orders = Order.objects.filter(q, placed_at__gte=placed_from, placed_at__lt=placed_to)
    rows: Any = orders.values("shop_id").annotate(**_exempted_counts(orders)).order_by()
    return {r["shop_id"]: {f: r[f] for f in EXEMPTED_FIGURES} for r in rows}


def orders_behind(
    *,
    shop: Shop,
    metric: str,
    placed_from: datetime,
    placed_to: datetime,
    incidents: Iterable[IncidentWindow] = (),
    limit: int = 50,
) -> list[str]:
    """SPEC E-5 evidence: the numbers of the orders that make up a metric's numerator (newest
    first, at most ``limit``); orders inside a carrier incident are left out."""
    window = Q(placed_at__gte=placed_from, placed_at__lt=placed_to)
    orders = Order.objects.filter(shop=shop)
    if metric == "cancel":
        orders = orders.filter(window, cancelled_at__isnull=False)
    elif metric == "late_shipment":
        orders = orders.filter(window, ship_verdict=ShipVerdict.LATE)
    elif metric == "logistics_anomaly":
        orders = orders.filter(window, shipment__anomaly_at__isnull=False)
    elif metric == "negative_review":
        keywords = stats.not_as_described_keywords()
        reviews = Review.objects.filter(
            shop=shop,
            posted_at__gte=placed_from,
            posted_at__lt=placed_to,
            order__activity_id__isnull=False,
            rating__lte=2,
        ).values_list("order__number", "rating", "text")
        return [
            number
            for number, rating, text in reviews.order_by("-posted_at")[: limit * 4]
            if guards.not_as_described(rating=rating, text=text, keywords=keywords)
        ][:limit]
    else:
        raise ValueError(f"unknown metric {metric!r}")
    if metric != "cancel":
        for incident in incidents:
            orders = orders.exclude(incident.q())
    return list(orders.order_by("-placed_at").values_list("number", flat=True)[:limit])


def metric_figures_replayed(
    *,
    shop_id: int,
    placed_from: datetime,
    placed_to: datetime,
    at: datetime,
    keywords: Iterable[str],
    incidents: Iterable[IncidentWindow] = (),
) -> dict[str, int]:
    """SPEC E-3 replay: ``METRIC_FIGURES`` (less what incidents exempt) recomputed from the raw
    orders, scans and reviews as they stood at ``at`` — from the timestamps alone, not from the
    verdicts and marks the services and the sweep stored. One shop; for audits and tests."""
    keywords = tuple(keywords)
    incidents = list(incidents)
    out = dict.fromkeys(METRIC_FIGURES, 0)
    orders = (
        Order.objects.filter(
            shop_id=shop_id, placed_at__gte=placed_from, placed_at__lt=placed_to, placed_at__lte=at
        )
        .select_related("shipment")
        .prefetch_related("shipment__events")
    )
    for o in orders:
        out["orders_created"] += 1
        if o.cancelled_at is not None and o.cancelled_at <= at:
            out["orders_cancelled"] += 1
        exempt = any(
            i.covers(carrier=o.logistics_service, country=o.country, placed_at=o.placed_at)
            for i in incidents
        )
        if exempt:
            continue
        try:
            shipment = o.shipment
        except Shipment.DoesNotExist:
            shipment = None
        scans = sorted(
            (e for e in (shipment.events.all() if shipment else ()) if e.occurred_at <= at),
            key=lambda e: e.occurred_at,
        )
        deadline = o.placed_at + guards.SHIP_WITHIN
        if scans and scans[0].occurred_at <= deadline:
            out["ship_on_time"] += 1
        elif (
            o.paid_at is not None
            and o.paid_at <= at
            and deadline <= at
            and guards.overdue_verdict(placed_at=o.placed_at, cancelled_at=o.cancelled_at)
            == ShipVerdict.LATE
        ):
            out["ship_late"] += 1
        if shipment is None or shipment.shipped_at > at:
            continue
        out["orders_shipped"] += 1
        if _went_quiet(o, shipment, scans, at):
            out["anomalies_official" if shipment.official else "anomalies"] += 1
    reviews = Review.objects.filter(
        shop_id=shop_id,
        posted_at__gte=placed_from,
        posted_at__lt=placed_to,
        posted_at__lte=at,
        order__activity_id__isnull=False,
    ).values_list("rating", "text")
    for rating, text in reviews:
        out["activity_reviews"] += 1
        if guards.not_as_described(rating=rating, text=text, keywords=keywords):
            out["activity_reviews_negative"] += 1
    return out


def _went_quiet(order: Order, shipment: Shipment, scans: list, at: datetime) -> bool:
    """SPEC E-3: did the parcel go 72 h without an update or 5 days without progress, by
    ``at``? Scans in time order, then delivery, then the open spell of a parcel in transit."""
    last_event = last_progress = None
    for scan in scans:
        if guards.parcel_quiet(
            shipped_at=shipment.shipped_at,
            last_event_at=last_event,
            last_progress_at=last_progress,
            at=scan.occurred_at,
        ):
            return True
        last_event = scan.occurred_at
        if scan.status in PROGRESS_STATUSES:
            last_progress = scan.occurred_at
    if order.delivered_at is not None and order.delivered_at <= at:
        end = order.delivered_at
    elif order.refunded_at is not None and order.refunded_at <= at:
        end = order.refunded_at  # left transit without a delivery: the sweep stops watching
    else:
        end = at
    return guards.parcel_quiet(
        shipped_at=shipment.shipped_at,
        last_event_at=last_event,
        last_progress_at=last_progress,
        at=end,
    )


@dataclass(frozen=True)
class LogisticsLine:
    """One order as a post-mortem or an appeal names it (SPEC E-7): what it held, how it was
    shipped and what the carrier last said."""

    number: str
    placed_at: datetime
    sku_codes: list[str]
    carrier: str
    tracking_number: str
    shipped_at: datetime | None
    last_event_at: datetime | None
    anomaly_at: datetime | None
    ship_verdict: str
    cancelled: bool


def logistics_lines(*, shop: Shop, numbers: Iterable[str]) -> list[LogisticsLine]:
    """SPEC E-7: ``shop``'s orders with these numbers, in the order given (unknown numbers
    left out), with their SKUs and shipment. Two queries."""
    numbers = list(dict.fromkeys(numbers))
    if not numbers:
        return []
    orders = {
        o.number: o
        for o in Order.objects.filter(shop=shop, number__in=numbers)
        .select_related("shipment")
        .prefetch_related("lines__sku")
    }
    out = []
    for number in numbers:
        order = orders.get(number)
        if order is None:
            continue
        shipment = getattr(order, "shipment", None)
        out.append(
            LogisticsLine(
                number=order.number,
                placed_at=order.placed_at,
                sku_codes=sorted({line.sku.code for line in order.lines.all()}),
                carrier=shipment.carrier if shipment else order.logistics_service,
                tracking_number=shipment.tracking_number if shipment else order.tracking_number,
                shipped_at=shipment.shipped_at if shipment else order.shipped_at,
                last_event_at=shipment.last_event_at if shipment else None,
                anomaly_at=shipment.anomaly_at if shipment else None,
                ship_verdict=order.ship_verdict,
                cancelled=order.cancelled_at is not None,
            )
        )
    return out


# --- the mailing module's audience (SPEC B-8 seller CRM, M-4 segments) -------------------------


def buyer_summaries(*, shop: Shop, lean: bool = False) -> QuerySet:
    """One row per buyer with an order in ``shop`` (SPEC B-8): ``buyer_id``, the buyer's
    ``buyer_external_id``/``buyer_email``/``buyer_phone``/``buyer_country``/``buyer_site``/
    ``buyer_opt_in`` (marketing preference; with ``lean=True`` none of these: filter on
    ``buyer__email`` … instead), and over the buyer's orders here: ``orders`` (paid
    ones), ``spend_minor`` (paid less refunded, the shop's currency), ``last_order_at`` (last
    paid order placed), ``last_placed_at`` (any order), ``last_shipped_at``,
    ``last_delivered_at``.

    A values queryset: one GROUP BY over the ``order_shop_buyer`` index, so the caller filters
    (WHERE on buyer columns, HAVING on the figures), orders and counts it set-based."""
    paid = Q(paid_at__isnull=False)
    # Every buyer column is one more GROUP BY key: ``lean`` annotates none (a count filters on
    # ``buyer__…`` lookups, which stay in WHERE), so the GROUP BY is the buyer id alone.
    columns = (
        {}
        if lean
        else {
            "buyer_email": F("buyer__email"),
            "buyer_country": F("buyer__country"),
            "buyer_site": F("buyer__site"),
            "buyer_opt_in": F("buyer__marketing_email_opt_in"),
            "buyer_external_id": F("buyer__external_id"),
            "buyer_phone": F("buyer__phone"),
        }
    )
    return (
        Order.objects.filter(shop=shop)
        .values("buyer_id")
        .annotate(
            **columns,
            orders=Count("id", filter=paid),
            spend_minor=Sum(F("amount_paid_minor") - F("refunded_minor"), filter=paid, default=0),
            last_order_at=Max("placed_at", filter=paid),
            last_placed_at=Max("placed_at"),
            last_shipped_at=Max("shipped_at"),
            last_delivered_at=Max("delivered_at"),
        )
        .order_by()
    )


def cart_activity(*, shop: Shop, buyer_ref: OuterRef) -> Subquery:
    """SPEC M-4 abandoned cart: the last activity of the buyer's non-empty cart in ``shop``
    (NULL without one), as a subquery on ``buyer_ref`` (e.g. ``OuterRef("buyer_id")``)."""
    carts = Cart.objects.filter(shop=shop, buyer_id=buyer_ref).filter(
        Exists(CartLine.objects.filter(cart=OuterRef("pk")))
    )
    return Subquery(carts.values("last_activity_at")[:1])
