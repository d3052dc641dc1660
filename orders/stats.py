"""How each fact moves the daily figures (``ShopDailyStats``): one definition, used by the
services, the ingestion fast path and bulk seeding.

A ``Deltas`` collects additions per (shop, natural day); ``apply`` writes them in one
``INSERT … ON CONFLICT DO UPDATE SET x = x + excluded.x`` with the rows in (shop, day) order — the
one lock order every writer of these rows uses, so two transactions touching the same rows
(a payment and a refund, an event and the reconcile) queue instead of deadlocking.

Where a figure lands (SPEC E-3 reads them by natural day in the platform time zone):
* ``orders_created``, ``orders_cancelled``, ``orders_shipped`` and the ``status_*`` counts: the day
  the order was *placed* (each status change moves the order from its old status column to the new);
* ``orders_paid``, ``gmv_minor``: the day of payment; ``refunded_minor``: the day of the refund;
* feedback and review sums: the day they were posted;
* SPEC E-3 fulfilment facts — ``ship_on_time`` / ``ship_late`` (the order's shipping verdict,
  ``guards.scan_verdict`` / ``overdue_verdict``) and ``anomalies`` / ``anomalies_official`` (its
  parcel went quiet, ``guards.parcel_quiet``): the day the order was *placed*, so each rate's
  numerator and denominator are the same orders;
* ``activity_reviews`` / ``activity_reviews_negative`` (reviews of activity orders, and those
  ``guards.not_as_described`` with the registry's keyword list): the day they were posted.

Time decides two of those facts (a deadline passes, a parcel stays quiet): the hourly
``services.fulfilment_sweep`` records them, so the figures are complete up to its ``now``.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, datetime

from django.db import connection

from core import clock

from . import guards
from .models import OrderStatus, ShipVerdict, ShopDailyStats, status_field

S = OrderStatus
# The daily-figure column of each shipping verdict (undecided and void ones count nowhere).
VERDICT_FIELDS = {ShipVerdict.ON_TIME: "ship_on_time", ShipVerdict.LATE: "ship_late"}


def not_as_described_keywords() -> tuple[str, ...]:
    """SPEC E-3: the registry's "not as described" keywords (one per line). The registry entry
    is the activities module's; orders applies it when a review is posted, to keep the figure."""
    from constance import config

    raw = str(config.ACTIVITIES_NOT_AS_DESCRIBED_KEYWORDS)
    return tuple(k.strip() for k in raw.splitlines() if k.strip())


class Deltas:
    def __init__(self, *, keywords: tuple[str, ...] | None = None) -> None:
        self.rows: dict[tuple[int, date], Counter] = defaultdict(Counter)
        # Read from the registry at the first low-rated activity review (one query at most).
        self._keywords = keywords

    @property
    def keywords(self) -> tuple[str, ...]:
        if self._keywords is None:
            self._keywords = not_as_described_keywords()
        return self._keywords

    def add(self, shop_id: int, at: datetime, **figures: int) -> None:
        row = self.rows[(shop_id, clock.natural_day(at))]
        for name, value in figures.items():
            row[name] += value

    def move(self, shop_id: int, placed_at: datetime, old: str | None, new: str) -> None:
        """The order placed at ``placed_at`` changes status ``old`` → ``new``."""
        row = self.rows[(shop_id, clock.natural_day(placed_at))]
        if old:
            row[status_field(old)] -= 1
        row[status_field(new)] += 1

    # -- one method per fact --

    def created(self, *, shop_id: int, placed_at: datetime) -> None:
        self.add(shop_id, placed_at, orders_created=1)
        self.move(shop_id, placed_at, None, S.PENDING_PAYMENT)

    def paid(
        self, *, shop_id: int, placed_at: datetime, paid_at: datetime, amount_minor: int
    ) -> None:
        self.add(shop_id, paid_at, orders_paid=1, gmv_minor=amount_minor)
        self.move(shop_id, placed_at, S.PENDING_PAYMENT, S.PAID)

    def cancelled(self, *, shop_id: int, placed_at: datetime, was: str) -> None:
        self.add(shop_id, placed_at, orders_cancelled=1)
        self.move(shop_id, placed_at, was, S.CANCELLED)

    def shipped(self, *, shop_id: int, placed_at: datetime) -> None:
        self.add(shop_id, placed_at, orders_shipped=1)
        self.move(shop_id, placed_at, S.PAID, S.SHIPPED)

    def delivered(self, *, shop_id: int, placed_at: datetime) -> None:
        self.move(shop_id, placed_at, S.SHIPPED, S.DELIVERED)

    def completed(self, *, shop_id: int, placed_at: datetime) -> None:
        self.move(shop_id, placed_at, S.DELIVERED, S.COMPLETED)

    def refunded(
        self,
        *,
        shop_id: int,
        placed_at: datetime,
        refunded_at: datetime,
        amount_minor: int,
        was: str | None,
    ) -> None:
        """``was``: the status the order leaves when this refund makes it ``refunded`` (None when
        the refund is partial, or the order was cancelled and stays so)."""
        self.add(shop_id, refunded_at, refunded_minor=amount_minor)
        if was is not None:
            self.move(shop_id, placed_at, was, S.REFUNDED)

    def review(
        self,
        *,
        shop_id: int,
        posted_at: datetime,
        item: int,
        communication: int,
        shipping: int,
        rating: int,
        text: str,
        activity: bool,
    ) -> None:
        """``activity``: the reviewed order came through a marketing activity (SPEC E-3 counts
        negative reviews on activity SKUs only)."""
        negative = activity and guards.not_as_described(
            rating=rating, text=text, keywords=self.keywords if rating <= 2 else ()
        )
        self.add(
            shop_id,
            posted_at,
            reviews=1,
            dsr_item_as_described_sum=item,
            dsr_communication_sum=communication,
            dsr_shipping_sum=shipping,
            activity_reviews=int(activity),
            activity_reviews_negative=int(negative),
        )

    def verdict(self, *, shop_id: int, placed_at: datetime, old: str, new: str) -> None:
        """The order placed at ``placed_at`` changes shipping verdict ``old`` → ``new``."""
        row = self.rows[(shop_id, clock.natural_day(placed_at))]
        if old in VERDICT_FIELDS:
            row[VERDICT_FIELDS[ShipVerdict(old)]] -= 1
        if new in VERDICT_FIELDS:
            row[VERDICT_FIELDS[ShipVerdict(new)]] += 1

    def anomaly(self, *, shop_id: int, placed_at: datetime, official: bool) -> None:
        """The parcel of the order placed at ``placed_at`` went quiet (first time only)."""
        self.add(shop_id, placed_at, **{"anomalies_official" if official else "anomalies": 1})

    def feedback(self, *, shop_id: int, posted_at: datetime, positive: bool) -> None:
        self.add(shop_id, posted_at, feedback_total=1, feedback_positive=int(positive))

    # -- writing --

    def apply(self) -> None:
        apply(self)
        self.rows.clear()


FIGURES = tuple(
    f.column
    for f in ShopDailyStats._meta.concrete_fields
    if f.column not in {"id", "shop_id", "day"}
)


# From this many rows, PostgreSQL gets the rows as one array per column (``unnest``): a first
# sweep over a backlog or a bulk batch touches tens of thousands of shop-days, and a VALUES
# list of that size costs more to build and parse than to apply.
ARRAY_ROWS = 200


def apply(deltas: Deltas) -> None:
    """Add ``deltas`` to ShopDailyStats in one statement, rows in (shop, day) order."""
    found = statement(deltas)
    if found is not None:
        with connection.cursor() as cursor:
            cursor.execute(*found)


def statement(deltas: Deltas) -> tuple[str, list] | None:
    """``apply``'s statement and its parameters (``None``: nothing to add), for a caller that
    sends it with others in one round trip."""
    rows = [(key, c) for key, c in sorted(deltas.rows.items()) if any(c.values())]
    if not rows:
        return None
    bumped = sorted({name for _, c in rows for name, v in c.items() if v})
    qn = connection.ops.quote_name
    table = qn(ShopDailyStats._meta.db_table)
    cols = ", ".join(qn(f) for f in ("shop_id", "day", *FIGURES))
    updates = ", ".join(f"{qn(f)} = {table}.{qn(f)} + excluded.{qn(f)}" for f in bumped)
    conflict = f"ON CONFLICT ({qn('shop_id')}, {qn('day')}) DO UPDATE SET {updates}"
    if connection.vendor == "postgresql" and len(rows) >= ARRAY_ROWS:
        # the figures this batch moves as arrays, the others 0
        arrays = ", ".join(["%s::bigint[]", "%s::date[]"] + ["%s::bigint[]"] * len(bumped))
        names = ["shop_id", "day", *bumped]
        picked = ["r.shop_id", "r.day"] + [f"r.{f}" if f in bumped else "0" for f in FIGURES]
        sql = (
            f"INSERT INTO {table} ({cols}) "  # noqa: S608 - identifiers from the model
            f"SELECT {', '.join(picked)} FROM unnest({arrays}) "
            f"WITH ORDINALITY AS r({', '.join(names)}, n) ORDER BY n {conflict}"
        )
        params: list = [[k[0] for k, _c in rows], [k[1] for k, _c in rows]]
        params += [[c[f] for _k, c in rows] for f in bumped]
    else:
        width = 2 + len(FIGURES)
        values = ", ".join(["(" + ", ".join(["%s"] * width) + ")"] * len(rows))
        adapt = connection.ops.adapt_datefield_value
        params = []
        for (shop_id, day), c in rows:
            params += [shop_id, adapt(day), *(c[f] for f in FIGURES)]
        sql = f"INSERT INTO {table} ({cols}) VALUES {values} {conflict}"  # noqa: S608
    return sql, params
