"""The shop a member lands on when they sign in (issue 7 item 11).

1. The shop they used last (``Membership.last_used_at``: set by the shop switcher and by the
   landing itself), so a sign-in on another device opens the shop they were working in.
2. Never chosen: the shop with the most recent order — where the work is, rather than the first
   name in alphabetical order.
3. No orders anywhere: the first shop by name (a stable choice).

It lives in the composition root because it reads two floors: memberships (``shops``) and the
orders of the member's shops (``orders``); ``shops`` itself never imports ``orders``.
"""

from datetime import datetime

from django.contrib.auth.signals import user_logged_in
from django.db.models import OuterRef, Subquery
from django.dispatch import receiver

from orders.models import Order
from shops.middleware import SESSION_KEY
from shops.models import Membership, Shop
from shops.selectors import memberships_for_user
from shops.services import membership_mark_used


def latest_order_at(*, shop_ids: list[int]) -> dict[int, datetime]:
    """When each shop's newest order was placed (shops without an order are left out).

    One query; each shop's subquery reads one row of the (shop, -placed_at, -id) index."""
    newest = Order.objects.filter(shop=OuterRef("pk")).order_by("-placed_at", "-id")
    rows = (
        Shop.objects.filter(pk__in=shop_ids)
        .annotate(last_order_at=Subquery(newest.values("placed_at")[:1]))
        .values_list("pk", "last_order_at")
    )
    return {pk: at for pk, at in rows if at is not None}


def landing_membership(*, user) -> Membership | None:
    memberships = list(memberships_for_user(user=user))  # by shop name, then id
    if not memberships:
        return None
    used = [m for m in memberships if m.last_used_at is not None]
    if used:
        return max(used, key=lambda m: m.last_used_at)
    latest = latest_order_at(shop_ids=[m.shop_id for m in memberships])
    active = [m for m in memberships if m.shop_id in latest]
    if active:
        # Ties (same placed_at) keep the order by name: max() returns the first maximum.
        return max(active, key=lambda m: latest[m.shop_id])
    return memberships[0]


@receiver(user_logged_in, dispatch_uid="sellercenter.landing")
def land_on_shop(sender, request, user, **kwargs) -> None:
    session = getattr(request, "session", None)
    if session is None:
        return
    membership = landing_membership(user=user)
    if membership is None:
        return
    session[SESSION_KEY] = membership.shop_id
    membership_mark_used(membership=membership)
