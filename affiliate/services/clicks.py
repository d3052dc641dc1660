"""The click path (SPEC A-4): record a click on the request path, flush the buffer in bulk.

Durability promise — **an answered click is never lost and never written twice**:

1. On the request path a click gets its ``click_id`` (random, 128 bits) and is ``RPUSH``-ed as
   one JSON item onto the Redis list ``affiliate:clicks``. Only after Redis acknowledged the
   push (or, see 4, the row is committed) does the redirect answer 302.
2. The flusher (beat, every few seconds; one at a time under a Redis lock whose lifetime is
   longer than the task's hard time limit) first re-inserts whatever a previous flusher left
   in ``affiliate:clicks:processing`` (it died mid-flush), then atomically moves a batch from
   the buffer to that processing list (a Lua ``LMOVE`` loop), inserts it with
   ``INSERT … ON CONFLICT (click_id) DO NOTHING`` in one transaction, and only after that
   commit deletes the processing list. A flusher killed at any step leaves each click either
   in the buffer or in the processing list (never lost), and the unique ``click_id`` makes a
   second insert of a committed batch a no-op (never twice).
3. Redis persistence is the operator's part of the promise: run Redis with AOF
   (``appendonly yes``, ``appendfsync everysec`` loses at most a second on a power cut).
4. Redis down or not configured (the embedded ``make run``): the click is inserted directly,
   synchronously (slower, same row, same ``click_id``). If that fails too, the redirect answers
   503 rather than a 302 for a click it did not keep.
5. Attribution does not wait for the flush (SPEC A-5): an order placed while its click was still
   buffered finds no click row when its ``order.created`` is handled, so after each committed
   batch the flusher attributes the orders that named one of its clicks and have no commission
   yet (``commissions.orders_attribute_for_clicks``, idempotent).
"""

from __future__ import annotations

import ipaddress
import json
import logging
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import DataError, IntegrityError, transaction

from core import clock
from core.errors import DomainError

from .. import rules
from ..models import Click, Link, Pid, PidStatus
from .commissions import orders_attribute_for_clicks

log = logging.getLogger(__name__)

QUEUE = "affiliate:clicks"
PROCESSING = "affiliate:clicks:processing"
LOCK = "affiliate:clicks:flush-lock"
DEAD = "affiliate:clicks:dead"
_LINK_CACHE_SECONDS = 60

# Moves up to ARGV[1] items from the buffer's head to the processing list's tail, atomically.
_MOVE = """
local moved = {}
for i = 1, tonumber(ARGV[1]) do
  local v = redis.call('LMOVE', KEYS[1], KEYS[2], 'LEFT', 'RIGHT')
  if not v then break end
  moved[#moved + 1] = v
end
return moved
"""

_client: Any = None


def redis_client() -> Any:
    """The Redis connection of the click buffer (``REDIS_URL``), or None when not configured.
    Short timeouts: a slow Redis must not hold the redirect; the fallback inserts directly."""
    global _client
    if not settings.REDIS_URL:
        return None
    if _client is None:
        import redis

        _client = redis.Redis.from_url(
            settings.REDIS_URL, socket_timeout=0.25, socket_connect_timeout=0.25
        )
    return _client


@dataclass(frozen=True)
class LinkTarget:
    link_id: int
    pid_id: int
    destination: str
    earns: bool  # the PID is active
    # The click cookie's lifetime: the attribution window, read with the link so the hot
    # path reads no rule number (a registry read is a query).
    cookie_seconds: int


# The link cache: ``affiliate:target:<code>`` → the JSON array of a LinkTarget, or "-" for a
# code that leads nowhere (an unknown code, or a stored destination off the allow-list), in the
# click buffer's Redis, a minute. A PID's freeze or reactivation drops its links (forget_links).
_TARGET = "affiliate:target:"
_MISSING = "-"

# The hot path in one round trip: the cached target of the code and, when there is one, the click
# pushed onto the buffer as ARGV[1] (the item's JSON up to its "t" key) + the target + "}".
_RECORD = """
local v = redis.call('GET', KEYS[1])
if (not v) or v == '-' then return v end
redis.call('RPUSH', KEYS[2], ARGV[1] .. v .. '}')
return v
"""
_record_script: Any = None


def _valid_code(code: str) -> bool:
    return bool(code) and len(code) <= 16 and code.replace("-", "").replace("_", "").isalnum()


def _link_row(code: str) -> LinkTarget | None:
    """The link from the database; None when unknown or its stored destination is off the
    allow-list (stored before the list changed, or tampered with: never followed)."""
    row = (
        Link.objects.filter(code=code)
        .values_list("pk", "pid_id", "destination", "pid__status")
        .first()
    )
    if row is None:
        return None
    try:
        rules.check_destination(row[2], hosts=rules.redirect_hosts())
    except DomainError:
        log.error("tracking link %s has a destination off the allow-list", code)
        return None
    window = int(rules.attribution_window().total_seconds())
    return LinkTarget(row[0], row[1], row[2], row[3] == PidStatus.ACTIVE, window)


def _encode(target: LinkTarget | None) -> str:
    if target is None:
        return _MISSING
    return json.dumps(
        [target.link_id, target.pid_id, target.destination, target.earns, target.cookie_seconds],
        separators=(",", ":"),
    )


def _decode_target(raw: bytes | str) -> LinkTarget | None:
    text = raw.decode() if isinstance(raw, bytes) else raw
    return None if text == _MISSING else LinkTarget(*json.loads(text))


def link_target(code: str) -> LinkTarget | None:
    """The stored destination of ``/t/<code>`` (cached a minute in the click buffer's Redis, or
    Django's cache without one; a PID's freeze or reactivation drops its links)."""
    if not _valid_code(code):
        return None
    client = redis_client()
    key = _TARGET + code
    try:
        hit = client.get(key) if client is not None else cache.get(key)
    except Exception:
        hit = None
    if hit is not None:
        return _decode_target(hit)
    target = _link_row(code)
    try:
        if client is not None:
            client.set(key, _encode(target), ex=_LINK_CACHE_SECONDS)
        else:
            cache.set(key, _encode(target), _LINK_CACHE_SECONDS)
    except Exception:  # a cache outage costs a query per click, nothing more
        log.warning("link cache unavailable", exc_info=True)
    return target


def forget_links(*, pid_id: int) -> None:
    keys = [_TARGET + c for c in Link.objects.filter(pid_id=pid_id).values_list("code", flat=True)]
    if not keys:
        return
    try:
        client = redis_client()
        if client is not None:
            client.delete(*keys)
        cache.delete_many(keys)
    except Exception:
        log.warning("could not drop cached links of PID %s", pid_id)


def new_click_id() -> str:
    return secrets.token_hex(16)


def _ip(value: str | None) -> str | None:
    try:
        return str(ipaddress.ip_address((value or "").strip()))
    except ValueError:
        return None


def _text(value: str | None, limit: int) -> str:
    # PostgreSQL text refuses NUL; headers are the client's to fill with anything.
    return (value or "").replace("\x00", "")[:limit]


def click_record(
    *, target: LinkTarget, ip: str | None, user_agent: str, referrer: str
) -> str | None:
    """SPEC A-4, on the request path: buffer the click (or insert it when Redis is away).
    Returns its click id, or None when it could not be kept anywhere."""
    click_id = new_click_id()
    item: dict[str, Any] = {
        "id": click_id,
        "link": target.link_id,
        "pid": target.pid_id,
        "at": clock.now().timestamp(),
        "ip": _ip(ip),
        "ua": _text(user_agent, 512),
        "ref": _text(referrer, 1024),
        "earns": target.earns,
    }
    client = redis_client()
    if client is not None:
        try:
            client.rpush(QUEUE, json.dumps(item, separators=(",", ":")))
            return click_id
        except Exception:
            log.warning("click buffer unavailable; inserting the click directly", exc_info=True)
    try:
        with transaction.atomic():
            _insert([item])
    except Exception:
        log.exception("click %s could not be recorded", item["id"])
        return None
    return click_id


def click_take(
    *, code: str, ip: str | None, user_agent: str, referrer: str
) -> tuple[LinkTarget | None, str | None]:
    """SPEC A-4, the request path of ``/t/<code>``: the link's target and the click recorded —
    in one Redis round trip when the link is cached (a script reads the target and pushes the
    click with it); else the link is read, cached, and the click recorded by ``click_record``.
    Returns (None, None) for a code that leads nowhere, (target, None) when the click could not
    be kept anywhere."""
    global _record_script
    if not _valid_code(code):
        return None, None
    client = redis_client()
    if client is not None:
        click_id = new_click_id()
        head = json.dumps(
            {
                "id": click_id,
                "at": clock.now().timestamp(),
                "ip": _ip(ip),
                "ua": _text(user_agent, 512),
                "ref": _text(referrer, 1024),
            },
            separators=(",", ":"),
        )
        try:
            if _record_script is None:
                _record_script = client.register_script(_RECORD)
            raw = _record_script(keys=[_TARGET + code, QUEUE], args=[head[:-1] + ',"t":'])
        except Exception:
            log.warning("click buffer unavailable", exc_info=True)
        else:
            if raw is not None:  # cached: pushed with its target (or a code leading nowhere)
                target = _decode_target(raw)
                return target, (click_id if target is not None else None)
    target = link_target(code)
    if target is None:
        return None, None
    return target, click_record(target=target, ip=ip, user_agent=user_agent, referrer=referrer)


def _row(item: dict[str, Any]) -> Click:
    if "t" in item:  # pushed by the hot path's script: the link target as an array
        link_id, pid_id, _, earns, _ = item["t"]
        item = {**item, "link": link_id, "pid": pid_id, "earns": earns}
    return Click(
        click_id=item["id"],
        link_id=item["link"],
        pid_id=item["pid"],
        clicked_at=datetime.fromtimestamp(float(item["at"]), tz=UTC),
        ip=item.get("ip") or None,
        user_agent=item.get("ua") or "",
        referrer=item.get("ref") or "",
        earns=bool(item.get("earns", True)),
    )


def _insert(items: list[dict[str, Any]]) -> int:
    """Insert ``items`` once: ``ON CONFLICT (click_id) DO NOTHING``; then move each PID's last
    valid click forward (SPEC A-3: what keeps it from freezing). Inside a transaction."""
    rows = [_row(i) for i in items]
    Click.objects.bulk_create(rows, ignore_conflicts=True, batch_size=1000)
    last: dict[int, datetime] = {}
    for r in rows:
        if r.earns and (r.pid_id not in last or r.clicked_at > last[r.pid_id]):
            last[r.pid_id] = r.clicked_at
    for pid_id in sorted(last):  # pk order (DESIGN §3)
        Pid.objects.filter(pk=pid_id).exclude(last_valid_click_at__gte=last[pid_id]).update(
            last_valid_click_at=last[pid_id]
        )
    return len(rows)


def clicks_insert(*, items: list[dict[str, Any]]) -> int:
    """Insert already-made click items (the demo's history; a replayed buffer). Idempotent."""
    return _insert(items)


def _decode(raw: list[bytes]) -> list[dict[str, Any]]:
    items = []
    for value in raw:
        try:
            items.append(json.loads(value))
        except (ValueError, TypeError):
            log.error("dropping an unreadable click buffer item: %r", value[:200])
    return items


def _flush_processing(client: Any) -> int:
    raw = client.lrange(PROCESSING, 0, -1)
    if not raw:
        return 0
    items = _decode(raw)
    try:
        with transaction.atomic():
            n = _insert(items)
    except (IntegrityError, DataError):
        # One bad item (its link gone, a value the column refuses) must not block every click
        # behind it: insert one by one, and park what the database refuses in the dead list
        # for an operator — kept, not lost, and logged.
        n = 0
        for item in items:
            try:
                with transaction.atomic():
                    n += _insert([item])
            except (IntegrityError, DataError):
                log.error("click %s refused by the database; kept in %s", item.get("id"), DEAD)
                client.rpush(DEAD, json.dumps(item, separators=(",", ":")))
    _after_commit_hook()
    # SPEC A-5: an order placed while its click was still buffered found no click row when
    # its order.created was handled; now that the clicks are committed, attribute it. Before
    # the processing list goes: a flusher killed here leaves the batch to the next one, which
    # inserts nothing twice and attributes idempotently.
    orders_attribute_for_clicks(clicks=[_row(i) for i in items])
    client.delete(PROCESSING)  # only after the rows are committed
    return n


def _after_commit_hook() -> None:
    """The step between the insert's commit and the processing list's deletion: the place a
    crash test kills the flusher (a no-op otherwise)."""


def flush(*, batch: int | None = None, max_seconds: float = 30.0) -> int:
    """Move buffered clicks into PostgreSQL; returns how many items were inserted (or found
    already there). One flusher at a time (Redis lock); safe to kill at any step."""
    client = redis_client()
    if client is None:
        return 0
    batch = batch or settings.SC_AFFILIATE_CLICK_FLUSH_BATCH
    token = secrets.token_hex(8)
    # Longer than the task's hard limit: a live flusher never loses its lock to a second one.
    lock_seconds = int(settings.CELERY_TASK_TIME_LIMIT) + 60
    if not client.set(LOCK, token, nx=True, ex=lock_seconds):
        return 0
    done = 0
    started = time.monotonic()
    try:
        done += _flush_processing(client)  # what a killed flusher left behind
        move = client.register_script(_MOVE)
        while time.monotonic() - started < max_seconds:
            moved = move(keys=[QUEUE, PROCESSING], args=[batch])
            if not moved:
                break
            done += _flush_processing(client)
            if len(moved) < batch:
                break
    finally:
        # Release only our own lock.
        client.eval(
            "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end",
            1,
            LOCK,
            token,
        )
    return done


def buffered() -> int:
    """Clicks answered but not yet in PostgreSQL (the buffer and an interrupted batch)."""
    client = redis_client()
    if client is None:
        return 0
    return int(client.llen(QUEUE)) + int(client.llen(PROCESSING))
