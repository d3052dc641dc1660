"""Fault 3 (issue 6 §3): sign-in is throttled by account and by IP, on the seller login and on
/admin/login/, through core.ratelimit (django-ratelimit over the Redis cache)."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django.utils import translation
from factories import PASSWORD

from core import clock, ratelimit

THROTTLED = "Too many failed sign-in attempts"


@pytest.fixture(autouse=True)
def _small_limits(settings):
    settings.SC_LOGIN_FAILURES_PER_ACCOUNT = "3/15m"
    settings.SC_LOGIN_FAILURES_PER_IP = "5/15m"


def _client(ip="203.0.113.7") -> Client:
    return Client(REMOTE_ADDR=ip)


def _login(client, username, password, url=None):
    return client.post(url or reverse("login"), {"username": username, "password": password})


def _signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_wrong_passwords_up_to_the_limit_are_answered_as_usual(owner):
    # given
    client = _client()
    # when
    responses = [_login(client, "owner", "wrong") for _ in range(3)]
    # then
    for r in responses:
        assert r.status_code == 200
        assert "Please enter a correct username and password" in r.content.decode()
        assert THROTTLED not in r.content.decode()


def test_after_the_account_limit_even_the_right_password_is_refused_with_429(owner):
    # given: 3 wrong passwords for the account
    client = _client()
    for _ in range(3):
        _login(client, "owner", "wrong")
    # when
    response = _login(client, "owner", PASSWORD)
    # then: refused, saying how long to wait (the window is 15 minutes at most)
    assert response.status_code == 429
    assert THROTTLED in response.content.decode()
    wait = re.search(r"try again in (\d+) minutes?\.", response.content.decode())
    assert wait is not None
    assert 1 <= int(wait.group(1)) <= 15
    assert not _signed_in(client)


def test_the_account_limit_holds_from_every_ip_and_any_letter_case(owner):
    # given: failures from three addresses, the username typed differently
    for i, name in enumerate(["owner", "OWNER", " Owner "]):
        _login(_client(f"198.51.100.{i}"), name, "wrong")
    # when: the right password from a fourth address
    client = _client("198.51.100.99")
    response = _login(client, "owner", PASSWORD)
    # then
    assert response.status_code == 429
    assert not _signed_in(client)


def test_other_accounts_are_not_throttled_by_one_accounts_failures(owner, marketer):
    # given
    for _ in range(3):
        _login(_client("198.51.100.1"), "owner", "wrong")
    # when
    client = _client("198.51.100.2")
    response = _login(client, "marketer", PASSWORD)
    # then
    assert response.status_code == 302
    assert _signed_in(client)


def test_the_ip_limit_stops_a_spray_over_many_accounts(owner):
    # given: 5 failures from one address, each on another account
    client = _client("192.0.2.50")
    for i in range(5):
        assert _login(client, f"nobody-{i}", "wrong").status_code == 200
    # when: the right password of an untouched account from that address
    response = _login(client, "owner", PASSWORD)
    # then
    assert response.status_code == 429
    assert not _signed_in(client)
    # and from elsewhere the account signs in
    elsewhere = _client("192.0.2.51")
    assert _login(elsewhere, "owner", PASSWORD).status_code == 302


def test_the_throttle_lifts_when_the_window_ends(owner):
    # given
    client = _client()
    with time_machine.travel(clock.now(), tick=False) as traveller:
        for _ in range(3):
            _login(client, "owner", "wrong")
        assert _login(client, "owner", PASSWORD).status_code == 429
        # when
        traveller.shift(timedelta(minutes=16))
        response = _login(client, "owner", PASSWORD)
    # then
    assert response.status_code == 302
    assert _signed_in(client)


def test_successful_sign_ins_do_not_count(owner):
    # given / when: more successes than the limit
    for _ in range(5):
        client = _client()
        assert _login(client, "owner", PASSWORD).status_code == 302
    # then
    assert _login(_client(), "owner", PASSWORD).status_code == 302


def test_admin_login_is_throttled_too(db):
    # given
    get_user_model().objects.create_superuser("root", "root@example.com", PASSWORD)
    client = _client()
    url = reverse("admin:login")
    for _ in range(3):
        assert _login(client, "root", "wrong", url).status_code == 200
    # when
    response = _login(client, "root", PASSWORD, url)
    # then
    assert THROTTLED in response.content.decode()
    assert not _signed_in(client)


def test_admin_login_failures_throttle_the_seller_login_as_well(owner):
    # given: an account probed on the admin sign-in
    for _ in range(3):
        _login(_client(), "owner", "wrong", reverse("admin:login"))
    # when
    response = _login(_client(), "owner", PASSWORD)
    # then
    assert response.status_code == 429


def test_the_throttle_message_is_translated(owner):
    # given
    client = _client()
    for _ in range(3):
        _login(client, "owner", "wrong")
    # when
    response = client.post(
        reverse("login"),
        {"username": "owner", "password": PASSWORD},
        headers={"Accept-Language": "zh-hans"},
    )
    translation.activate("en")  # the request left Chinese active in this thread
    # then
    assert response.status_code == 429
    assert "登录失败次数过多" in response.content.decode()


# --- core.ratelimit, as modules use it ---------------------------------------------------------


def test_hit_counts_each_use_per_key(rf):
    # given: 3 verification codes per contact per hour
    request = rf.post("/", REMOTE_ADDR="192.0.2.1")
    send = [
        ratelimit.hit(request, group="t.code", key="+8613800000000", rate="3/h") for _ in range(4)
    ]
    # then
    assert send == [False, False, False, True]
    assert ratelimit.hit(request, group="t.code", key="+8613800000001", rate="3/h") is False
    assert ratelimit.hit(request, group="t.other", key="+8613800000000", rate="3/h") is False


def test_hit_by_ip_separates_clients(rf):
    # given
    a, b = rf.get("/", REMOTE_ADDR="192.0.2.1"), rf.get("/", REMOTE_ADDR="192.0.2.2")
    # when
    for _ in range(2):
        ratelimit.hit(a, group="t.ip", key=ratelimit.IP, rate="2/m")
    # then
    assert ratelimit.hit(a, group="t.ip", key=ratelimit.IP, rate="2/m") is True
    assert ratelimit.hit(b, group="t.ip", key=ratelimit.IP, rate="2/m") is False


def test_exceeded_only_looks(rf):
    # given
    request = rf.get("/", REMOTE_ADDR="192.0.2.1")
    # then: looking does not count
    for _ in range(5):
        assert ratelimit.exceeded(request, group="t.look", key="k", rate="2/m") is False
    ratelimit.hit(request, group="t.look", key="k", rate="2/m")
    assert ratelimit.exceeded(request, group="t.look", key="k", rate="2/m") is False
    ratelimit.hit(request, group="t.look", key="k", rate="2/m")
    assert ratelimit.exceeded(request, group="t.look", key="k", rate="2/m") is True


def test_counters_live_in_the_configured_cache(rf, settings):
    # given: the test settings' cache is Redis (REDIS_URL), shared by every process
    from django.core.cache import cache

    assert "redis" in settings.CACHES["default"]["BACKEND"].lower()
    request = rf.get("/", REMOTE_ADDR="192.0.2.1")
    # when
    ratelimit.hit(request, group="t.cache", key="k", rate="5/m")
    ratelimit.hit(request, group="t.cache", key="k", rate="5/m")
    # then: one counter under the configured prefix, holding the count
    redis = cache._cache.get_client()
    keys = redis.keys(f"*{settings.RATELIMIT_CACHE_PREFIX}*")
    assert len(keys) == 1
    assert int(redis.get(keys[0])) == 2


@pytest.mark.parametrize(
    ("header", "remote", "expected"),
    [
        (None, "192.0.2.9", "192.0.2.9"),
        ("198.51.100.4", "10.0.0.1", "198.51.100.4"),
        (" 2001:db8::1 ", "10.0.0.1", "2001:db8::1"),
        ("1.2.3.4, 5.6.7.8", "10.0.0.1", "10.0.0.1"),  # a forwarded list is not one address
        ("junk\x00", "10.0.0.1", "10.0.0.1"),
        ("", "", "0.0.0.0"),
    ],
)
def test_client_ip_reads_the_proxy_header_and_falls_back(rf, settings, header, remote, expected):
    # given
    settings.SC_CLIENT_IP_META_KEY = "HTTP_X_REAL_IP"
    extra = {"REMOTE_ADDR": remote}
    if header is not None:
        extra["HTTP_X_REAL_IP"] = header
    # then
    assert ratelimit.client_ip(rf.get("/", **extra)) == expected


def test_a_junk_proxy_header_never_breaks_sign_in(settings, owner):
    # given
    settings.SC_CLIENT_IP_META_KEY = "HTTP_X_REAL_IP"
    client = Client(REMOTE_ADDR="", HTTP_X_REAL_IP="not an address")
    # when
    response = _login(client, "owner", PASSWORD)
    # then
    assert response.status_code == 302
    assert _signed_in(client)


def test_clients_behind_the_proxy_are_counted_apart(settings, owner):
    # given: every request comes from the proxy; the header tells the clients apart
    settings.SC_CLIENT_IP_META_KEY = "HTTP_X_REAL_IP"
    spray = Client(REMOTE_ADDR="10.0.0.1", HTTP_X_REAL_IP="192.0.2.66")
    for i in range(5):
        _login(spray, f"nobody-{i}", "wrong")
    # when
    other = Client(REMOTE_ADDR="10.0.0.1", HTTP_X_REAL_IP="192.0.2.67")
    # then
    assert _login(spray, "owner", PASSWORD).status_code == 429
    assert _login(other, "owner", PASSWORD).status_code == 302
