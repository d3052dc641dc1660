"""SPEC A-4: the click redirect and its buffer. An answered click is never lost and never
written twice, also when the flusher dies mid-flush; nothing in the request picks the target."""

import json
import os
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import affkit
import pytest
from django.conf import settings
from django.db import connection

from affiliate import services
from affiliate.models import Click, Link, PidStatus
from affiliate.redirect import COOKIE
from affiliate.services import clicks
from core import clock

ROOT = Path(__file__).resolve().parents[2]


def test_a4_redirect_records_click_sets_cookie_and_goes_to_stored_destination(client, shop_a):
    # given
    link = affkit.link(shop_a)

    # when
    response = client.get(
        f"/t/{link.code}",
        HTTP_USER_AGENT="Mozilla/5.0 test",
        HTTP_REFERER="https://blog.example.com/post",
        REMOTE_ADDR="198.51.100.7",
    )

    # then: 302 to the stored destination, the click id in a first-party cookie
    assert response.status_code == 302
    assert response["Location"] == link.destination
    assert "aff_pid=" in response["Location"]
    click_id = response.cookies[COOKIE].value
    assert response.cookies[COOKIE]["httponly"]
    assert response.cookies[COOKIE]["max-age"] == 7 * 86400
    # buffered, not yet written; the flusher writes it with every recorded field
    assert clicks.buffered() == 1
    assert not Click.objects.filter(click_id=click_id).exists()
    assert clicks.flush() == 1
    c = Click.objects.get(click_id=click_id)
    assert (c.link_id, c.pid_id, str(c.ip), c.user_agent, c.referrer, c.earns) == (
        link.pk,
        link.pid_id,
        "198.51.100.7",
        "Mozilla/5.0 test",
        "https://blog.example.com/post",
        True,
    )
    assert clicks.buffered() == 0


@pytest.mark.parametrize(
    "query",
    [
        "?next=https://evil.com",
        "?url=//evil.com&to=https://evil.com",
        "?destination=javascript:alert(1)",
        "?redirect=" + quote("https://www.aliexpress.com@evil.com"),
        "?u=%5C%5Cevil.com",
    ],
)
def test_a4_query_string_never_chooses_the_target(client, shop_a, query):
    link = affkit.link(shop_a)
    response = client.get(f"/t/{link.code}{query}")
    assert response.status_code == 302
    assert response["Location"] == link.destination


@pytest.mark.parametrize(
    "destination",
    [
        "//evil.com",
        "https://www.aliexpress.com@evil.com/",
        "javascript:alert(1)",
        "https:\\\\evil.com",
        "https://www.aliexpress.com%2F%40evil.com",
        "https://evil.com/",
    ],
)
def test_a4_open_redirect_refused_at_link_creation(shop_a, destination):
    pid = affkit.pid()
    from affiliate import services
    from core.errors import DomainError

    with pytest.raises(DomainError) as exc:
        services.link_create(pid=pid, shop=shop_a, destination=destination)
    assert exc.value.code == "affiliate_bad_destination"
    assert not Link.objects.exists()


def test_a4_tampered_stored_destination_is_never_followed(client, shop_a):
    # given: a destination changed in the database behind the services' back
    link = affkit.link(shop_a)
    Link.objects.filter(pk=link.pk).update(destination="https://evil.com/phish")

    # when / then: refused at the redirect too, and no click is kept
    response = client.get(f"/t/{link.code}")
    assert response.status_code == 404
    assert clicks.buffered() == 0


@pytest.mark.parametrize("code", ["nope", "../admin", "a" * 40, "x%2Fy"])
def test_a4_unknown_code_is_404(client, db, code):
    assert client.get(f"/t/{code}").status_code == 404


def test_a4_redirect_is_get_or_head_only(client, shop_a):
    link = affkit.link(shop_a)
    assert client.post(f"/t/{link.code}").status_code == 405
    assert client.head(f"/t/{link.code}").status_code == 302


def test_a3_frozen_pid_click_recorded_but_earns_nothing(client, shop_a):
    link = affkit.link(shop_a)
    type(link.pid).objects.filter(pk=link.pid_id).update(status=PidStatus.FROZEN)
    clicks.forget_links(pid_id=link.pid_id)

    response = client.get(f"/t/{link.code}")

    assert response.status_code == 302
    clicks.flush()
    c = Click.objects.get(click_id=response.cookies[COOKIE].value)
    assert c.earns is False
    link.pid.refresh_from_db()
    assert link.pid.last_valid_click_at is None  # a frozen PID's click is not a valid click


def test_a4_redis_down_falls_back_to_a_direct_insert(client, shop_a, monkeypatch):
    # given: Redis refuses every command
    link = affkit.link(shop_a)

    class Down:
        def rpush(self, *a, **k):
            raise ConnectionError("redis down")

    monkeypatch.setattr(clicks, "redis_client", lambda: Down())

    # when
    response = client.get(f"/t/{link.code}")

    # then: the click is in PostgreSQL before the 302 is answered
    assert response.status_code == 302
    assert Click.objects.filter(click_id=response.cookies[COOKIE].value).exists()


def test_a4_nowhere_to_keep_the_click_answers_503_not_302(client, shop_a, monkeypatch):
    link = affkit.link(shop_a)

    class Down:
        def rpush(self, *a, **k):
            raise ConnectionError("redis down")

    def broken(items):
        raise RuntimeError("database down")

    monkeypatch.setattr(clicks, "redis_client", lambda: Down())
    monkeypatch.setattr(clicks, "_insert", broken)

    response = client.get(f"/t/{link.code}")

    assert response.status_code == 503
    assert "Location" not in response


def _buffer(link, n):
    target = clicks.link_target(link.code)
    return {
        clicks.click_record(target=target, ip=None, user_agent="", referrer="") for _ in range(n)
    }


def test_a4_flush_is_idempotent_when_a_batch_is_inserted_twice(shop_a):
    # given: clicks moved to the processing list and inserted, then the crash before deletion
    link = affkit.link(shop_a)
    ids = _buffer(link, 20)
    client = clicks.redis_client()
    raw = client.lrange(clicks.QUEUE, 0, -1)
    client.rpush(clicks.PROCESSING, *raw[:8])
    client.ltrim(clicks.QUEUE, 8, -1)
    clicks._insert([json.loads(r) for r in raw[:8]])

    # when: the next flusher recovers the processing list, then flushes the rest
    assert clicks.flush(batch=5) == 20

    # then: each click once, nothing left
    assert set(Click.objects.values_list("click_id", flat=True)) == ids
    assert Click.objects.count() == 20
    assert clicks.buffered() == 0


def test_a4_flush_crash_between_steps_loses_nothing(shop_a, monkeypatch):
    # given: a flusher that dies right after committing its batch, before deleting it
    link = affkit.link(shop_a)
    ids = _buffer(link, 12)

    class Killed(BaseException):
        pass

    def die():
        raise Killed

    monkeypatch.setattr(clicks, "_after_commit_hook", die)
    with pytest.raises(Killed):
        clicks.flush(batch=5)
    monkeypatch.undo()
    clicks.redis_client().delete(clicks.LOCK)  # its lock expires (TTL) in production

    # when
    clicks.flush(batch=5)

    # then
    assert sorted(Click.objects.values_list("click_id", flat=True)) == sorted(ids)


def test_a4_only_one_flusher_at_a_time(shop_a):
    link = affkit.link(shop_a)
    _buffer(link, 3)
    clicks.redis_client().set(clicks.LOCK, "someone-else")
    assert clicks.flush() == 0
    assert clicks.buffered() == 3


KILLED_FLUSHER = """
import os, signal, django
django.setup()
from affiliate.services import clicks
step = os.environ["KILL_AT"]
if step == "after_commit":
    clicks._after_commit_hook = lambda: os.kill(os.getpid(), signal.SIGKILL)
else:
    real = clicks._insert
    def insert(items):
        os.kill(os.getpid(), signal.SIGKILL)
    clicks._insert = insert
clicks.flush(batch=int(os.environ["BATCH"]))
"""


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("kill_at", ["after_commit", "before_insert"])
def test_a4_flusher_killed_mid_flush_loses_no_click_and_writes_none_twice(shop_a, kill_at):
    # given: 300 answered clicks in the buffer
    link = affkit.link(shop_a)
    ids = _buffer(link, 300)
    db = connection.settings_dict
    # The child must use this worker's Redis db as is: settings_test already derived REDIS_URL
    # from PYTEST_XDIST_WORKER, and would subtract the worker index a second time if the
    # child inherited that variable (worker gw1 would flush another, empty db and exit 0).
    env = {
        **{k: v for k, v in os.environ.items() if k != "PYTEST_XDIST_WORKER"},
        "REDIS_URL": settings.REDIS_URL,
        "DJANGO_SETTINGS_MODULE": "sellercenter.settings_test",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "KILL_AT": kill_at,
        "BATCH": "120",
    }

    clicks.redis_client().delete(clicks.LOCK, clicks.PROCESSING)  # no earlier run's leftovers

    # when: a real flusher process is killed (SIGKILL) at that step of its first batch
    worker = subprocess.run(
        [sys.executable, "-c", KILLED_FLUSHER], cwd=ROOT, env=env, timeout=120, check=False
    )
    assert worker.returncode == -signal.SIGKILL
    assert clicks.redis_client().llen(clicks.PROCESSING) == 120  # the batch it was holding
    assert clicks.flush() == 0  # its lock still stands until it expires
    clicks.redis_client().delete(clicks.LOCK)  # the lock's TTL ran out

    # then: the next flusher writes every click exactly once
    clicks.flush(batch=120)
    assert Click.objects.count() == 300
    assert set(Click.objects.values_list("click_id", flat=True)) == ids
    assert clicks.buffered() == 0


def test_a4_hot_path_runs_no_query_once_the_link_is_cached(
    client, shop_a, django_assert_num_queries
):
    link = affkit.link(shop_a)
    client.get(f"/t/{link.code}")  # the first click reads the link and caches it
    with django_assert_num_queries(0):
        response = client.get(f"/t/{link.code}")
    assert response.status_code == 302
    assert clicks.buffered() == 2


def test_a4_odd_headers_never_poison_the_buffer(client, shop_a):
    link = affkit.link(shop_a)
    response = client.get(
        f"/t/{link.code}",
        REMOTE_ADDR="unix:/run/gunicorn.sock",
        HTTP_USER_AGENT="bot\x00\x00" + "x" * 600,
        HTTP_REFERER="ref\x00",
    )
    assert response.status_code == 302
    assert clicks.flush() == 1
    c = Click.objects.get(click_id=response.cookies[COOKIE].value)
    assert (c.ip, c.referrer, len(c.user_agent)) == (None, "ref", 512)


@pytest.mark.django_db(transaction=True)  # foreign keys are checked at commit
def test_a4_a_click_the_database_refuses_is_parked_not_lost_and_blocks_nothing(shop_a):
    link = affkit.link(shop_a)
    good = _buffer(link, 3)
    bad = {"id": "b" * 32, "link": 10**9, "pid": link.pid_id, "at": 1.0e9, "earns": True}
    clicks.redis_client().rpush(clicks.QUEUE, json.dumps(bad))
    good |= _buffer(link, 2)

    clicks.flush()

    assert set(Click.objects.values_list("click_id", flat=True)) == good
    assert clicks.buffered() == 0
    assert [json.loads(x)["id"] for x in clicks.redis_client().lrange(clicks.DEAD, 0, -1)] == [
        "b" * 32
    ]


def test_a4_cached_hot_path_pushes_the_click_with_its_link_in_one_script(
    client, shop_a, django_assert_num_queries
):
    # given: the link cached by a first click
    link = affkit.link(shop_a)
    client.get(f"/t/{link.code}")

    # when: a second click (no query: the script reads the target and pushes the click)
    with django_assert_num_queries(0):
        response = client.get(
            f"/t/{link.code}",
            REMOTE_ADDR="198.51.100.7",
            HTTP_USER_AGENT="Phone UA",
            HTTP_REFERER="https://blog.example.com/post",
        )

    # then: flushed with its link, PID, time and headers like any click
    assert response.status_code == 302
    assert response["Location"] == link.destination
    assert clicks.flush() == 2
    c = Click.objects.get(click_id=response.cookies[COOKIE].value)
    assert (c.link_id, c.pid_id, c.earns) == (link.pk, link.pid_id, True)
    assert (c.ip, c.user_agent, c.referrer) == (
        "198.51.100.7",
        "Phone UA",
        "https://blog.example.com/post",
    )


def test_a4_unknown_code_is_remembered_and_answers_404_without_query_or_click(
    client, db, django_assert_num_queries
):
    assert client.get("/t/nosuchcode1").status_code == 404
    with django_assert_num_queries(0):
        assert client.get("/t/nosuchcode1").status_code == 404
    assert clicks.buffered() == 0


def test_a3_a4_freezing_a_pid_drops_its_cached_links_so_the_next_click_earns_nothing(
    client, shop_a, django_capture_on_commit_callbacks
):
    # given: a cached link of an active PID
    link = affkit.link(shop_a)
    client.get(f"/t/{link.code}")

    # when: its PID is frozen (the daily job) and the link clicked again
    from affiliate.models import Pid

    Pid.objects.filter(pk=link.pid_id).update(last_valid_click_at=None)
    Pid.objects.filter(pk=link.pid_id).update(active_since=clock.now() - timedelta(days=31))
    with django_capture_on_commit_callbacks(execute=True):
        services.pids_freeze()
    response = client.get(f"/t/{link.code}")

    # then: recorded, but earns nothing
    assert response.status_code == 302
    clicks.flush()
    assert Click.objects.get(click_id=response.cookies[COOKIE].value).earns is False


_SECURITY_HEADERS = (
    "X-Frame-Options",
    "Content-Security-Policy",
    "X-Content-Type-Options",
    "Cross-Origin-Opener-Policy",
    "Referrer-Policy",
    "Cache-Control",
)


def test_a4_click_answered_before_the_session_middleware_keeps_every_security_header(
    shop_a, settings
):
    # given: a visitor carrying a session cookie; the same click answered by the whole stack
    from django.test import Client

    link = affkit.link(shop_a)
    early_stack = list(settings.MIDDLEWARE)
    assert early_stack[2] == "affiliate.redirect.ClickRedirectMiddleware"
    settings.MIDDLEWARE = early_stack[:2] + early_stack[3:]
    full = Client(cookies={"sessionid": "whatever"}).get(f"/t/{link.code}")
    settings.MIDDLEWARE = early_stack

    # when
    early = Client(cookies={"sessionid": "whatever"}).get(f"/t/{link.code}")

    # then: the same 302 and security headers; no session, locale or cookie variance on it
    assert "Vary" in full
    assert (early.status_code, early["Location"]) == (302, full["Location"])
    assert {h: early.get(h) for h in _SECURITY_HEADERS} == {
        h: full.get(h) for h in _SECURITY_HEADERS
    }
    assert early["X-Frame-Options"] == "DENY"
    assert early["Content-Security-Policy"]
    assert "Vary" not in early
    assert "Content-Language" not in early
    assert set(early.cookies) == {COOKIE}
    assert clicks.buffered() == 2


def test_a4_click_answered_early_still_refuses_a_host_off_the_allowed_hosts(
    client, shop_a, settings
):
    settings.ALLOWED_HOSTS = ["testserver"]
    link = affkit.link(shop_a)
    response = client.get(f"/t/{link.code}", HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert clicks.buffered() == 0


@pytest.mark.parametrize("path", ["/t/", "/t/abc/", "/t/abc/def"])
def test_a4_paths_the_redirect_pattern_does_not_match_are_left_to_the_urlconf(client, db, path):
    assert client.get(path).status_code == 404
    assert clicks.buffered() == 0
