"""Order plans for the demo marketplace: who buys what, where, and what happens next.

One seeded ``random.Random`` drives everything, so a seed gives the same orders (numbers,
amounts, lifecycles) on every run; times are offsets from the run's "now". Plans are yielded
one at a time, so a million orders never sit in memory together.
"""

from __future__ import annotations

from bisect import bisect
from collections.abc import Iterator
from datetime import datetime, timedelta
from itertools import accumulate
from random import Random

from buyers.models import Buyer
from demo.bulk import (
    Cancel,
    Complete,
    Deliver,
    DisputeClose,
    DisputeOpen,
    FeedbackStep,
    OrderPlan,
    Pay,
    RefundStep,
    ReviewStep,
    Ship,
    Step,
    Track,
)
from orders.inputs import LineInput, OrderInput
from orders.models import DisputeOutcome, FeedbackKind, TrackingStatus
from shops.models import OFFICIAL_CARRIERS, Carrier

from . import catalog
from .world import BuyerInfo, Dist, ShopInfo

HOUR = 3600
DAY = 86400
LATE_AFTER = timedelta(hours=72)  # SPEC E-3: a valid tracking number within 72 h of creation
REVIEW_LANGUAGES = {site: spec[3] for site, spec in catalog.SITES.items()}
T = TrackingStatus
LINE_COUNT = Dist([(1, 78), (2, 17), (3, 5)])
QUANTITY = Dist([(1, 80), (2, 14), (3, 4), (5, 2)])
PAYMENT_METHOD = Dist(catalog.PAYMENT_METHODS)
DSR_SHIPPING_ON_TIME = Dist([(3, 5), (4, 25), (5, 70)])
DISPUTE_OUTCOME = Dist(
    [
        (DisputeOutcome.BUYER_WON, 40),
        (DisputeOutcome.SETTLED, 25),
        (DisputeOutcome.SELLER_WON, 20),
        (DisputeOutcome.WITHDRAWN, 15),
    ]
)


def _h(rng: Random, lo: float, hi: float) -> timedelta:
    return timedelta(seconds=int(rng.uniform(lo, hi) * HOUR))


def _d(rng: Random, lo: float, hi: float) -> timedelta:
    return timedelta(seconds=int(rng.uniform(lo, hi) * DAY))


class OrderPlanner:
    def __init__(
        self,
        *,
        rng: Random,
        shops: list[ShopInfo],
        buyers: list[BuyerInfo],
        now: datetime,
        window_days: int = 60,
    ) -> None:
        if not shops or not buyers:
            raise ValueError("orders need shops and buyers")
        self.rng = rng
        self.shops = shops
        self.now = now
        self.window = timedelta(days=window_days)
        # Power law across shops, scaled by the days each shop has been open in the window.
        self.shop_cum = list(
            accumulate(s.weight * max((now - s.active_from) / self.window, 0.02) for s in shops)
        )
        # Repeat customers: a few buyers order often, most once or twice.
        order = list(range(len(buyers)))
        rng.shuffle(order)
        self.buyers = [buyers[k] for k in order]
        self.buyer_cum = list(accumulate(1 / (k + 10) ** 0.7 for k in range(len(buyers))))
        self.number_base = rng.randrange(10**15, 2 * 10**15) // 1000 * 1000
        self.rating_dists: dict[str, Dist] = {}
        # One unsaved Buyer per buyer ordering (pk and country: all the order rows need).
        self._buyer_stubs: dict[int, Buyer] = {}

    def _ratings(self, profile) -> Dist:
        dist = self.rating_dists.get(profile.name)
        if dist is None:
            dist = self.rating_dists[profile.name] = Dist(
                zip(range(1, 6), profile.ratings, strict=True)
            )
        return dist

    def plans(self, count: int) -> Iterator[OrderPlan]:
        for i in range(count):
            yield self.plan(i)

    # --- one order -------------------------------------------------------------------------

    def plan(self, i: int) -> OrderPlan:
        rng, now = self.rng, self.now
        info = self.shops[bisect(self.shop_cum, rng.random() * self.shop_cum[-1])]
        info.order_count += 1
        shop = info.shop
        factor = catalog.CURRENCY_FACTOR_PERCENT.get(shop.currency, 100)
        span = (now - info.active_from).total_seconds()
        # Busier lately: ages are skewed towards now.
        placed_at = now - timedelta(seconds=max(60, int(span * rng.random() ** 1.15)))
        buyer = self._buyer(placed_at)
        if buyer.registered_at > placed_at:
            placed_at = min(buyer.registered_at + _h(rng, 0.1, 48), now - timedelta(seconds=30))

        lines: dict[int, LineInput] = {}
        for _ in range(LINE_COUNT.pick(rng)):
            sku = info.pick_sku(rng)
            if sku.pk in lines:
                continue
            price = sku.price_minor * 9 // 10 if rng.random() < 0.08 else sku.price_minor
            qty = QUANTITY.pick(rng)
            lines[sku.pk] = LineInput(sku=sku, quantity=qty, unit_price_minor=price)
        subtotal = sum(x.quantity * x.unit_price_minor for x in lines.values())
        shipping = (
            0 if rng.random() < 0.65 else rng.choice([199, 299, 399, 499, 699]) * factor // 100
        )
        coupon = 0
        if rng.random() < 0.12 and subtotal >= 1500 * factor // 100:
            coupon = min(subtotal // 10 // 100 * 100 or 100, 1000 * factor // 100)
        subsidy = rng.randint(50, 300) * factor // 100 if rng.random() < 0.06 else 0
        red_packet = rng.randint(30, 200) * factor // 100 if rng.random() < 0.04 else 0
        number = str(self.number_base + i * 1000 + rng.randrange(1000))
        stub = self._buyer_stubs.get(buyer.id)
        if stub is None:
            stub = self._buyer_stubs[buyer.id] = Buyer(pk=buyer.id, country=buyer.country)
        plan = OrderPlan(
            OrderInput(
                shop=shop,
                buyer=stub,
                number=number,
                lines=list(lines.values()),
                placed_at=placed_at,
                shipping_fee_minor=shipping,
                coupon_discount_minor=coupon,
                platform_subsidy_minor=subsidy,
                cashback_red_packet_minor=red_packet,
                payment_method=PAYMENT_METHOD.pick(rng),
            )
        )
        self._lifecycle(plan, info, buyer, i)
        return plan

    def _buyer(self, placed_at: datetime) -> BuyerInfo:
        rng = self.rng
        for _ in range(4):
            buyer = self.buyers[bisect(self.buyer_cum, rng.random() * self.buyer_cum[-1])]
            if buyer.registered_at <= placed_at:
                return buyer
        return buyer

    def _lifecycle(self, plan: OrderPlan, info: ShopInfo, buyer: BuyerInfo, i: int) -> None:
        rng, now, p = self.rng, self.now, info.profile
        steps = plan.steps
        placed = plan.order.placed_at
        number = plan.number
        if rng.random() < p.unpaid:
            at = placed + _h(rng, 20, 30)  # unpaid orders close after about a day
            if at <= now:
                steps.append(Cancel(at=at, reason="Payment not completed"))
            return
        fast = rng.random() < 0.85
        paid_at = placed + (_h(rng, 0.01, 0.17) if fast else _h(rng, 0.17, 20))
        if paid_at > now:
            return
        paid = plan.due_minor
        steps.append(
            Pay(
                payment_id=f"PAY-{number}",
                amount_minor=paid,
                method=plan.order.payment_method,
                at=paid_at,
            )
        )
        if rng.random() < p.paid_cancel:
            at = paid_at + _h(rng, 1, 40)
            if at <= now:
                reason = rng.choice(["Out of stock", "Buyer asked to cancel", "Price error"])
                steps.append(Cancel(at=at, reason=reason))
                at += _h(rng, 0.1, 24)
                if at <= now and paid:
                    steps.append(
                        RefundStep(f"RFD-{number}-1", paid, at, "Order cancelled before shipping")
                    )
            return
        if rng.random() < p.never_ship:
            return
        late = rng.random() < p.late
        hours = rng.uniform(*p.late_hours) if late else rng.triangular(2, 70, 18)
        shipped_at = max(
            paid_at + timedelta(minutes=10), placed + timedelta(seconds=int(hours * HOUR))
        )
        if shipped_at > now:
            return
        carrier = self._carrier(info)
        steps.append(
            Ship(carrier=carrier, tracking_number=self._tracking_number(carrier, i), at=shipped_at)
        )
        delivered_at, stalled = self._tracking(plan, info, buyer, carrier, shipped_at)
        if delivered_at is None:
            # A parcel stuck for weeks: some buyers open "not received" disputes.
            if stalled and rng.random() < 0.35:
                opened = shipped_at + _d(rng, 20, 30)
                if opened <= now:
                    steps.append(DisputeOpen(f"DSP-{number}-1", opened, "Item not received"))
                    closed = opened + _d(rng, 3, 10)
                    if closed <= now:
                        won = rng.random() < 0.7
                        if won and paid:
                            steps.append(
                                RefundStep(f"RFD-{number}-1", paid, closed, "Item not received")
                            )
                        outcome = DisputeOutcome.BUYER_WON if won else DisputeOutcome.WITHDRAWN
                        steps.append(DisputeClose(f"DSP-{number}-1", closed, outcome))
            return
        steps.append(Deliver(at=delivered_at))
        self._after_delivery(plan, info, buyer, delivered_at, late=shipped_at - placed > LATE_AFTER)

    def _carrier(self, info: ShopInfo) -> str:
        rng = self.rng
        if info.official and (not info.third_party or rng.random() < 0.75):
            return rng.choice(info.official)
        return rng.choice(info.third_party)

    def _tracking_number(self, carrier: str, i: int) -> str:
        rng = self.rng
        serial = self.number_base // 1000 % 10**8 * 10**4 + i
        match carrier:
            case Carrier.AE_STANDARD | Carrier.AE_SAVER | Carrier.CAINIAO:
                return f"LP00{serial % 10**12:012d}"
            case Carrier.YANWEN:
                return f"UG{serial % 10**9:09d}YW"
            case Carrier.FOURPX:
                return f"4PX3000{serial % 10**10:010d}CN"
            case Carrier.DHL:
                return f"{rng.randrange(10**9, 10**10)}"
            case _:
                return f"YT{serial % 10**16:016d}"

    def _tracking(
        self, plan: OrderPlan, info: ShopInfo, buyer: BuyerInfo, carrier: str, shipped_at: datetime
    ) -> tuple[datetime | None, bool]:
        """1-6 tracking events; returns (delivered at, stalled).

        A moving parcel is scanned at least every 72 h, so only stalled ones show up in the
        SPEC E-3 logistics anomaly rate (no update for 72 h or no progress for 5 days).
        """
        rng, now, steps = self.rng, self.now, plan.steps
        pace = 0.8 if carrier in OFFICIAL_CARRIERS else 1.0  # official lines are a little faster
        dest = rng.choice(catalog.CITIES_BY_COUNTRY.get(buyer.country, ["Destination"]))
        at = min(shipped_at + _h(rng, 0, 2), now)
        steps.append(Track(T.INFO_RECEIVED, at, info.origin, "Shipping label created"))
        chain = [
            (T.PICKED_UP, _h(rng, 6, 30), info.origin, "Accepted by carrier"),
            (
                T.IN_TRANSIT,
                _d(rng, 1, 2.5) * pace,
                "Hong Kong hub, HK",
                "Departed from sorting centre",
            ),
        ]
        if rng.random() < 0.7:
            chain.append(
                (T.CUSTOMS, _d(rng, 1.5, 2.9) * pace, dest, "Customs clearance in progress")
            )
        chain += [
            (T.OUT_FOR_DELIVERY, _d(rng, 1.5, 2.9) * pace, dest, "Out for delivery"),
            (T.DELIVERED, _h(rng, 2, 20), dest, "Delivered"),
        ]
        stalled = rng.random() < info.profile.stall
        if stalled:
            # SPEC E-3 logistics anomaly: tracking stops moving; maybe one scan without progress.
            chain = chain[: rng.randint(1, 3)]
            gap = _d(rng, 1, 4)
            if rng.random() < 0.5:
                chain.append((T.NO_UPDATE, gap, chain[-1][2], "Carrier scan, no movement"))
            else:
                chain.append(
                    (T.EXCEPTION, gap, chain[-1][2], "Delivery exception: address incomplete")
                )
        for status, delay, location, description in chain:
            at += delay
            if at > now:
                return None, stalled
            steps.append(Track(status, at, location, description))
            if status == T.DELIVERED:
                return at, False
        return None, stalled

    def _after_delivery(
        self, plan: OrderPlan, info: ShopInfo, buyer: BuyerInfo, delivered: datetime, *, late: bool
    ) -> None:
        rng, now, p = self.rng, self.now, info.profile
        number = plan.number
        paid = plan.due_minor
        post: list[tuple[datetime, int, Step]] = []  # (time, tie-break, step), sorted at the end
        complete_at: datetime | None = delivered + _d(rng, 5, 15)
        if rng.random() < p.dispute:
            opened = delivered + _d(rng, 1, 5)
            closed = opened + _d(rng, 3, 12)
            outcome = DISPUTE_OUTCOME.pick(rng)
            reason = rng.choice(["Item not as described", "Item damaged", "Wrong size sent"])
            complete_at = None
            if opened <= now:
                post.append((opened, 0, DisputeOpen(f"DSP-{number}-1", opened, reason)))
                if closed <= now:
                    if outcome == DisputeOutcome.BUYER_WON and paid:
                        post.append(
                            (closed, 0, RefundStep(f"RFD-{number}-1", paid, closed, reason))
                        )
                    elif outcome == DisputeOutcome.SETTLED and paid > 1:
                        part = max(1, paid * rng.randint(20, 50) // 100)
                        post.append(
                            (closed, 0, RefundStep(f"RFD-{number}-1", part, closed, reason))
                        )
                    post.append((closed, 1, DisputeClose(f"DSP-{number}-1", closed, outcome)))
                    if outcome != DisputeOutcome.BUYER_WON:
                        complete_at = closed + _d(rng, 0.5, 3)
        elif rng.random() < p.return_refund and paid:
            at = delivered + _d(rng, 3, 14)
            if at <= now:
                reason = rng.choice(["Returned: not as described", "Returned: changed mind"])
                post.append((at, 0, RefundStep(f"RFD-{number}-1", paid, at, reason)))
                if complete_at is not None and complete_at >= at:
                    complete_at = None  # refunded in full: nothing left to complete
        elif rng.random() < p.partial_refund and paid > 1:
            at = delivered + _d(rng, 1, 8)
            if at <= now:
                part = max(1, paid * rng.randint(10, 40) // 100)
                post.append(
                    (at, 0, RefundStep(f"RFD-{number}-1", part, at, "Partial refund: damaged box"))
                )
        if complete_at is not None and complete_at <= now:
            post.append((complete_at, 2, Complete(at=complete_at)))

        rating = None
        if rng.random() < 0.45:
            rating = self._reviews(plan, info, buyer, delivered, late, post)
        if rng.random() < 0.55:
            at = delivered + _d(rng, 0.5, 15)
            if at <= now:
                if rating is None:
                    rating = self._ratings(p).pick(rng)
                if rating >= 4:
                    kind = FeedbackKind.POSITIVE
                elif rating == 3:
                    kind = FeedbackKind.NEUTRAL if rng.random() < 0.6 else FeedbackKind.POSITIVE
                else:
                    kind = FeedbackKind.NEGATIVE
                post.append((at, 3, FeedbackStep(kind=kind, at=at)))
        post.sort(key=lambda x: (x[0], x[1]))
        plan.steps.extend(step for _t, _k, step in post)

    def _reviews(
        self,
        plan: OrderPlan,
        info: ShopInfo,
        buyer: BuyerInfo,
        delivered: datetime,
        late: bool,
        post,
    ) -> int | None:
        rng, now, p = self.rng, self.now, info.profile
        at = delivered + _d(rng, 0.3, 12)
        if at > now:
            return None
        language = REVIEW_LANGUAGES.get(buyer.site, "en") if rng.random() < 0.85 else "en"
        rating = self._ratings(p).pick(rng)
        if late and rating > 1 and rng.random() < 0.3:
            rating -= 1
        first = rating
        for k, line in enumerate(plan.order.lines):
            if k and rng.random() < 0.7:
                continue
            if k:
                rating = max(1, min(5, first + rng.randint(-1, 1)))
            nad = rating <= 2 and rng.random() < p.not_as_described
            if nad:
                lang = language if language in catalog.REVIEWS_NOT_AS_DESCRIBED else "en"
                text = rng.choice(catalog.REVIEWS_NOT_AS_DESCRIBED[lang])
                item = rng.randint(1, 2)
            elif rating <= 2:
                lang = language if language in catalog.REVIEWS_NEGATIVE_OTHER else "en"
                text = rng.choice(catalog.REVIEWS_NEGATIVE_OTHER[lang])
                item = max(1, min(5, rating + rng.randint(0, 1)))
            elif rating == 3:
                lang = language if language in catalog.REVIEWS_NEUTRAL else "en"
                text = rng.choice(catalog.REVIEWS_NEUTRAL[lang])
                item = rng.randint(3, 4)
            else:
                lang = language if language in catalog.REVIEWS_POSITIVE else "en"
                text = "" if rng.random() < 0.15 else rng.choice(catalog.REVIEWS_POSITIVE[lang])
                item = max(rating - rng.randint(0, 1), 4)
            shipping = rng.randint(1, 3) if late else DSR_SHIPPING_ON_TIME.pick(rng)
            post.append(
                (
                    at,
                    2 + k,
                    ReviewStep(
                        sku_id=line.sku.pk,
                        rating=rating,
                        dsr_item_as_described=item,
                        dsr_communication=max(1, min(5, rating + rng.randint(-1, 1))),
                        dsr_shipping=shipping,
                        at=at,
                        text=text,
                        language=lang if text else "",
                    ),
                )
            )
        return first
