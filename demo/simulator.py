"""A living marketplace: a continuous, realistic stream of SPEC §0 events (``manage.py simulate``).

New buyers register, fill carts and place orders; orders are paid (or cancelled), shipped,
tracked, delivered, reviewed, rated and completed; some are refunded or disputed; now and then
a shop gets a violation. Every fact is an event of the integration contract, applied

* **in-process** through the same ingestion code as the API (``orders.ingest.ingest_batch``,
  with a "Simulator" integration), or
* **over HTTP** as signed batches to ``POST /api/v1/events`` (stdlib ``urllib`` only).

State. The simulator keeps its own picture of the world from the events it sends (orders in
flight, their amounts and stages); it reads the database once, at start, only to pick existing
marketplace ids — shops with their SKUs, and some buyers — so its events land on the seeded
shops. In HTTP mode that read is the only database access (pass ``--bootstrap`` to create its
own shops and products through the API instead, e.g. against a remote server). An order
whose event is rejected is dropped from the picture.

Times are real: each event happens "now" (never before the order's previous event).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import random
import signal
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from coins.rules import max_deduction_coins
from core import clock
from core.signing import sign

# Lifecycle stages of an order as the simulator tracks them.
PENDING, PAID, SHIPPED, DELIVERED, COMPLETED, CLOSED = (
    "pending",
    "paid",
    "shipped",
    "delivered",
    "completed",
    "closed",
)
CARRIERS = [
    "aliexpress_standard",
    "aliexpress_standard",
    "aliexpress_saver",
    "cainiao_super_economy",
    "4px",
]
TRACKING = ["picked_up", "in_transit", "in_transit", "customs", "out_for_delivery", "no_update"]
METHODS = ["card", "card", "paypal", "alipay", "apple_pay", "google_pay"]
COUNTRIES = ["US", "FR", "ES", "DE", "BR", "PL", "KR", "JP", "RU", "IT", "NL"]
SITES = {
    "US": "us",
    "FR": "fr",
    "ES": "es",
    "DE": "de",
    "BR": "br",
    "PL": "pl",
    "KR": "kr",
    "JP": "jp",
    "RU": "ru",
    "IT": "it",
    "NL": "nl",
}


@dataclass
class SimShop:
    external_id: str
    currency: str
    skus: list[tuple[str, int]]  # (code, price in minor units)
    # SPEC C-3: SKUs whose product has coin deduction on → its max ratio (basis points).
    coin_ratios: dict[str, int] = field(default_factory=dict)


@dataclass
class SimOrder:
    shop: SimShop
    number: str
    buyer_id: str
    lines: list[tuple[str, int, int]]  # (sku, quantity, unit price)
    due: int
    stage: str = PENDING
    paid: int = 0
    refunded: int = 0
    tracking_left: int = 0
    dispute: str = ""
    reviewed: bool = False
    feedback: bool = False
    last_at: datetime = field(default_factory=clock.now)


@dataclass
class Stats:
    sent: int = 0
    statuses: Counter = field(default_factory=Counter)
    codes: Counter = field(default_factory=Counter)
    types: Counter = field(default_factory=Counter)


class World:
    """What the simulator knows, and the next realistic events."""

    def __init__(
        self,
        *,
        shops: list[SimShop],
        buyers: list[str],
        seed: int | None = None,
        wallets: dict[tuple[str, str], int] | None = None,
        coin_caps: tuple[int, int, int] | None = None,
    ) -> None:
        self.rng = random.Random(seed)  # noqa: S311 - simulated data, not secrets
        self.shops = shops
        self.buyers = list(buyers)
        # Coins buyers hold per (shop, buyer) as read at start, spent as the simulator sends
        # coin orders (SPEC C-3); the caps (share bp, amount minor, coin value minor).
        self.wallets = dict(wallets or {})
        self.coin_caps = coin_caps
        self.orders: dict[str, SimOrder] = {}
        run = f"{int(time.time()):x}{self.rng.randrange(16**4):04x}"
        self._ids = (f"sim-{run}-{n}" for n in itertools.count(1))
        self._pending: dict[str, Callable[[], None]] = {}  # event id -> undo if rejected

    def next_id(self) -> str:
        return next(self._ids)

    # --- events -----------------------------------------------------------------------------

    def _event(
        self, type_: str, data: dict, at: datetime, undo: Callable[[], None] | None = None
    ) -> dict:
        event_id = self.next_id()
        if undo is not None:
            self._pending[event_id] = undo
        return {"event_id": event_id, "type": type_, "occurred_at": at.isoformat(), "data": data}

    def _at(self, order: SimOrder | None = None) -> datetime:
        now = clock.now()
        if order is not None:
            now = max(now, order.last_at + timedelta(milliseconds=1))
            order.last_at = now
        return now

    def step(self) -> dict:
        """One event: mostly moving orders along, sometimes new buyers, carts and orders."""
        r = self.rng.random()
        if (r < 0.04 or not self.buyers) and len(self.buyers) < 100_000:
            return self._new_buyer()
        if r < 0.10:
            return self._cart()
        if r < 0.11:
            return self._violation()
        if r < 0.38 or not self.orders:
            return self._new_order()
        # An order in flight, picked uniformly: each moves on at about the same pace.
        return self._advance(self.orders[self.rng.choice(tuple(self.orders))])

    def _new_buyer(self) -> dict:
        buyer_id = self.next_id().replace("sim-", "simb-")
        country = self.rng.choice(COUNTRIES)
        data = {
            "buyer_id": buyer_id,
            "email": f"{buyer_id}@buyers.example.com",
            "country": country,
            "site": SITES[country],
            "device_id": f"dev-{self.rng.randrange(10**9)}",
        }
        self.buyers.append(buyer_id)
        return self._event(
            "buyer.upserted", data, self._at(), undo=lambda: self.buyers.remove(buyer_id)
        )

    def _cart(self) -> dict:
        shop = self.rng.choice(self.shops)
        picks = self.rng.sample(shop.skus, min(len(shop.skus), self.rng.randint(1, 3)))
        items = [{"sku": code, "quantity": self.rng.randint(0, 3)} for code, _price in picks]
        return self._event(
            "cart.updated",
            {"shop_id": shop.external_id, "buyer_id": self.rng.choice(self.buyers), "items": items},
            self._at(),
        )

    def _violation(self) -> dict:
        shop = self.rng.choice(self.shops)
        serious = self.rng.random() < 0.2
        return self._event(
            "violation.recorded",
            {
                "shop_id": shop.external_id,
                "violation_id": self.next_id(),
                "serious": serious,
                "kind": self.rng.choice(
                    ["late_shipment", "misdescription", "counterfeit" if serious else "listing"]
                ),
            },
            self._at(),
        )

    def _new_order(self) -> dict:
        shop = self.rng.choice(self.shops)
        buyer_id = self.rng.choice(self.buyers)
        holders = [b for (s, b), n in self.wallets.items() if s == shop.external_id and n > 0]
        # SPEC C-3: now and then a buyer who holds coins in this shop orders products that
        # take coins (every line must: the checkout guard refuses coins on any other line).
        spend = bool(self.coin_caps and holders and shop.coin_ratios and self.rng.random() < 0.35)
        pool = [(c, p) for c, p in shop.skus if c in shop.coin_ratios] if spend else shop.skus
        spend = spend and bool(pool)
        if not spend:
            pool = shop.skus
        picks = self.rng.sample(pool, min(len(pool), self.rng.choice([1, 1, 1, 2, 3])))
        lines = [(code, self.rng.choice([1, 1, 1, 2, 3]), price) for code, price in picks]
        subtotal = sum(q * p for _c, q, p in lines)
        shipping = self.rng.choice([0, 0, 0, 199, 299, 499])
        coupon = self.rng.choice([0, 0, 0, min(300, subtotal // 10)])
        coins, value = 0, 1
        if spend and self.coin_caps:
            # Within the caps the checkout guard enforces (each product's ratio, 30%, ¥50,
            # the balance).
            buyer_id = self.rng.choice(holders)
            cap_bp, cap_minor, value = self.coin_caps
            most = max_deduction_coins(
                payable_before_coins_minor=subtotal + shipping - coupon,
                balance=self.wallets[(shop.external_id, buyer_id)],
                lines=[(q * p, shop.coin_ratios.get(c, 0)) for c, q, p in lines],
                cap_bp=cap_bp,
                cap_minor=cap_minor,
                coin_value_minor=value,
            )
            coins = self.rng.randint(1, most) if most > 0 else 0
        key = (shop.external_id, buyer_id)
        number = self.next_id().replace("sim-", "SIM-")
        order = SimOrder(
            shop=shop,
            number=number,
            buyer_id=buyer_id,
            lines=lines,
            due=subtotal + shipping - coupon - coins * value,
        )
        self.orders[number] = order
        if coins:
            self.wallets[key] -= coins

        def undo() -> None:
            self.orders.pop(number, None)
            if coins:
                self.wallets[key] += coins

        data = {
            "shop_id": shop.external_id,
            "order_number": number,
            "buyer_id": order.buyer_id,
            "currency": shop.currency,
            "shipping_fee_minor": shipping,
            "coupon_discount_minor": coupon,
            "coin_deduction_coins": coins,
            "coin_deduction_minor": coins * value,
            "payment_method": self.rng.choice(METHODS),
            "lines": [{"sku": c, "quantity": q, "unit_price_minor": p} for c, q, p in lines],
        }
        return self._event("order.created", data, self._at(order), undo=undo)

    def _advance(self, o: SimOrder) -> dict:
        ref = {"shop_id": o.shop.external_id, "order_number": o.number}
        r = self.rng.random()

        def undo() -> None:
            # A rejected event leaves the order where it was; drop it if it no longer makes sense.
            self.orders.pop(o.number, None)

        if o.stage == PENDING:
            if r < 0.9:
                o.stage, o.paid = PAID, o.due
                return self._event(
                    "order.paid",
                    {
                        **ref,
                        "payment_id": self.next_id(),
                        "amount_minor": o.due,
                        "method": self.rng.choice(METHODS),
                    },
                    self._at(o),
                    undo,
                )
            o.stage = CLOSED
            return self._event(
                "order.cancelled", {**ref, "reason": "buyer changed mind"}, self._at(o), undo
            )
        if o.stage == PAID:
            if r < 0.05 and o.paid:
                o.stage = CLOSED
                o.refunded = o.paid
                return self._event(
                    "order.refunded",
                    {
                        **ref,
                        "refund_id": self.next_id(),
                        "amount_minor": o.paid,
                        "reason": "out of stock",
                    },
                    self._at(o),
                    undo,
                )
            o.stage, o.tracking_left = SHIPPED, self.rng.randint(1, 3)
            return self._event(
                "order.shipped",
                {
                    **ref,
                    "carrier": self.rng.choice(CARRIERS),
                    "tracking_number": f"LP{self.rng.randrange(10**12):012d}CN",
                },
                self._at(o),
                undo,
            )
        if o.stage == SHIPPED:
            if o.dispute:
                outcome = self.rng.choice(["seller_won", "settled", "withdrawn"])
                dispute, o.dispute = o.dispute, ""
                return self._event(
                    "dispute.closed",
                    {**ref, "dispute_id": dispute, "outcome": outcome},
                    self._at(o),
                    undo,
                )
            if r < 0.04:
                o.dispute = self.next_id()
                return self._event(
                    "dispute.opened",
                    {**ref, "dispute_id": o.dispute, "reason": "not received"},
                    self._at(o),
                    undo,
                )
            if o.tracking_left > 0:
                o.tracking_left -= 1
                return self._event(
                    "tracking.updated",
                    {
                        **ref,
                        "status": self.rng.choice(TRACKING),
                        "location": self.rng.choice(["Shenzhen", "Hong Kong", "Liège", "Madrid"]),
                    },
                    self._at(o),
                    undo,
                )
            o.stage = DELIVERED
            return self._event("order.delivered", ref, self._at(o), undo)
        if o.stage == DELIVERED:
            if not o.reviewed and r < 0.5:
                o.reviewed = True
                stars = self.rng.choices([5, 4, 3, 2, 1], weights=[60, 20, 10, 5, 5])[0]
                return self._event(
                    "review.posted",
                    {
                        **ref,
                        "sku": o.lines[0][0],
                        "rating": stars,
                        "dsr_item_as_described": stars,
                        "dsr_communication": max(1, min(5, stars + self.rng.choice([-1, 0, 0, 1]))),
                        "dsr_shipping": max(1, min(5, stars + self.rng.choice([-1, 0, 0, 1]))),
                        "text": self.rng.choice(["Great!", "As described.", "Slow shipping.", ""]),
                        "language": "en",
                    },
                    self._at(o),
                    undo,
                )
            if not o.feedback and r < 0.8:
                o.feedback = True
                kind = self.rng.choices(["positive", "neutral", "negative"], weights=[85, 10, 5])[0]
                return self._event("feedback.posted", {**ref, "kind": kind}, self._at(o), undo)
            if r < 0.85 and o.paid - o.refunded > 100:
                part = (o.paid - o.refunded) // 2
                o.refunded += part
                return self._event(
                    "order.refunded",
                    {
                        **ref,
                        "refund_id": self.next_id(),
                        "amount_minor": part,
                        "reason": "partial: damaged item",
                    },
                    self._at(o),
                    undo,
                )
            o.stage = COMPLETED
            return self._event("order.completed", ref, self._at(o), undo)
        # completed: nothing more happens to it
        self.orders.pop(o.number, None)
        return self._new_order()

    # --- feedback from the receiver ---------------------------------------------------------

    def settle(self, events: list[dict], results: list[dict], stats: Stats) -> None:
        for event, result in zip(events, results, strict=True):
            status = result.get("status", "error")
            stats.statuses[status] += 1
            stats.types[event["type"]] += 1
            undo = self._pending.pop(event["event_id"], None)
            if status == "rejected":
                stats.codes[result.get("code", "?")] += 1
                if undo is not None:
                    undo()
        for order in [o for o in self.orders.values() if o.stage in (CLOSED, COMPLETED)]:
            if order.stage == CLOSED or self.rng.random() < 0.5:
                self.orders.pop(order.number, None)


# --- the world at start ----------------------------------------------------------------------


def world_from_database(
    *, seed: int | None = None, max_shops: int = 50, max_buyers: int = 2000
) -> World:
    """Existing marketplace ids: shops with approved SKUs, and some buyers (read at start only)."""
    from buyers.models import Buyer
    from shops.models import Shop, Sku

    shops = []
    for shop in Shop.objects.order_by("pk")[:max_shops]:
        skus = list(
            Sku.objects.filter(shop=shop, product__review_status="approved", price_minor__gt=0)
            .order_by("pk")
            .values_list("code", "price_minor")[:30]
        )
        if skus:
            shops.append(SimShop(shop.external_id, shop.currency, skus))
    buyers = list(Buyer.objects.order_by("-pk").values_list("external_id", flat=True)[:max_buyers])
    wallets, caps = _coins_from_database(shops, max_buyers=max_buyers)
    buyers = list(dict.fromkeys(buyers + [b for _s, b in wallets]))
    return World(shops=shops, buyers=buyers, seed=seed, wallets=wallets, coin_caps=caps)


def _coins_from_database(
    shops: list[SimShop], *, max_buyers: int
) -> tuple[dict[tuple[str, str], int], tuple[int, int, int]]:
    """SPEC C-3: coin balances of buyers in the simulated shops and each SKU's deduction ratio,
    so some new orders spend coins (read at start only, like the rest of the world)."""
    from coins import rules
    from coins.models import CoinProductSetting, CoinWallet
    from shops.models import Sku

    by_ext = {s.external_id: s for s in shops}
    settings = dict(
        CoinProductSetting.objects.filter(enabled=True, shop__external_id__in=by_ext).values_list(
            "product_id", "max_ratio_bp"
        )
    )
    for code, product_id, shop_ext in Sku.objects.filter(product_id__in=settings).values_list(
        "code", "product_id", "shop__external_id"
    ):
        by_ext[shop_ext].coin_ratios[code] = settings[product_id]
    wallets = {
        (shop_ext, buyer_ext): balance
        for shop_ext, buyer_ext, balance in CoinWallet.objects.filter(
            balance__gt=0, shop__external_id__in=by_ext
        )
        .order_by("-balance")
        .values_list("shop__external_id", "buyer__external_id", "balance")[:max_buyers]
    }
    caps = (rules.deduction_cap_bp(), rules.deduction_cap_minor(), rules.coin_value_minor())
    return wallets, caps


def bootstrap_events(world: World, *, shops: int = 3) -> list[dict]:
    """Events that create the simulator's own shops and products (``--bootstrap``)."""
    events = []
    categories = ["consumer_electronics", "home_garden", "womens_fashion", "toys", "sports"]
    for n in range(shops):
        shop_id = world.next_id().replace("sim-", "simshop-")
        currency = "CNY" if n % 2 == 0 else "USD"
        category = categories[n % len(categories)]
        events.append(
            world._event(
                "shop.upserted",
                {
                    "shop_id": shop_id,
                    "name": f"Simulated shop {n + 1}",
                    "opened_at": (clock.now() - timedelta(days=400)).isoformat(),
                    "main_category": category,
                    "currency": currency,
                    "store_level": 3,
                    "store_rating": 4.7,
                    "dsr_item_as_described": 4.7,
                    "dsr_communication": 4.8,
                    "dsr_shipping": 4.6,
                    "enterprise_certified": True,
                    "logistics": [
                        {"carrier": "aliexpress_standard", "enabled": True, "certified": True}
                    ],
                },
                clock.now(),
            )
        )
        skus = [
            (f"{shop_id}-SKU{k}", world.rng.choice([990, 1990, 4590, 12900, 39900]))
            for k in range(6)
        ]
        events.append(
            world._event(
                "product.upserted",
                {
                    "shop_id": shop_id,
                    "product_id": f"{shop_id}-P1",
                    "title": "Simulated product",
                    "category": category,
                    "skus": [{"sku": c, "price_minor": p, "stock": 10_000} for c, p in skus],
                },
                clock.now(),
            )
        )
        world.shops.append(SimShop(shop_id, currency, skus))
    for _ in range(20):
        events.append(world._new_buyer())
    return events


# --- senders ---------------------------------------------------------------------------------


class InProcessSender:
    """Applies batches with the same code as the API, as a "Simulator" integration."""

    def __init__(self) -> None:
        from integrations.models import Integration
        from integrations.services import integration_create

        self.integration = Integration.objects.filter(name="Simulator (in-process)").first()
        if self.integration is None:
            self.integration, _secret = integration_create(name="Simulator (in-process)")

    def send(self, events: list[dict]) -> list[dict]:
        from orders.ingest import ingest_batch
        from orders.ingest.schemas import EventBatch

        batch = EventBatch.model_validate(json.loads(json.dumps({"events": events})))
        return ingest_batch(integration=self.integration, events=batch.events)


class HttpSender:
    """Signed batches over HTTP (stdlib urllib), retried as a real client does.

    A batch that meets a connection error, a timeout, 429 or a 5xx answer is sent again
    (freshly signed; event ids make a replay harmless) after an exponential backoff with
    jitter — 0.5 s, 1 s, 2 s, … at most ``max_backoff`` (or the server's ``Retry-After``) —
    up to ``attempts`` times in all; only then does the run stop. Other 4xx answers (a bad
    key or signature, an invalid batch) are not retried: sending them again cannot help.
    """

    RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})

    def __init__(
        self,
        *,
        url: str,
        key_id: str,
        secret: str,
        timeout: float = 30,
        attempts: int = 6,
        backoff: float = 0.5,
        max_backoff: float = 8,
        on_retry: Callable[[str], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.url = url.rstrip("/")
        if not self.url.endswith("/events"):
            self.url += "/api/v1/events" if "/api/v1" not in self.url else "/events"
        self.key_id = key_id
        self.secret = secret
        self.timeout = timeout
        self.attempts = max(1, attempts)
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.on_retry = on_retry
        self.sleep = sleep
        self.retries = 0  # batches sent again, over the whole run

    def _post(self, body: bytes) -> list[dict]:
        ts = int(time.time())
        request = urllib.request.Request(  # noqa: S310 - the operator's own URL
            self.url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "X-SC-Key": self.key_id,
                "X-SC-Timestamp": str(ts),
                "X-SC-Signature": sign(secret=self.secret, timestamp=ts, body=body),
            },
        )
        with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
            return json.loads(response.read())["results"]

    def send(self, events: list[dict]) -> list[dict]:
        body = json.dumps({"events": events}).encode()
        for attempt in range(1, self.attempts + 1):
            retry_after = None
            try:
                return self._post(body)
            except urllib.error.HTTPError as exc:
                detail = exc.read()[:300].decode(errors="replace")
                problem = f"HTTP {exc.code} from {self.url}: {detail}"
                if exc.code not in self.RETRY_STATUSES:
                    raise SimulatorError(problem) from None
                with contextlib.suppress(TypeError, ValueError):
                    retry_after = float(exc.headers.get("Retry-After"))
            except urllib.error.URLError as exc:
                problem = f"cannot reach {self.url}: {exc.reason}"
            except (ConnectionError, TimeoutError) as exc:  # e.g. a reset mid-answer
                problem = f"connection to {self.url} failed: {exc!r}"
            if attempt == self.attempts:
                raise SimulatorError(f"{problem} (gave up after {attempt} attempts)")
            delay = min(self.max_backoff, self.backoff * 2 ** (attempt - 1))
            delay = delay * (0.5 + random.random() / 2)  # noqa: S311 - jitter, not secrets
            if retry_after is not None:
                delay = min(max(delay, retry_after), self.max_backoff)
            self.retries += 1
            if self.on_retry:
                self.on_retry(f"{problem}; retrying in {delay:.1f} s ({attempt}/{self.attempts})")
            self.sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover


class SimulatorError(Exception):
    pass


# --- the loop --------------------------------------------------------------------------------


def run(
    *,
    world: World,
    sender,
    rate: float,
    duration: float | None = None,
    max_events: int | None = None,
    out: Callable[[str], None] = print,
    batch_size: int = 500,
    tick: Callable[[], None] | None = None,
) -> Stats:
    """Send ``rate`` events per second (0: as fast as possible) until ``duration`` seconds or
    ``max_events`` events, or Ctrl-C; prints one summary line per second. ``tick`` (the
    modules' demo ticks, ``demo.hooks.Ticker``) is called once at the start of each second of
    the run that the loop reaches."""
    stats = Stats()
    next_tick = 0
    stopping = {"now": False}

    def stop(_signum, _frame) -> None:
        stopping["now"] = True

    previous = None
    with contextlib.suppress(ValueError):  # not the main thread (tests): bounded runs only
        previous = signal.signal(signal.SIGINT, stop)
    start = time.monotonic()
    last_report, reported = start, Stats()
    try:
        while not stopping["now"]:
            elapsed = time.monotonic() - start
            if duration is not None and elapsed >= duration:
                break
            if max_events is not None and stats.sent >= max_events:
                break
            if tick is not None and elapsed >= next_tick:
                tick()
                next_tick = int(elapsed) + 1
            # Paced: by the end of second n, rate × n events have gone (one batch a second).
            due = batch_size if rate <= 0 else int(rate * (int(elapsed) + 1)) - stats.sent
            if max_events is not None:
                due = min(due, max_events - stats.sent)
            due = min(due, batch_size)
            if due <= 0:
                time.sleep(min(0.1, int(elapsed) + 1 - elapsed))
                continue
            events = [world.step() for _ in range(due)]
            results = sender.send(events)
            stats.sent += len(events)
            world.settle(events, results, stats)
            now = time.monotonic()
            if now - last_report >= 1:
                out(_line(now - start, stats, reported, now - last_report, world))
                last_report = now
                reported = Stats(stats.sent, Counter(stats.statuses), Counter(stats.codes))
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
    total = time.monotonic() - start
    out(_line(total, stats, reported, max(total - (last_report - start), 1e-9), world, final=True))
    return stats


def _line(
    t: float, stats: Stats, before: Stats, span: float, world: World, *, final: bool = False
) -> str:
    new = stats.sent - before.sent
    stages = Counter(o.stage for o in world.orders.values())
    rejected = ", ".join(f"{c}×{n}" for c, n in stats.codes.most_common(3))
    head = "total" if final else f"t={t:5.1f}s"
    rate = stats.sent / t if final and t else new / span
    return (
        f"{head} sent={stats.sent} ({rate:.0f}/s) applied={stats.statuses['applied']} "
        f"duplicate={stats.statuses['duplicate']} rejected={stats.statuses['rejected']}"
        + (f" [{rejected}]" if rejected else "")
        + f" | in flight: pending={stages[PENDING]} paid={stages[PAID]} shipped={stages[SHIPPED]} "
        f"delivered={stages[DELIVERED]}"
    )
