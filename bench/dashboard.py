"""Dashboard benchmark: ``/`` and ``/orders/`` under N concurrent logged-in sessions.

Load comes from wrk (C, epoll) with ``wrk_sessions.lua``: N connections, the session cookies of
N distinct users (each the owner of a different seeded shop) taken round-robin. The baseline,
``/bench/baseline`` (bench/baseline_views.py), is served by the same gunicorn, with the same
sessions, for the same duration, in the same run.
"""

from __future__ import annotations

import http.client
import json
import re
import subprocess
import tempfile
import time
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

from . import procs

WRK = "/usr/bin/wrk"
LUA = Path(__file__).with_name("wrk_sessions.lua")

PAGES = {
    # entry prefix: path
    "dashboard": "/",
    "orders_list": "/orders/",
}
BASELINE_PATH = "/bench/baseline"


class BenchError(RuntimeError):
    pass


def _cookies(resp: http.client.HTTPResponse) -> dict[str, str]:
    jar: dict[str, str] = {}
    for header in resp.headers.get_all("Set-Cookie") or []:
        c = SimpleCookie()
        c.load(header)
        for k, morsel in c.items():
            jar[k] = morsel.value
    return jar


def login(port: int, username: str, password: str) -> str:
    """Log in through the real login form; return the ``sessionid`` cookie value."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request("GET", "/accounts/login/")
        resp = conn.getresponse()
        body = resp.read().decode("utf-8", "replace")
        jar = _cookies(resp)
        if resp.status != 200 or "csrftoken" not in jar:
            raise BenchError(f"GET /accounts/login/ answered {resp.status} without a CSRF cookie")
        m = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', body)
        token = m.group(1) if m else jar["csrftoken"]
        form = urlencode(
            {"username": username, "password": password, "csrfmiddlewaretoken": token, "next": "/"}
        )
        conn.request(
            "POST",
            "/accounts/login/",
            body=form,
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Cookie": f"csrftoken={jar['csrftoken']}",
                "Referer": f"http://127.0.0.1:{port}/accounts/login/",
            },
        )
        resp = conn.getresponse()
        resp.read()
        jar.update(_cookies(resp))
        if resp.status != 302 or "sessionid" not in jar:
            raise BenchError(
                f"login of {username} answered {resp.status} (expected a 302 with a session)"
            )
        return jar["sessionid"]
    finally:
        conn.close()


def check_page(port: int, path: str, sessionid: str) -> int:
    """GET ``path`` with the session; the page must answer 200 (a 302 means not logged in)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        start = time.perf_counter()
        conn.request("GET", path, headers={"Cookie": f"sessionid={sessionid}"})
        resp = conn.getresponse()
        body = resp.read()
        elapsed = time.perf_counter() - start
    finally:
        conn.close()
    if resp.status != 200:
        raise BenchError(
            f"GET {path} answered {resp.status} for a logged-in session "
            f"({resp.getheader('Location') or body[:200]!r})"
        )
    return int(elapsed * 1000)


@dataclass
class WrkResult:
    requests: int
    seconds: float
    errors: dict
    p50_ms: float
    p90_ms: float
    p95_ms: float
    p99_ms: float
    mean_ms: float
    max_ms: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())


def parse_wrk(output: str) -> WrkResult:
    for line in output.splitlines():
        if line.startswith("@@WRK@@"):
            d = json.loads(line[len("@@WRK@@") :])
            lat = d["latency_us"]
            return WrkResult(
                requests=d["requests"],
                seconds=d["duration_us"] / 1e6,
                errors=d["errors"],
                p50_ms=lat["p50"] / 1000,
                p90_ms=lat["p90"] / 1000,
                p95_ms=lat["p95"] / 1000,
                p99_ms=lat["p99"] / 1000,
                mean_ms=lat["mean"] / 1000,
                max_ms=lat["max"] / 1000,
            )
    raise BenchError(f"wrk printed no summary:\n{output[-2000:]}")


def run_wrk(
    *,
    port: int,
    path: str,
    cookie_file: Path,
    connections: int,
    threads: int,
    seconds: float,
    think_ms: int = 0,
) -> WrkResult:
    cmd = [
        WRK,
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--timeout", "30s",
        "-s", str(LUA),
        f"http://127.0.0.1:{port}{path}",
        "--", str(cookie_file), str(think_ms),
    ]  # fmt: skip
    proc = procs.popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        out, _ = proc.communicate(timeout=seconds + 120)
    finally:
        procs.terminate(proc)
    if proc.returncode != 0:
        raise BenchError(f"wrk failed ({proc.returncode}):\n{out[-2000:]}")
    return parse_wrk(out)


def run(
    *,
    server: procs.Server,
    users: list[dict],
    password: str,
    sessions: int,
    seconds: float,
    warmup: float,
    log,
    think_ms: int = 0,
) -> dict[str, WrkResult]:
    """Log the users in, check every page answers 200, then load each path in turn."""
    port = server.port
    t0 = time.perf_counter()
    cookies = [login(port, u["username"], password) for u in users[:sessions]]
    log(f"  logged in {len(cookies)} sessions in {time.perf_counter() - t0:.1f} s")
    paths = {**PAGES, "baseline": BASELINE_PATH}
    for name, path in paths.items():
        cold = [check_page(port, path, c) for c in cookies]
        log(f"  {name} {path}: 200 for every session (first pass {min(cold)}-{max(cold)} ms)")
    results: dict[str, WrkResult] = {}
    with tempfile.NamedTemporaryFile("w", prefix="bench-cookies-", suffix=".txt") as f:
        f.write("".join(f"sessionid={c}\n" for c in cookies))
        f.flush()
        cookie_file = Path(f.name)
        threads = min(2, sessions)
        for name, path in paths.items():
            if warmup > 0:
                run_wrk(
                    port=port,
                    path=path,
                    cookie_file=cookie_file,
                    connections=sessions,
                    threads=threads,
                    seconds=warmup,
                    think_ms=think_ms,
                )
            r = run_wrk(
                port=port,
                path=path,
                cookie_file=cookie_file,
                connections=sessions,
                threads=threads,
                seconds=seconds,
                think_ms=think_ms,
            )
            results[name] = r
            log(
                f"  {name:<12} {r.rps:8.1f} req/s  p50 {r.p50_ms:7.1f} ms  p95 {r.p95_ms:7.1f} ms  "
                f"p99 {r.p99_ms:7.1f} ms  ({r.requests} requests, {r.error_count} errors)"
            )
            if r.error_count:
                log(f"  WARNING: {name}: wrk counted errors {r.errors}")
    return results
