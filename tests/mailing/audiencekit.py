"""Builders for the audience tests, through the services (DESIGN §8)."""

from datetime import timedelta

from factories import make_buyer, make_order

from buyers.services import buyer_marketing_set
from core import clock
from mailing.models import ConsentSource, ConsentStatus
from mailing.services import audience


def person(*, opt_in=True, **buyer_kw):
    """A buyer with the marketing-email preference ``opt_in`` (set through buyers' service)."""
    return buyer_marketing_set(buyer=make_buyer(**buyer_kw), opt_in=opt_in)


def subscriber(shop, *, country="US", opt_in=True, days_ago=3, status="paid", **buyer_kw):
    """A buyer of ``shop`` with one order ``days_ago`` and the marketing preference ``opt_in``."""
    buyer = person(country=country, opt_in=opt_in, **buyer_kw)
    make_order(shop, buyer, status=status, placed_at=clock.now() - timedelta(days=days_ago))
    return buyer


def confirm(shop, buyer):
    """A confirmed double opt-in for ``buyer`` in ``shop`` (request, then the POST)."""
    req = audience.double_opt_in_request(shop=shop, email=buyer.email, buyer_id=buyer.pk)
    return audience.double_opt_in_confirm(token=req.token, ip="203.0.113.7")


def grant(shop, email, **kw):
    return audience.consent_record(
        shop=shop,
        email=email,
        status=ConsentStatus.GRANTED,
        source=ConsentSource.IMPORT,
        **kw,
    )
