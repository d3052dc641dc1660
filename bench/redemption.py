"""Redemption benchmark (SPEC C-3, C-6): ``order.created`` events carrying coins, through the
signed ingestion API, against a hand-written SQL transaction doing the same writes.

Workload: ``orders`` orders per side in batches of ``batch`` orders of one shop (a checkout
front-end posting its shop's new orders), each one line of the shop's coin product and a
deduction of 50–1,000 coins (within the C-3 caps) from the buyer's wallet in that shop.
``clients`` threads keep that many batches in flight. The two sides use the same shops and
wallets (``redemption-fixtures``, bench/djangotasks.py) with their own order numbers.

API side: every event must come back ``applied``. Inside the ingestion transaction the
``order_placing`` guard (coins/services/checkout.py) locks the fund, checks the product
switch, the caps and the balance, locks the wallet and its lots and spends the soonest-expiring
first: a redemption, its parts, the lots' ``remaining``, a REDEEM movement with two entries and
the wallet's and fund's cached balances; the order and its lines are written by the ingestion.

Baseline, one transaction per batch, the same locks in the same order — the fund
(``FOR UPDATE``), the batch's wallets in pk order, their spendable lots in pk order, then the
daily-figure rows through the same upsert — and every row the API writes for these events:
the orders and their lines, redemptions (linked to their order), redemption parts, the lots'
``remaining``, one REDEEM movement and two entries per order, wallet and fund balances, the
daily figures (``orders_shopdailystats``), one ``order.created`` row of the order event log
and one idempotency record (``orders_ingestedevent``, with the event's fingerprint) per
order; soonest-expiring lots first, computed in Python. Ids from the sequences, one ``COPY``
per table, one ``UPDATE … FROM (VALUES …)`` per table; after commit, the batch's event ids go
to Redis in one message, as the API hands them to delivery. What it leaves out is what the
API does besides writing: HTTP, signature, validation, the caps and switch checks. The
harness compares both sides' rows table by table afterwards (``redemption-check``).
"""

from __future__ import annotations

import hashlib
import json
import queue
import random
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import psycopg
from psycopg.types.json import Jsonb

from . import ingest
from .ingest import BenchError, _copy, _iso, _row

# The tables that get exactly one row per coin order on either side (the check counts them).
ONE_PER_ORDER = (
    "orders",
    "order_lines",
    "order_events",
    "ingested_events",
    "redemptions",
    "movements",
)
# Where the baseline puts its after-commit message per batch (deleted when it is done).
REDIS_KEY = "bench:redemption-baseline:events"


@dataclass
class CoinOrder:
    shop: dict
    buyer: dict
    number: str
    coins: int
    placed_at: datetime


@dataclass
class Workload:
    batches: list[list[CoinOrder]] = field(default_factory=list)

    @property
    def orders(self) -> int:
        return sum(len(b) for b in self.batches)

    @property
    def coins(self) -> int:
        return sum(o.coins for b in self.batches for o in b)


def plan(
    *, fixtures: dict, orders: int, batch: int, tag: str, seed: int, now: datetime | None = None
) -> Workload:
    """``orders`` coin orders in single-shop batches of ``batch``; ``tag`` makes the numbers
    unique per run and side (the check counts each side's rows by it)."""
    rnd = random.Random(seed)
    now = now or datetime.now(UTC)
    shops, buyers = fixtures["shops"], fixtures["buyers"]
    work = Workload()
    n = 0
    while n < orders:
        shop = shops[len(work.batches) % len(shops)]
        chunk = []
        for _ in range(min(batch, orders - n)):
            n += 1
            chunk.append(
                CoinOrder(
                    shop=shop,
                    buyer=rnd.choice(buyers),
                    number=f"{tag}-{n:07d}",
                    coins=rnd.randint(50, 1000),
                    placed_at=now - timedelta(seconds=rnd.randint(5, 600)),
                )
            )
        work.batches.append(chunk)
    return work


def order_event(o: CoinOrder, coin_value_minor: int) -> dict:
    sku = o.shop["sku"]
    return {
        "event_id": f"{o.number}-created",
        "type": "order.created",
        "occurred_at": _iso(o.placed_at),
        "data": {
            "shop_id": o.shop["external_id"],
            "order_number": o.number,
            "buyer_id": o.buyer["external_id"],
            "currency": o.shop["currency"],
            "lines": [{"sku": sku["code"], "quantity": 1, "unit_price_minor": sku["price_minor"]}],
            "coin_deduction_coins": o.coins,
            "coin_deduction_minor": o.coins * coin_value_minor,
            "payment_method": "alipay",
            "country": "CN",
        },
    }


def batch_body(batch: list[CoinOrder], coin_value_minor: int) -> bytes:
    events = [order_event(o, coin_value_minor) for o in batch]
    return json.dumps({"events": events}, separators=(",", ":")).encode()


@dataclass
class ApiResult:
    seconds: float
    orders: int
    statuses: Counter
    http_errors: list[str]
    rejections: list[dict]

    @property
    def applied(self) -> int:
        return self.statuses.get("applied", 0)

    @property
    def orders_per_s(self) -> float:
        return self.applied / self.seconds if self.seconds else 0.0


def run_api(
    *, port: int, key_id: str, secret: str, work: Workload, coin_value_minor: int, clients: int
) -> ApiResult:
    import http.client

    q: queue.Queue[bytes] = queue.Queue()
    for b in work.batches:
        q.put(batch_body(b, coin_value_minor))  # serialised before the clock starts
    statuses: Counter = Counter()
    http_errors: list[str] = []
    rejections: list[dict] = []
    lock = threading.Lock()

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        try:
            while True:
                try:
                    body = q.get_nowait()
                except queue.Empty:
                    return
                status, data = ingest.post_batch(conn, key_id=key_id, secret=secret, body=body)
                with lock:
                    if status != 200:
                        http_errors.append(f"{status}: {data[:300]!r}")
                        continue
                    for r in ingest._results_of(json.loads(data)):
                        st = r.get("status") or r.get("result") or "?"
                        statuses[st] += 1
                        if st == "rejected" and len(rejections) < 5:
                            rejections.append(r)
        finally:
            conn.close()

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return ApiResult(time.perf_counter() - start, work.orders, statuses, http_errors, rejections)


# --- baseline ------------------------------------------------------------------------------------


def spend(lots: list[tuple[int, datetime, int]], coins: int) -> list[tuple[int, int]]:
    """SPEC C-6 by hand: (lot id, coins taken) from ``lots`` (id, expires_at, remaining),
    soonest expiry first (then lot id); raises when they hold fewer than ``coins``."""
    left, parts = coins, []
    for lot_id, _exp, remaining in sorted(lots, key=lambda x: (x[1], x[0])):
        if remaining <= 0:
            continue
        take = min(left, remaining)
        parts.append((lot_id, take))
        left -= take
        if not left:
            return parts
    raise BenchError(f"a wallet holds fewer than {coins} coins: give it more (--lot-coins)")


def _ids(cur, sequence: str, n: int) -> list[int]:
    cur.execute("SELECT nextval(%s) FROM generate_series(1, %s)", (sequence, n))
    return [r[0] for r in cur.fetchall()]


def _update_from_values(cur, table: str, column: str, rows: list[tuple[int, int]]) -> None:
    if not rows:
        return
    values = ", ".join(["(%s::bigint, %s::bigint)"] * len(rows))
    cur.execute(
        f"UPDATE {table} t SET {column} = v.x FROM (VALUES {values}) v(id, x) WHERE t.id = v.id",
        [p for row in rows for p in row],
    )


@dataclass
class BaselineContext:
    """What every baseline transaction needs besides its batch."""

    tables: dict
    coin_value_minor: int
    integration_id: int
    tz: ZoneInfo
    redis: object | None = None  # a ``redis.Redis``: the after-commit message of each batch


def fingerprint(event: dict) -> str:
    """SHA-256 of the event's type, time and data, canonical (orders.ingest.base.fingerprint)."""
    body = {k: v for k, v in event.items() if k != "event_id"}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def baseline_batch(conn: psycopg.Connection, ctx: BaselineContext, batch: list[CoinOrder]) -> None:
    tables, coin_value_minor = ctx.tables, ctx.coin_value_minor
    shop = batch[0].shop
    now = datetime.now(UTC)
    t_order, t_line = tables["order"], tables["orderline"]
    with conn.transaction(), conn.cursor() as cur:
        # Locks: fund → wallets (pk order) → lots (pk order), as coins/services/ledger.py.
        cur.execute(
            "SELECT available, reserved, spent FROM coins_coinfund WHERE id = %s FOR UPDATE",
            (shop["fund_id"],),
        )
        cur.execute(
            "SELECT id, buyer_id, balance FROM coins_coinwallet WHERE shop_id = %s "
            "AND buyer_id = ANY(%s) ORDER BY id FOR UPDATE",
            (shop["id"], sorted({o.buyer["id"] for o in batch})),
        )
        wallets = {buyer: [wid, bal] for wid, buyer, bal in cur.fetchall()}
        cur.execute(
            "SELECT id, wallet_id, expires_at, remaining FROM coins_coinlot "
            "WHERE wallet_id = ANY(%s) AND remaining > 0 AND expires_at > %s "
            "ORDER BY id FOR UPDATE",
            ([w[0] for w in wallets.values()], now),
        )
        lots: dict[int, dict[int, list]] = defaultdict(dict)
        for lot_id, wallet_id, exp, remaining in cur.fetchall():
            lots[wallet_id][lot_id] = [lot_id, exp, remaining]
        order_ids = _ids(cur, t_order["sequence"], len(batch))
        red_ids = _ids(cur, "coins_coinredemption_id_seq", len(batch))
        mv_ids = _ids(cur, "coins_coinmovement_id_seq", len(batch))
        orders, lines, reds, parts, mvs, entries = [], [], [], [], [], []
        cols_o = cols_l = None
        price = shop["sku"]["price_minor"]
        for oid, rid, mid, o in zip(order_ids, red_ids, mv_ids, batch, strict=True):
            wallet = wallets[o.buyer["id"]]
            wl = lots[wallet[0]]
            for lot_id, take in spend([tuple(v) for v in wl.values()], o.coins):
                wl[lot_id][2] -= take
                parts.append((rid, lot_id, take, 0))
            wallet[1] -= o.coins
            cols_o, row = _row(
                t_order,
                {
                    "id": oid, "shop_id": shop["id"], "buyer_id": o.buyer["id"],
                    "number": o.number, "status": "pending_payment", "currency": shop["currency"],
                    "subtotal_minor": price, "coin_deduction_coins": o.coins,
                    "coin_deduction_minor": o.coins * coin_value_minor,
                    "payment_method": "alipay", "country": "CN", "placed_at": o.placed_at,
                },
                now, with_pk=True,
            )  # fmt: skip
            orders.append(row)
            cols_l, row = _row(
                t_line,
                {"order_id": oid, "sku_id": shop["sku"]["id"], "quantity": 1,
                 "unit_price_minor": price},
                now, with_pk=False,
            )  # fmt: skip
            lines.append(row)
            reds.append((rid, shop["id"], o.number, oid, o.buyer["id"], wallet[0], o.coins, 0, now))
            mvs.append(
                (mid, shop["id"], "redeem", o.coins, f"redeem:{shop['id']}:{o.number}",
                 f"order {o.number}", now)
            )  # fmt: skip
            entries.append((mid, shop["id"], "wallet", wallet[0], -o.coins, now))
            entries.append((mid, shop["id"], "spent", None, o.coins, now))
        assert cols_o is not None
        assert cols_l is not None
        _copy(cur, t_order["table"], cols_o, orders)
        _copy(cur, t_line["table"], cols_l, lines)
        _copy(
            cur,
            "coins_coinredemption",
            ["id", "shop_id", "order_number", "order_id", "buyer_id", "wallet_id", "coins",
             "returned", "created_at"],
            reds,
        )  # fmt: skip
        _copy(
            cur, "coins_coinredemptionpart", ["redemption_id", "lot_id", "coins", "returned"], parts
        )
        _copy(
            cur,
            "coins_coinmovement",
            ["id", "shop_id", "kind", "coins", "idempotency_key", "memo", "created_at"],
            mvs,
        )
        _copy(
            cur,
            "coins_coinentry",
            ["movement_id", "shop_id", "account", "wallet_id", "delta", "created_at"],
            entries,
        )
        touched = {lot_id for _r, lot_id, _c, _x in parts}
        _update_from_values(
            cur,
            "coins_coinlot",
            "remaining",
            [(v[0], v[2]) for wl in lots.values() for v in wl.values() if v[0] in touched],
        )
        _update_from_values(
            cur, "coins_coinwallet", "balance", [(w[0], w[1]) for w in wallets.values()]
        )
        spent = sum(o.coins for o in batch)
        cur.execute(
            "UPDATE coins_coinfund SET reserved = reserved - %s, spent = spent + %s WHERE id = %s",
            (spent, spent, shop["fund_id"]),
        )
        # The daily figures (orders.stats): one upsert, rows in (shop, day) order.
        days = Counter(o.placed_at.astimezone(ctx.tz).date() for o in batch)
        figures = [c for c in tables["dailystats"]["columns"] if c not in ("id", "shop_id", "day")]
        bumped = ("orders_created", "status_pending_payment")
        stats_rows = []
        for day, n in sorted(days.items()):
            stats_rows += [shop["id"], day, *(n if f in bumped else 0 for f in figures)]
        width = 2 + len(figures)
        cur.execute(
            f"INSERT INTO orders_shopdailystats (shop_id, day, {', '.join(figures)}) VALUES "
            + ", ".join(["(" + ", ".join(["%s"] * width) + ")"] * len(days))
            + " ON CONFLICT (shop_id, day) DO UPDATE SET "
            + ", ".join(f"{f} = orders_shopdailystats.{f} + excluded.{f}" for f in bumped),
            stats_rows,
        )
        # The order event log (orders.events): one ``order.created`` row per order.
        event_ids = _ids(cur, "orders_orderevent_id_seq", len(batch))
        _copy(
            cur,
            "orders_orderevent",
            ["id", "type", "shop_id", "order_id", "occurred_at", "created_at", "payload"],
            [
                (eid, "order.created", shop["id"], oid, o.placed_at, now,
                 Jsonb({"buyer_id": o.buyer["id"]}))
                for eid, oid, o in zip(event_ids, order_ids, batch, strict=True)
            ],
        )  # fmt: skip
        # The idempotency records (orders.IngestedEvent): one per event, with its result and
        # the fingerprint of what was sent.
        _copy(
            cur,
            "orders_ingestedevent",
            ["integration_id", "event_id", "type", "status", "code", "message", "result",
             "occurred_at", "received_at", "payload_hash"],
            [
                (ctx.integration_id, ev["event_id"], "order.created", "applied", "", "",
                 Jsonb({"order_id": oid, "order_status": "pending_payment"}), o.placed_at, now,
                 fingerprint(ev))
                for oid, o, ev in zip(
                    order_ids, batch, (order_event(o, coin_value_minor) for o in batch),
                    strict=True,
                )
            ],
        )  # fmt: skip
    if ctx.redis is not None:
        # After commit, the event ids are handed to delivery (orders.events.enqueue): one
        # message per batch.
        ctx.redis.lpush(REDIS_KEY, json.dumps({"task": "order_events_deliver", "ids": event_ids}))


@dataclass
class BaselineResult:
    seconds: float
    orders: int

    @property
    def orders_per_s(self) -> float:
        return self.orders / self.seconds if self.seconds else 0.0


def run_baseline(*, url: str, ctx: BaselineContext, work: Workload, clients: int) -> BaselineResult:
    def handle(conn: psycopg.Connection, batch: list[CoinOrder]) -> None:
        for attempt in range(5):  # a deadlock is retried, as the API's pipeline does
            try:
                baseline_batch(conn, ctx, batch)
                return
            except psycopg.errors.DeadlockDetected:
                if attempt == 4:
                    raise

    seconds = ingest.drain_with_connections(
        url=url, batches=work.batches, clients=clients, handle=handle, what="redemption baseline"
    )
    return BaselineResult(seconds, work.orders)


def main(argv: list[str] | None = None) -> None:
    """The baseline in its own process, so its peak RSS is its own (the harness measures it):
    ``python -m bench.redemption --url URL --input plan.json --clients N``; ``plan.json`` holds
    the fixtures and the plan's parameters (the same plan is rebuilt here)."""
    import argparse
    import sys

    p = argparse.ArgumentParser(prog="python -m bench.redemption")
    p.add_argument("--url", required=True)
    p.add_argument("--input", required=True)
    p.add_argument("--clients", type=int, default=8)
    args = p.parse_args(argv)
    spec = json.loads(open(args.input).read())  # noqa: SIM115 - a short-lived process
    fixtures = spec["fixtures"]
    work = plan(
        fixtures=fixtures,
        orders=spec["orders"],
        batch=spec["batch"],
        tag=spec["tag"],
        seed=spec["seed"],
        now=datetime.fromisoformat(spec["now"]),
    )
    redis_client = None
    if spec.get("redis_url"):
        import redis

        redis_client = redis.Redis.from_url(spec["redis_url"])
    ctx = BaselineContext(
        tables=fixtures["tables"],
        coin_value_minor=fixtures["coin_value_minor"],
        integration_id=spec["integration_id"],
        tz=ZoneInfo(fixtures["platform_time_zone"]),
        redis=redis_client,
    )
    try:
        r = run_baseline(url=args.url, ctx=ctx, work=work, clients=args.clients)
    finally:
        if redis_client is not None:
            redis_client.delete(REDIS_KEY)
    out = {"seconds": r.seconds, "orders": r.orders, "coins": work.coins}
    sys.stdout.write("\n@@BENCH-JSON@@" + json.dumps(out) + "\n")


if __name__ == "__main__":
    main()
