"""Processes the harness starts: gunicorn servers, management commands, wrk.

Every process is started in its own session (process group) and registered, so that
:func:`kill_all` can end it and its children on any exit path: normal end, an exception,
Ctrl-C, or SIGTERM (turned into SystemExit by :func:`install_signal_handlers`).

Memory: ``VmHWM`` in ``/proc/<pid>/status`` is the process's peak resident set size.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import resource
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

_live: dict[int, subprocess.Popen] = {}
_lock = threading.Lock()


def free_port() -> int:
    """A free loopback TCP port (bound then released; the tiny race is acceptable here)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def install_signal_handlers() -> None:
    """SIGTERM/SIGHUP end the run like Ctrl-C does, so ``finally`` blocks clean up."""

    def handler(signum, frame):
        raise SystemExit(128 + signum)

    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, handler)


def popen(cmd: list[str], **kwargs) -> subprocess.Popen:
    proc = subprocess.Popen(cmd, start_new_session=True, **kwargs)
    with _lock:
        _live[proc.pid] = proc
    return proc


def forget(proc: subprocess.Popen) -> None:
    with _lock:
        _live.pop(proc.pid, None)


def terminate(proc: subprocess.Popen, *, grace: float = 10.0) -> None:
    """SIGTERM the process group, then SIGKILL it after ``grace`` seconds."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)
    else:
        # The leader is gone; make sure nothing of its group is left behind.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
    forget(proc)


def kill_all() -> None:
    with _lock:
        procs = list(_live.values())
    for proc in procs:
        terminate(proc, grace=5.0)


# --- /proc ---------------------------------------------------------------------------------------


def _status_kb(pid: int, key: str) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return 0
    return 0


def children(pid: int) -> list[int]:
    out: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except FileNotFoundError:
        return out
    for tid in tasks:
        try:
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                out.extend(int(x) for x in f.read().split())
        except (FileNotFoundError, ProcessLookupError):
            continue
    return out


def process_tree(pid: int) -> list[int]:
    """``pid`` and all its descendants."""
    seen, todo = [], [pid]
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.append(p)
        todo.extend(children(p))
    return seen


def tree_hwm_kb(pid: int) -> int:
    """Sum of the peak RSS (VmHWM) of ``pid`` and its descendants, in KiB."""
    return sum(_status_kb(p, "VmHWM") for p in process_tree(pid))


def tree_rss_kb(pid: int) -> int:
    return sum(_status_kb(p, "VmRSS") for p in process_tree(pid))


class RssSampler:
    """Samples the summed current RSS of a process tree and keeps the highest value seen."""

    def __init__(self, pid: int, interval: float = 0.2) -> None:
        self.pid = pid
        self.interval = interval
        self.peak_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak_kb = max(self.peak_kb, tree_rss_kb(self.pid))
            self._stop.wait(self.interval)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


# --- commands ------------------------------------------------------------------------------------


@dataclass
class Measured:
    returncode: int
    seconds: float
    peak_rss_kb: int  # max(ru_maxrss of the process tree, sampled peak of its summed RSS)


def run_measured(cmd: list[str], *, env: dict[str, str], log: Path | None = None) -> Measured:
    """Run ``cmd`` to completion, measuring wall time and peak memory.

    ``os.wait4`` gives the child's own rusage, whose ``ru_maxrss`` is the largest RSS of the
    child and of any descendant it waited for; a sampler adds the summed RSS of the tree, for
    a command that runs worker processes side by side.
    """
    out = open(log, "ab") if log else None  # noqa: SIM115
    try:
        start = time.perf_counter()
        proc = popen(cmd, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT if out else None)
        with RssSampler(proc.pid, interval=0.5) as sampler:
            _pid, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        forget(proc)
        return Measured(proc.returncode, seconds, max(usage.ru_maxrss, sampler.peak_kb))
    finally:
        if out:
            out.close()


def run(
    cmd: list[str], *, env: dict[str, str], log: Path | None = None, capture: bool = False
) -> str:
    """Run ``cmd``; raise with its output on failure. Returns stdout when ``capture``."""
    proc = popen(cmd, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        stdout, stderr = proc.communicate()
    finally:
        forget(proc)
    if log:
        with open(log, "a") as f:
            f.write(f"$ {' '.join(cmd)}\n{stdout}{stderr}\n")
    if proc.returncode != 0:
        raise RuntimeError(
            f"command failed ({proc.returncode}): {' '.join(cmd)}\n"
            f"{stderr[-4000:] or stdout[-4000:]}"
        )
    return stdout if capture else ""


def children_maxrss_kb() -> int:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss


# --- gunicorn ------------------------------------------------------------------------------------


class Server:
    """gunicorn ``sellercenter.wsgi`` with 2 sync workers on a free loopback port."""

    def __init__(self, *, env: dict[str, str], workers: int, log: Path, timeout: int = 120) -> None:
        self.env = env
        self.workers = workers
        self.log = log
        self.timeout = timeout
        self.port = 0
        self.proc: subprocess.Popen | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Server:
        self.port = free_port()
        cmd = [
            str(Path(sys.executable).with_name("gunicorn")),
            "sellercenter.wsgi:application",
            "--workers", str(self.workers),
            "--bind", f"127.0.0.1:{self.port}",
            # Generous: a 500-event batch on a busy 2-core machine must not be killed mid-way.
            "--timeout", str(self.timeout),
            "--graceful-timeout", "5",
            "--chdir", str(ROOT),
            "--error-logfile", str(self.log),
        ]  # fmt: skip
        self.log.parent.mkdir(parents=True, exist_ok=True)
        self.proc = popen(
            cmd, env=self.env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        self._wait_ready()
        return self

    def _wait_ready(self, limit: float = 60.0) -> None:
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.proc.returncode}; see {self.log}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", "/healthz")
                resp = conn.getresponse()
                resp.read()
                conn.close()
                if resp.status == 200 and len(process_tree(self.proc.pid)) > self.workers:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer /healthz within {limit:.0f} s; see {self.log}")

    def peak_rss_kb(self) -> int:
        """Sum of VmHWM over the master and its workers (an upper bound of their joint peak)."""
        return tree_hwm_kb(self.proc.pid) if self.proc else 0

    def stop(self) -> None:
        if self.proc is not None:
            terminate(self.proc)
            self.proc = None

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
