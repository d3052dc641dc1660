"""Click benchmark (SPEC A-4): ``GET /t/<code>`` under load against a bare 302 on the same server.

Load comes from wrk (C, epoll) with ``wrk_plain.lua``: ``connections`` connections on
``threads`` threads, each request with a browser-like user agent and referrer and no cookie.

- **Product**: ``/t/<code>`` of a real tracking link (bench fixture): the link's destination
  (cached), the click pushed onto the Redis buffer, the click cookie, a 302. While it runs, the
  beat's flusher (``clicks.flush`` every 5 s, as ``affiliate-clicks-flush``) runs in its own
  process on the same machine, moving the buffer into PostgreSQL — its cost is part of the
  product's.
- **Baseline**: ``/bench/t/<code>`` (``bench/baseline_views.py``): the same 302 (same location,
  cookie and headers) through the same middleware, recording nothing. Measured before and after
  the product; the mean of the two is the baseline (a drifting shared machine moves both).
- **Clicks lost**: after the flusher drained the buffer, the link's rows in PostgreSQL minus
  those before the run, against the 302s wrk counted (wrk counts a response once it is read; a
  request in flight when wrk stops may be recorded without being counted, so rows may exceed the
  302s, never the reverse). Lost = max(0, 302s − new rows); the goal is 0.
"""

from __future__ import annotations

import http.client
import subprocess
from pathlib import Path

from . import procs
from .dashboard import WRK, BenchError, WrkResult, parse_wrk

LUA = Path(__file__).with_name("wrk_plain.lua")
BASELINE_PREFIX = "/bench/t/"


def check_redirect(port: int, path: str, destination: str) -> None:
    """One GET must answer 302 to ``destination`` with the click cookie, or the figures mean
    nothing (a 404 is cheaper than a redirect)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        resp.read()
    finally:
        conn.close()
    location = resp.getheader("Location")
    cookie = resp.getheader("Set-Cookie") or ""
    if resp.status != 302 or location != destination or "sc_aff_click=" not in cookie:
        raise BenchError(
            f"GET {path} answered {resp.status} to {location!r} (cookie {cookie[:40]!r}), "
            f"not 302 to {destination!r} with the click cookie"
        )


def run_wrk(*, port: int, path: str, connections: int, threads: int, seconds: float) -> WrkResult:
    cmd = [
        WRK,
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--timeout", "30s",
        "-s", str(LUA),
        f"http://127.0.0.1:{port}{path}",
    ]  # fmt: skip
    proc = procs.popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        out, _ = proc.communicate(timeout=seconds + 120)
    finally:
        procs.terminate(proc)
    if proc.returncode != 0:
        raise BenchError(f"wrk failed ({proc.returncode}):\n{out[-2000:]}")
    return parse_wrk(out)


def answered(r: WrkResult) -> int:
    """Redirects wrk read: its requests minus those answered with a status of 400 or more."""
    return r.requests - r.errors.get("status", 0)


def lost(*, answered_302: int, rows_before: int, rows_after: int) -> int:
    """Answered clicks with no row after the flush (never negative: see the module docstring)."""
    return max(0, answered_302 - (rows_after - rows_before))
