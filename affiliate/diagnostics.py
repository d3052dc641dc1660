"""Attribution diagnostics (SPEC A-10), a read: an order number of the shop → every step of its
attribution path checked, the first break with its fix, and why each other click lost."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.urls import reverse
from django.utils.formats import date_format
from django.utils.timezone import localtime
from django.utils.translation import gettext as _

from core.checks import Check
from core.money import Money
from orders.models import Order
from shops.models import Shop

from . import rules
from .models import Click, Commission, Postback, Programme, Promoter


@dataclass
class Diagnosis:
    order: Order
    checks: list[Check]
    first_break: str  # the code of the first failed step, "" when the path is whole
    commission: Commission | None
    losers: list[tuple[Click, str]] = field(default_factory=list)


def _when(at) -> str:
    return date_format(localtime(at), "Y-m-d H:i")


def _why_lost(click: Click, *, order: Order, winner: Click | None) -> str:
    window = rules.attribution_window()
    if click.link.shop_id != order.shop_id:
        return _("a link of another shop")
    if not click.earns:
        return _("its PID was frozen")
    if not rules.within_window(
        clicked_at=click.clicked_at, placed_at=order.placed_at, window=window
    ):
        return _("outside the attribution window")
    if winner is not None and click.pk != winner.pk:
        return _("a later click won")
    return ""


def diagnose(*, shop: Shop, number: str) -> Diagnosis | None:
    """None when the shop has no order with that number (another shop's orders are not found)."""
    order = Order.objects.filter(shop=shop, number=number.strip()[:64]).first()
    if order is None:
        return None
    postbacks = list(Postback.objects.filter(order=order).order_by("received_at"))
    ids = {p.click_id for p in postbacks}
    if order.affiliate_click_id:
        ids.add(order.affiliate_click_id)
    clicks = list(
        Click.objects.filter(click_id__in=ids).select_related("link", "pid").order_by("clicked_at")
    )
    commission = Commission.objects.filter(order=order).first()
    return _path(
        order=order,
        postbacks=postbacks,
        cookie_click_id=order.affiliate_click_id,
        clicks=clicks,
        commission=commission,
        programmes_url=reverse("affiliate:index"),
    )


def diagnose_for_promoter(*, promoter: Promoter, number: str) -> Diagnosis | None:
    """SPEC A-10 in the promoter portal: the path of an order one of the promoter's clicks
    named (by cookie or postback) — only its own clicks and postbacks are shown; None for an
    order that has nothing of this promoter (another promoter's orders are not found)."""
    number = number.strip()[:64]
    if not number:
        return None
    own = Click.objects.filter(pid__promoter=promoter)
    for order in Order.objects.filter(number=number).order_by("pk")[:20]:
        postbacks = list(Postback.objects.filter(order=order).order_by("received_at"))
        ids = {p.click_id for p in postbacks}
        if order.affiliate_click_id:
            ids.add(order.affiliate_click_id)
        clicks = list(
            own.filter(click_id__in=ids).select_related("link", "pid").order_by("clicked_at")
        )
        commission = Commission.objects.filter(order=order).first()
        if commission is not None and commission.promoter_id != promoter.pk:
            commission = None  # another promoter's click won: its commission is not shown
        if not clicks and commission is None:
            continue
        own_ids = {c.click_id for c in clicks}
        return _path(
            order=order,
            postbacks=[p for p in postbacks if p.click_id in own_ids],
            cookie_click_id=(
                order.affiliate_click_id if order.affiliate_click_id in own_ids else ""
            ),
            clicks=clicks,
            commission=commission,
            programmes_url="",
        )
    return None


def _path(
    *,
    order: Order,
    postbacks: list[Postback],
    cookie_click_id: str,
    clicks: list[Click],
    commission: Commission | None,
    programmes_url: str,
) -> Diagnosis:
    """Every step of ``order``'s attribution path through ``clicks`` (oldest first); a page of
    the seller's programme to fix it when ``programmes_url`` is given (the seller's view)."""
    shop_id = order.shop_id
    seller = bool(programmes_url)
    window = rules.attribution_window()
    valid = [c for c in clicks if not _why_lost(c, order=order, winner=None)]
    winner = valid[-1] if valid else None
    best = winner or (clicks[-1] if clicks else None)
    programme = Programme.objects.filter(shop_id=shop_id).first()
    checks = [
        Check(
            code="programme",
            label=_("Affiliate programme on"),
            passed=bool(programme and programme.enabled),
            measured=_("on") if programme and programme.enabled else _("off"),
            required=_("on"),
            fix=(
                _("Enable your affiliate programme; orders placed while it is off earn nothing.")
                if seller
                else _(
                    "The shop's affiliate programme is off: its orders earn nothing. Promote "
                    "shops whose programme is on (your shop list)."
                )
            ),
            fix_url=programmes_url,
            fix_link=_("Affiliate programme") if seller else "",
        ),
        Check(
            code="cookie",
            label=_("Click id on the order (cookie)"),
            passed=True if cookie_click_id else (None if postbacks else False),
            measured=cookie_click_id or _("none"),
            required=_("a click id"),
            detail="" if cookie_click_id else _("Cookie lost."),
            fix=_(
                "The buyer's browser did not keep the click cookie (another device, cleared "
                "cookies). Ask the promoter's network to send a server-to-server postback."
            ),
        ),
        Check(
            code="postback",
            label=_("Server-to-server postback"),
            passed=bool(postbacks or cookie_click_id),
            measured=(
                _("received %(when)s") % {"when": _when(postbacks[-1].received_at)}
                if postbacks
                else _("none")
            ),
            required=_("a postback, unless the cookie carried the click"),
            detail="" if postbacks or cookie_click_id else _("S2S callback timeout."),
            fix=_("Ask the promoter's network to send the postback again; it is safe to repeat."),
        ),
        Check(
            code="click",
            label=_("Click recorded"),
            passed=bool(clicks) if (cookie_click_id or postbacks) else None,
            measured=_when(best.clicked_at) if best else _("none"),
            required=_("a recorded click"),
            fix=_(
                "The click id is not one of our clicks: the buyer did not come through a "
                "tracking link."
            ),
        ),
        Check(
            code="pid",
            label=_("PID active at the click"),
            passed=best.earns if best else None,
            measured=(best.pid.get_status_display() if best else "—"),
            required=_("Active"),
            detail="" if not best or best.earns else _("PID frozen."),
            fix=_(
                "The promoter reactivates the PID; clicks made while it was frozen earn nothing."
            ),
        ),
        Check(
            code="window",
            label=_("Order within the attribution window"),
            passed=(
                rules.within_window(
                    clicked_at=best.clicked_at, placed_at=order.placed_at, window=window
                )
                if best
                else None
            ),
            measured=(
                _("%(hours)s h after the click")
                % {"hours": int((order.placed_at - best.clicked_at).total_seconds() // 3600)}
                if best
                else "—"
            ),
            required=_("within %(days)s days") % {"days": window.days},
            fix=_("Only orders placed within the window after a click earn a commission."),
        ),
        Check(
            code="minimum",
            label=_("Order over the minimum amount"),
            passed=(
                None
                if order.paid_at is None
                else rules.meets_minimum(
                    order_minor=order.amount_paid_minor,
                    min_order_minor=programme.min_order_minor if programme else 0,
                )
            ),
            measured=order.amount_paid.format() if order.paid_at else _("not paid yet"),
            required=(
                "≥ " + Money(programme.min_order_minor, order.currency).format()
                if programme
                else "—"
            ),
            detail=_("Below minimum amount."),
            fix=(
                _("Lower your minimum order amount if such orders should earn a commission.")
                if seller
                else _(
                    "The shop pays commission from its minimum order amount only; the shop "
                    "list shows each shop's minimum."
                )
            ),
            fix_url=programmes_url,
            fix_link=_("Affiliate programme") if seller else "",
        ),
    ]
    minimum = checks[-1]
    if minimum.passed is not False:
        checks[-1] = Check(**{**minimum.__dict__, "detail": ""})
    first_break = next((c.code for c in checks if c.passed is False), "")
    losers = [(c, _why_lost(c, order=order, winner=winner)) for c in clicks if c is not best]
    return Diagnosis(
        order=order, checks=checks, first_break=first_break, commission=commission, losers=losers
    )
