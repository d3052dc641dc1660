"""Ingest benchmark: signed batches of ``order.created`` + ``order.paid`` events over HTTP.

Workload: ``batches`` batches of 500 events; each batch carries 250 new orders, each as an
``order.created`` (1-3 lines) followed by its ``order.paid``. ``concurrency`` client threads
(http.client, one connection each) keep that many batches in flight against gunicorn.

Baseline, same run, same data volume, same concurrency: the rows those events leave behind
(orders in their paid state, their lines, their payments) written straight through psycopg,
one ``COPY`` per table per batch, one transaction per batch — what a bulk loader with no API,
no validation and no domain logic would cost.

Both write into the ``bench-ingest-*`` shops (bench/djangotasks.py), which are emptied again
afterwards, so a kept database stays as it was seeded.
"""

from __future__ import annotations

import http.client
import json
import queue
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import psycopg

from core.signing import sign

EVENTS_PER_BATCH = 500
PAYMENT_METHODS = ("card", "paypal", "alipay", "apple_pay", "google_pay")
COUNTRIES = ("US", "FR", "ES", "DE", "BR", "PL", "KR", "NL")


class BenchError(RuntimeError):
    pass


@dataclass
class PlannedOrder:
    shop: dict
    buyer: dict
    number: str
    payment_id: str
    lines: list[tuple[dict, int, int]]  # (sku, quantity, unit price)
    shipping_fee_minor: int
    method: str
    country: str
    placed_at: datetime
    paid_at: datetime

    @property
    def subtotal_minor(self) -> int:
        return sum(q * p for _sku, q, p in self.lines)

    @property
    def amount_minor(self) -> int:
        return self.subtotal_minor + self.shipping_fee_minor


@dataclass
class Workload:
    batches: list[list[PlannedOrder]] = field(default_factory=list)

    @property
    def orders(self) -> int:
        return sum(len(b) for b in self.batches)

    @property
    def events(self) -> int:
        return 2 * self.orders


def plan(
    *, fixtures: dict, batches: int, tag: str, seed: int, now: datetime | None = None
) -> Workload:
    """The orders of ``batches`` batches; ``tag`` makes numbers unique per run and per side."""
    rnd = random.Random(seed)
    now = now or datetime.now(UTC)
    per_batch = EVENTS_PER_BATCH // 2
    shops, buyers = fixtures["shops"], fixtures["buyers"]
    work = Workload()
    n = 0
    for _b in range(batches):
        batch = []
        for _ in range(per_batch):
            n += 1
            shop = shops[n % len(shops)]
            lines = []
            for sku in rnd.sample(shop["skus"], k=rnd.choice((1, 1, 1, 2, 2, 3))):
                lines.append((sku, rnd.choice((1, 1, 1, 2, 3)), sku["price_minor"]))
            placed = now - timedelta(minutes=rnd.randint(5, 60 * 24))
            batch.append(
                PlannedOrder(
                    shop=shop,
                    buyer=rnd.choice(buyers),
                    number=f"BI-{tag}-{n:07d}",
                    payment_id=f"BIP-{tag}-{n:07d}",
                    lines=lines,
                    shipping_fee_minor=rnd.choice((0, 0, 199, 499)),
                    method=rnd.choice(PAYMENT_METHODS),
                    country=rnd.choice(COUNTRIES),
                    placed_at=placed,
                    paid_at=placed + timedelta(seconds=rnd.randint(20, 1800)),
                )
            )
        work.batches.append(batch)
    return work


# --- API side ------------------------------------------------------------------------------------


def _iso(dt: datetime) -> str:
    return dt.astimezone(UTC).isoformat().replace("+00:00", "Z")


def order_events(o: PlannedOrder) -> list[dict]:
    """The two events of one order, in the ingestion API's schema (orders/ingest/schemas.py).

    The fact happens at the envelope's ``occurred_at``: placing, then paying.
    """
    ref = {"shop_id": o.shop["external_id"], "order_number": o.number}
    created = {
        "event_id": f"{o.number}-created",
        "type": "order.created",
        "occurred_at": _iso(o.placed_at),
        "data": {
            **ref,
            "buyer_id": o.buyer["external_id"],
            "currency": o.shop["currency"],
            "lines": [
                {"sku": sku["code"], "quantity": q, "unit_price_minor": p} for sku, q, p in o.lines
            ],
            "shipping_fee_minor": o.shipping_fee_minor,
            "payment_method": o.method,
            "country": o.country,
        },
    }
    paid = {
        "event_id": f"{o.number}-paid",
        "type": "order.paid",
        "occurred_at": _iso(o.paid_at),
        "data": {
            **ref,
            "payment_id": o.payment_id,
            "amount_minor": o.amount_minor,
            "method": o.method,
        },
    }
    return [created, paid]


def batch_body(batch: list[PlannedOrder]) -> bytes:
    events = [e for o in batch for e in order_events(o)]
    return json.dumps({"events": events}, separators=(",", ":")).encode()


@dataclass
class ApiResult:
    seconds: float
    events: int
    statuses: Counter
    http_errors: list[str]
    rejections: list[dict]

    @property
    def applied(self) -> int:
        return self.statuses.get("applied", 0)

    @property
    def events_per_s(self) -> float:
        return self.applied / self.seconds if self.seconds else 0.0


def post_batch(
    conn: http.client.HTTPConnection, *, key_id: str, secret: str, body: bytes
) -> tuple[int, bytes]:
    ts = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "X-SC-Key": key_id,
        "X-SC-Timestamp": ts,
        "X-SC-Signature": sign(secret=secret, timestamp=ts, body=body),
    }
    try:
        conn.request("POST", "/api/v1/events", body=body, headers=headers)
        resp = conn.getresponse()
        return resp.status, resp.read()
    except (http.client.HTTPException, ConnectionError):
        # A server-closed keep-alive connection: reconnect once, re-sign, resend.
        conn.close()
        ts = str(int(time.time()))
        headers["X-SC-Timestamp"] = ts
        headers["X-SC-Signature"] = sign(secret=secret, timestamp=ts, body=body)
        conn.request("POST", "/api/v1/events", body=body, headers=headers)
        resp = conn.getresponse()
        return resp.status, resp.read()


def _results_of(payload: dict) -> list[dict]:
    for key in ("results", "events", "items"):
        if isinstance(payload.get(key), list):
            return payload[key]
    raise BenchError(f"cannot find the per-event results in {str(payload)[:300]}")


def run_api(*, port: int, key_id: str, secret: str, work: Workload, concurrency: int) -> ApiResult:
    bodies = [batch_body(b) for b in work.batches]  # serialised before the clock starts
    q: queue.Queue[bytes] = queue.Queue()
    for body in bodies:
        q.put(body)
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
                status, data = post_batch(conn, key_id=key_id, secret=secret, body=body)
                with lock:
                    if status != 200:
                        http_errors.append(f"{status}: {data[:300]!r}")
                        continue
                    for r in _results_of(json.loads(data)):
                        statuses[r.get("status") or r.get("result") or "?"] += 1
                        if (r.get("status") or r.get("result")) == "rejected" and len(
                            rejections
                        ) < 5:
                            rejections.append(r)
        finally:
            conn.close()

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - start
    return ApiResult(seconds, work.events, statuses, http_errors, rejections)


# --- baseline: the same rows through psycopg ----------------------------------------------------


def _row(spec: dict, values: dict, now: datetime, *, with_pk: bool) -> tuple[list[str], tuple]:
    cols, row = [], []
    for col, default in spec["columns"].items():
        if default == "__pk__":
            if not with_pk:
                continue
            value = values[col]
        elif col in values:
            value = values[col]
        elif default == "__now__":
            value = now
        elif default == "__required__":
            raise BenchError(f"baseline does not know how to fill {spec['table']}.{col}")
        else:
            value = default
        cols.append(col)
        row.append(value)
    return cols, tuple(row)


def _copy(cur, table: str, cols: list[str], rows: list[tuple]) -> None:
    with cur.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as cp:
        for r in rows:
            cp.write_row(r)


def baseline_batch(conn: psycopg.Connection, tables: dict, batch: list[PlannedOrder]) -> None:
    t_order, t_line, t_pay = tables["order"], tables["orderline"], tables["payment"]
    now = datetime.now(UTC)
    with conn.transaction(), conn.cursor() as cur:
        cur.execute(
            "SELECT nextval(%s) FROM generate_series(1, %s)", (t_order["sequence"], len(batch))
        )
        ids = [r[0] for r in cur.fetchall()]
        orders, lines, pays = [], [], []
        cols_o = cols_l = cols_p = None
        for oid, o in zip(ids, batch, strict=True):
            cols_o, row = _row(
                t_order,
                {
                    "id": oid, "shop_id": o.shop["id"], "buyer_id": o.buyer["id"],
                    "number": o.number, "status": "paid", "currency": o.shop["currency"],
                    "subtotal_minor": o.subtotal_minor, "shipping_fee_minor": o.shipping_fee_minor,
                    "amount_paid_minor": o.amount_minor, "payment_method": o.method,
                    "country": o.country, "placed_at": o.placed_at, "paid_at": o.paid_at,
                },
                now, with_pk=True,
            )  # fmt: skip
            orders.append(row)
            for sku, q, p in o.lines:
                cols_l, row = _row(
                    t_line,
                    {"order_id": oid, "sku_id": sku["id"], "quantity": q, "unit_price_minor": p},
                    now,
                    with_pk=False,
                )
                lines.append(row)
            cols_p, row = _row(
                t_pay,
                {
                    "order_id": oid, "external_id": o.payment_id, "amount_minor": o.amount_minor,
                    "currency": o.shop["currency"], "method": o.method, "status": "succeeded",
                    "paid_at": o.paid_at,
                },
                now, with_pk=False,
            )  # fmt: skip
            pays.append(row)
        _copy(cur, t_order["table"], cols_o, orders)
        _copy(cur, t_line["table"], cols_l, lines)
        _copy(cur, t_pay["table"], cols_p, pays)


@dataclass
class BaselineResult:
    seconds: float
    events: int

    @property
    def events_per_s(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


def drain_with_connections(*, url: str, batches, clients: int, handle, what: str) -> float:
    """Hand ``batches`` to ``clients`` threads, each with its own PostgreSQL connection (made
    before the clock starts), calling ``handle(conn, batch)``; the wall time of the whole lot.
    The first error of any thread is raised here (as ``BenchError``)."""
    q: queue.Queue = queue.Queue()
    for b in batches:
        q.put(b)
    conns = [psycopg.connect(url) for _ in range(clients)]
    errors: list[BaseException] = []

    def worker(conn: psycopg.Connection) -> None:
        try:
            while True:
                try:
                    batch = q.get_nowait()
                except queue.Empty:
                    return
                handle(conn, batch)
        except BaseException as exc:  # re-raised in the caller
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(c,)) for c in conns]
    try:
        start = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        seconds = time.perf_counter() - start
    finally:
        for c in conns:
            c.close()
    if errors:
        raise BenchError(f"{what} failed: {errors[0]!r}") from errors[0]
    return seconds


def run_baseline(*, url: str, tables: dict, work: Workload, concurrency: int) -> BaselineResult:
    seconds = drain_with_connections(
        url=url,
        batches=work.batches,
        clients=concurrency,
        handle=lambda conn, batch: baseline_batch(conn, tables, batch),
        what="baseline",
    )
    return BaselineResult(seconds, work.events)
