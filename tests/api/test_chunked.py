"""Issue 6, fault 6: a correctly signed body sent with ``Transfer-Encoding: chunked``.

Django reads a WSGI body only up to ``Content-Length``; a chunked body has none and used to read
as empty, so its signature failed (401 ``bad_signature``). Now: a server that decodes the chunks
and says so (``wsgi.input_terminated``: gunicorn, what production runs) has the body read and
applied; a server that cannot (Django's runserver, ``live_server``) answers 411
``length_required``. Real HTTP requests, chunked on the wire by ``http.client``.
"""

import http.client
import io
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler
from django.db import connection

from integrations.services import integration_create
from orders.models import IngestedEvent, Order

from .support import URL, ev, order_created_data, signed_headers

ROOT = Path(__file__).resolve().parents[2]


def _signed(secret: str, key_id: str, body: bytes) -> dict[str, str]:
    """The signature headers as HTTP header names."""
    meta = signed_headers(key_id=key_id, secret=secret, body=body)
    return {k.removeprefix("HTTP_").replace("_", "-"): v for k, v in meta.items()}


def _post_chunked(base_url: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict]:
    parts = urlsplit(base_url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        chunks = (body[i : i + 97] for i in range(0, len(body), 97))  # several chunks
        conn.request(
            "POST",
            URL,
            body=chunks,
            headers={
                "Content-Type": "application/json",
                "Transfer-Encoding": "chunked",
                "Connection": "close",
                **headers,
            },
            encode_chunked=True,
        )
        response = conn.getresponse()
        return response.status, json.loads(response.read())
    finally:
        conn.close()


@pytest.fixture
def signed_batch(transactional_db, shop_a, buyer, sku_a):
    integration, secret = integration_create(name="Chunked sender")
    body = json.dumps(
        {"events": [ev("order.created", order_created_data(shop_a, buyer, sku_a, number="CH-1"))]}
    ).encode()
    return body, _signed(secret, integration.key_id, body)


def _post_chunk_then_read(base_url: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict]:
    """Send the headers and a first chunk, then read the answer before sending more: a server
    that refuses chunked bodies answers (and closes) without reading them, and a client that
    went on writing would see a broken pipe instead of the answer on a loaded machine."""
    parts = urlsplit(base_url)
    sock = socket.create_connection((parts.hostname, parts.port), timeout=30)
    try:
        head = [f"POST {URL} HTTP/1.1", f"Host: {parts.hostname}:{parts.port}"]
        head += ["Content-Type: application/json", "Transfer-Encoding: chunked"]
        head += ["Connection: close", *(f"{k}: {v}" for k, v in headers.items())]
        first = body[:97]
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + b"%x\r\n" % len(first))
        sock.sendall(first + b"\r\n")
        response = http.client.HTTPResponse(sock)
        response.begin()
        return response.status, json.loads(response.read())
    finally:
        sock.close()


def test_s0_chunked_body_on_a_server_that_cannot_read_it_is_411(live_server, signed_batch):
    # given a correctly signed batch, and Django's own server (it hands over the raw chunks)
    body, headers = signed_batch
    # when it is sent chunked
    status, answer = _post_chunk_then_read(live_server.url, body, headers)
    # then the answer says what to do, not that the signature is wrong; nothing changed
    assert status == 411
    assert answer["code"] == "length_required"
    assert "Content-Length" in answer["message"]
    assert not Order.objects.exists()
    assert not IngestedEvent.objects.exists()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def gunicorn_url(transactional_db):
    """gunicorn serving the app on the test database (limit: 20,000 bytes)."""
    db = connection.settings_dict
    port = _free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "sellercenter.settings_test",
        "DATABASE_URL": (
            f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST'] or '127.0.0.1'}:"
            f"{db['PORT'] or 5432}/{db['NAME']}"
        ),
        "DJANGO_SECRET_KEY": settings.SECRET_KEY,
        "SC_EVENTS_MAX_BODY_BYTES": "20000",
    }
    log = io.BytesIO()
    command = [sys.executable, "-m", "gunicorn", "sellercenter.wsgi:application"]
    command += ["--bind", f"127.0.0.1:{port}", "--workers", "1", "--timeout", "60"]
    server = subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            if server.poll() is not None:
                log.write(server.stderr.read())
                pytest.fail(f"gunicorn exited: {log.getvalue().decode(errors='replace')}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail("gunicorn did not start within 60 s")
                time.sleep(0.2)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def test_s0_chunked_signed_body_is_read_and_applied_under_gunicorn(gunicorn_url, signed_batch):
    # given a correctly signed batch, and gunicorn (it decodes chunks: wsgi.input_terminated)
    body, headers = signed_batch
    # when it is sent chunked
    status, answer = _post_chunked(gunicorn_url, body, headers)
    # then it is read whole, its signature holds, and it is applied
    assert status == 200, answer
    assert answer["results"][0]["status"] == "applied"
    assert Order.objects.filter(number="CH-1").exists()


def test_s0_chunked_body_over_the_limit_is_413_under_gunicorn(gunicorn_url, signed_batch):
    # given a signed body over the server's limit, with no Content-Length to refuse it early
    body, _ = signed_batch
    big = body + b" " * (20_001 - len(body))
    integration, secret = integration_create(name="Big sender")
    # when it is sent chunked
    status, answer = _post_chunked(gunicorn_url, big, _signed(secret, integration.key_id, big))
    # then the size read is what refuses it
    assert status == 413
    assert answer == {
        "code": "payload_too_large",
        "message": "The body is over 20000 bytes.",
        "max_bytes": 20000,
    }
    assert not Order.objects.exists()


def _wsgi_post(body: bytes, headers: dict[str, str], *, terminated: bool) -> tuple[int, dict]:
    """One request through Django's WSGI handler with a server's chunk-decoded input stream."""
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": URL,
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "CONTENT_TYPE": "application/json",
        "HTTP_TRANSFER_ENCODING": "chunked",
        "wsgi.input": io.BytesIO(body),
        "wsgi.input_terminated": terminated,
        "wsgi.url_scheme": "http",
        "wsgi.errors": io.StringIO(),
        **{"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items()},
    }
    answer: list = []
    chunks = WSGIHandler()(environ, lambda status, headers: answer.append(status))
    return int(answer[0].split()[0]), json.loads(b"".join(chunks))


def test_s0_chunked_body_read_only_when_the_server_ends_the_stream(signed_batch, settings):
    # given a signed batch handed over as a server decoding chunks does (no Content-Length)
    body, headers = signed_batch
    # when the server does not say it ends the stream, then 411: reading could block or overrun
    assert _wsgi_post(body, headers, terminated=False)[0] == 411
    # when it does, then the body is read and applied
    status, answer = _wsgi_post(body, headers, terminated=True)
    assert status == 200, answer
    assert answer["results"][0]["status"] == "applied"
    # and a body over the limit is refused by its size
    settings.SC_EVENTS_MAX_BODY_BYTES = len(body) - 1
    status, answer = _wsgi_post(body, headers, terminated=True)
    assert (status, answer["code"], answer["max_bytes"]) == (
        413,
        "payload_too_large",
        len(body) - 1,
    )
