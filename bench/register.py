"""Register benchmark: buyer registrations through the signed API, ``POST /api/v1/buyers/register``.

Workload: ``count`` registrations, each with its own email and client address (so neither the
per-contact nor the per-IP rate limit is what is measured), sent by ``concurrency`` client
threads (http.client, one keep-alive connection each). Every answer must be 202.

Baseline, same server, same run: ``POST /bench/register-baseline`` — a bare view that does the
same password hash (the configured hasher: Argon2) and one INSERT of a buyer, nothing else (no
signature, no validation, no code, no rate limits). The ratio says how much of that budget the
real registration keeps; the hash dominates both, by design.

Both write buyers whose emails start with ``bench-reg-``; they are deleted afterwards.
"""

from __future__ import annotations

import http.client
import json
import queue
import threading
import time
from collections import Counter
from dataclasses import dataclass

from core.signing import sign

EMAIL_PREFIX = "bench-reg-"
PASSWORD = "Bench-Pass-2468"


@dataclass
class Result:
    seconds: float
    count: int
    statuses: Counter
    errors: list[str]

    @property
    def per_s(self) -> float:
        ok = sum(n for s, n in self.statuses.items() if 200 <= s < 300)
        return ok / self.seconds if self.seconds else 0.0


def bodies(*, count: int, tag: str) -> list[bytes]:
    out = []
    for i in range(count):
        out.append(
            json.dumps(
                {
                    "contact": f"{EMAIL_PREFIX}{tag}-{i}@example.com",
                    "password": PASSWORD,
                    "country": "US",
                    "client_ip": f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}",
                    "device_id": f"bench-{tag}-{i}",
                },
                separators=(",", ":"),
            ).encode()
        )
    return out


def _post(conn, path: str, body: bytes, headers: dict) -> tuple[int, bytes]:
    try:
        conn.request("POST", path, body=body, headers=headers)
        resp = conn.getresponse()
        return resp.status, resp.read()
    except (http.client.HTTPException, ConnectionError):
        conn.close()  # a server-closed keep-alive connection: once more
        conn.request("POST", path, body=body, headers=headers)
        resp = conn.getresponse()
        return resp.status, resp.read()


def run(
    *,
    port: int,
    path: str,
    work: list[bytes],
    concurrency: int,
    key_id: str | None = None,
    secret: str | None = None,
) -> Result:
    q: queue.Queue[bytes] = queue.Queue()
    for body in work:
        q.put(body)
    statuses: Counter = Counter()
    errors: list[str] = []
    lock = threading.Lock()

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        try:
            while True:
                try:
                    body = q.get_nowait()
                except queue.Empty:
                    return
                headers = {"Content-Type": "application/json"}
                if key_id and secret:
                    ts = str(int(time.time()))
                    headers.update(
                        {
                            "X-SC-Key": key_id,
                            "X-SC-Timestamp": ts,
                            "X-SC-Signature": sign(secret=secret, timestamp=ts, body=body),
                        }
                    )
                status, data = _post(conn, path, body, headers)
                with lock:
                    statuses[status] += 1
                    if not 200 <= status < 300 and len(errors) < 5:
                        errors.append(f"{status}: {data[:300]!r}")
        finally:
            conn.close()

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return Result(time.perf_counter() - start, len(work), statuses, errors)
