"""Builders of the affiliate tests, through the module's services."""

from datetime import datetime

from affiliate import services
from affiliate.models import Click, Link, Pid, Promoter
from affiliate.services import clicks
from core import clock

_n = iter(range(1, 10**9))


def promoter(*, trial: bool = True, cent_minimum: bool = False) -> Promoter:
    n = next(_n)
    p = services.promoter_create(name=f"Promoter {n}", email=f"p{n}@promo.example.com")
    p = services.promoter_approve(promoter=p)
    if not trial:
        Promoter.objects.filter(pk=p.pk).update(trial=False)
    if cent_minimum:
        services.cent_minimum_set(promoter=p, enabled=True)
    p.refresh_from_db()
    return p


def pid(p: Promoter | None = None, channel: str = "social") -> Pid:
    return services.pid_create(promoter=p or promoter(), channel=channel)


def link(shop, pid_: Pid | None = None, product=None) -> Link:
    return services.link_create(
        pid=pid_ or pid(),
        shop=shop,
        product=product,
        destination=f"https://www.aliexpress.com/store/{shop.external_id}",
    )


def click(lnk: Link, *, at: datetime | None = None) -> Click:
    """A click through the real request-path service and the flusher."""
    target = clicks.link_target(lnk.code)
    assert target is not None
    if at is not None:
        import time_machine

        with time_machine.travel(at, tick=False):
            click_id = clicks.click_record(
                target=target, ip="203.0.113.9", user_agent="UA", referrer=""
            )
    else:
        click_id = clicks.click_record(
            target=target, ip="203.0.113.9", user_agent="UA", referrer=""
        )
    assert click_id
    clicks.flush()
    return Click.objects.get(click_id=click_id)


def enable(shop, rate_bp: int = 1000, min_order_minor: int = 0):
    return services.programme_enable(shop=shop, rate_bp=rate_bp, min_order_minor=min_order_minor)


def now():
    return clock.now()


def apply_events(order, seen: set[int] | None = None) -> None:
    """Hand the order's events to the affiliate handler in order (as the consumer does), for
    tests whose transactions never commit. ``seen`` keeps what was already handed over."""
    from affiliate.consumers import handle_event
    from orders.models import OrderEvent

    seen = set() if seen is None else seen
    for event in OrderEvent.objects.filter(order=order).order_by("pk"):
        if event.pk not in seen:
            seen.add(event.pk)
            handle_event(event)
