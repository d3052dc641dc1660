"""SPEC §0 simulator over HTTP behaves as a real client: a batch that meets a 5xx answer, a
429 or a dropped connection is sent again with backoff (bounded), never ending the run on one
error; errors that a retry cannot fix (401, 422) end it at once."""

import io
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from core.signing import sign
from demo import simulator


class FlakyServer:
    """A tiny marketplace endpoint: answers with the given script of failures first
    (an HTTP status, or "drop" to close the connection unanswered), then applies everything."""

    def __init__(self, script):
        self.script = list(script)
        self.requests: list[dict] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.requests.append(
                    {
                        "body": body,
                        "ts": self.headers["X-SC-Timestamp"],
                        "sig": self.headers["X-SC-Signature"],
                    }
                )
                step = outer.script.pop(0) if outer.script else 200
                if step == "drop":
                    self.close_connection = True
                    self.connection.close()
                    return
                if step != 200:
                    payload = json.dumps({"code": "unavailable", "message": "try later"})
                    self.send_response(step)
                    self.send_header("Retry-After", "0")
                else:
                    events = json.loads(body)["events"]
                    payload = json.dumps(
                        {
                            "results": [
                                {"event_id": e["event_id"], "status": "applied"} for e in events
                            ]
                        }
                    )
                    self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload.encode())

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


EVENTS = [{"event_id": "evt-1", "type": "buyer.upserted", "data": {}}]


def _sender(url, **kw):
    sleeps = []
    sender = simulator.HttpSender(
        url=url, key_id="sck_test", secret="scs_secret", sleep=sleeps.append, **kw
    )
    return sender, sleeps


def test_s0_http_sender_retries_5xx_429_and_dropped_connections_then_succeeds():
    # given a server that answers 503, drops the connection, answers 429, then works
    with FlakyServer([503, "drop", 429]) as server:
        sender, sleeps = _sender(server.url, attempts=6)
        # when one batch is sent
        results = sender.send(EVENTS)
    # then it arrived on the fourth try, with growing pauses in between
    assert results == [{"event_id": "evt-1", "status": "applied"}]
    assert len(server.requests) == 4
    assert sender.retries == 3
    assert len(sleeps) == 3
    assert sleeps[0] <= 0.5
    assert sleeps[1] <= 1.0
    assert sleeps[2] <= 2.0
    assert sleeps[2] >= 1.0  # exponential: the third pause is at least half of 2 s
    # and every try carried the same body, correctly signed
    bodies = {r["body"] for r in server.requests}
    assert len(bodies) == 1
    for r in server.requests:
        assert r["sig"] == sign(secret="scs_secret", timestamp=int(r["ts"]), body=r["body"])


def test_s0_http_sender_gives_up_after_its_attempts_naming_the_error():
    # given a server that never recovers
    with FlakyServer([503] * 10) as server:
        sender, sleeps = _sender(server.url, attempts=3)
        # when / then
        with pytest.raises(simulator.SimulatorError, match=r"HTTP 503 .*gave up after 3 attempts"):
            sender.send(EVENTS)
    assert len(server.requests) == 3
    assert len(sleeps) == 2


@pytest.mark.parametrize("status", [400, 401, 413, 422])
def test_s0_http_sender_does_not_retry_what_a_retry_cannot_fix(status):
    with FlakyServer([status]) as server:
        sender, sleeps = _sender(server.url, attempts=5)
        with pytest.raises(simulator.SimulatorError, match=f"HTTP {status}"):
            sender.send(EVENTS)
    assert len(server.requests) == 1
    assert sleeps == []


def test_s0_http_sender_retries_a_server_that_is_not_listening_yet():
    # given a port nothing listens on
    with FlakyServer([]) as server:
        url = server.url
    sender, sleeps = _sender(url, attempts=2)
    with pytest.raises(simulator.SimulatorError, match=r"cannot reach .*gave up after 2 attempts"):
        sender.send(EVENTS)
    assert len(sleeps) == 1


def test_s0_simulate_command_over_http_survives_transient_errors(db):
    # given a server that fails twice before it answers
    out, err = io.StringIO(), io.StringIO()
    with FlakyServer([503, 502]) as server:
        # when the command streams 60 events to it
        call_command(
            "simulate",
            *("--rate", "0", "--events", "60", "--seed", "4", "--http", server.url),
            *("--key", "sck_test", "--secret", "scs_secret"),
            stdout=out,
            stderr=err,
        )
    # then the run went on to the end, saying what it retried
    assert "total sent=60" in out.getvalue()
    assert err.getvalue().count("retrying in") == 2
    assert "HTTP 503" in err.getvalue()


def test_s0_simulate_command_rejects_zero_attempts(db):
    with pytest.raises(CommandError, match="--attempts at least 1"):
        call_command("simulate", "--attempts", "0", "--events", "1")
