"""Mailing test fixtures: eligible shops (M-1 thresholds met in the shops' own currency), an
enabled shop A, and an authoritative DNS server on loopback that the resolver is pointed at."""

import sys
from pathlib import Path

import pytest

_HERE = Path(__file__).resolve().parent
for _path in (str(_HERE), str(_HERE.parent / "coins")):
    if _path not in sys.path:
        sys.path.insert(0, _path)  # dnsserver, mailkit, audiencekit, coinkit

from dnsserver import DnsServer  # noqa: E402


@pytest.fixture
def m1_met(db):
    """The M-1 GMV threshold in the fixture shops' currency (CNY) and at zero, so the
    factory shops (a year old, rating 4.80, no violation) pass every check."""
    from constance import config

    config.MAILING_MIN_GMV_30D_CURRENCY = "CNY"
    config.MAILING_MIN_GMV_30D_MINOR = 0


@pytest.fixture
def enabled_a(m1_met, shop_a):
    from mailing.services import setup

    return setup.mailing_enable(shop=shop_a)


@pytest.fixture
def enabled_b(m1_met, shop_b):
    from mailing.services import setup

    return setup.mailing_enable(shop=shop_b)


@pytest.fixture
def dns_server(settings):
    with DnsServer() as server:
        settings.SC_MAILING_DNS_NAMESERVERS = ["127.0.0.1"]
        settings.SC_MAILING_DNS_PORT = server.port
        settings.SC_MAILING_DNS_TIMEOUT = 1.0
        yield server


# The dispatch, tracking, health and billing tests' fixtures (brand, SMTP sink, audience).
from dispatchkit import audience, brand_a, sink  # noqa: E402, F401
