from contextlib import contextmanager
from contextvars import ContextVar
from decimal import Decimal

from constance import config as constance_config
from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe

from activities import rules as activities_rules
from activities.selectors import relaxation_factor
from core import tiles
from core.money import SYMBOLS, exponent
from core.tiles import SEVERITY_CRITICAL, SEVERITY_WARNING, Attention
from orders.models import OrderStatus
from orders.selectors import (
    DailyWindow,
    cancellations_to_cross,
    orders_for_shop,
    ship_deadlines,
    window_before,
)
from sellercenter.templatetags.sc import format_number, ldate, pct
from shops.decorators import shop_required

STATUS_COLOURS = {
    OrderStatus.PENDING_PAYMENT: "#f59e0b",
    OrderStatus.PAID: "#3b82f6",
    OrderStatus.SHIPPED: "#06b6d4",
    OrderStatus.DELIVERED: "#14b8a6",
    OrderStatus.COMPLETED: "#22c55e",
    OrderStatus.CANCELLED: "#94a3b8",
    OrderStatus.REFUNDED: "#f43f5e",
}

# A cancel rate is "close" to the activities threshold from this share of it, or when this
# few more cancellations would cross it.
CANCEL_WARN_SHARE = Decimal("0.7")
CANCEL_WARN_HEADROOM = 3


# --- rule numbers read once per page ------------------------------------------------------------
# The dashboard reads a dozen registry numbers (its own and the tiles' rules.py); the database
# backend of django-constance runs one query per number. Within a page, one query reads them all.
_RULES_MEMO: ContextVar[dict | None] = ContextVar("sc_rule_numbers", default=None)


class _MemoBackend:
    """Wraps constance's backend: inside ``_rule_numbers_read_once()`` reads come from the
    page's memo (this thread / context only); everywhere else it is the backend itself."""

    def __init__(self, inner):
        self._inner = inner

    def get(self, key):
        memo = _RULES_MEMO.get()
        if memo is not None and key in memo:
            return memo[key]
        return self._inner.get(key)

    def mget(self, keys):
        """Several numbers at once (``activities.rules`` reads its limits so): from the memo
        when all are in it, else one query."""
        memo = _RULES_MEMO.get()
        keys = list(keys)
        if memo is not None and all(k in memo for k in keys):
            return {k: memo[k] for k in keys}
        return self._inner.mget(keys)

    def __getattr__(self, name):
        return getattr(self._inner, name)


@contextmanager
def _rule_numbers_read_once():
    backend = constance_config._backend
    if not isinstance(backend, _MemoBackend):
        backend = _MemoBackend(backend)
        constance_config._backend = backend
    keys = list(settings.CONSTANCE_CONFIG)
    memo = backend._inner.mget(keys)
    # A number never saved is left to constance (it stores the default on first read), so
    # the memo never hides a missing row, and a page never writes.
    memo = {k: v for k, v in memo.items() if v is not None}
    token = _RULES_MEMO.set(memo)
    try:
        yield
    finally:
        _RULES_MEMO.reset(token)


# --- KPI changes against the previous 30 days ---------------------------------------------------


def _change(current, previous, *, kind: str, higher_is_better: bool = True) -> dict:
    """How a KPI moved: an arrow, a signed text (percent for amounts and counts, points for
    rates), a tone that also reads as words (never colour alone)."""
    if current is None or previous is None:
        return {"direction": "none", "text": "—", "tone": "neutral", "words": _("no comparison")}
    cur, prev = Decimal(str(current)), Decimal(str(previous))
    if kind == "points":
        delta = cur - prev
        text = ngettext("%(n)s pt", "%(n)s pts", 1 if abs(delta) == 1 else 2) % {
            "n": format_number(abs(delta), 1)
        }
    else:
        if not prev:
            if not cur:
                return {
                    "direction": "flat",
                    "text": "0%",
                    "tone": "neutral",
                    "words": _("no change"),
                }
            return {
                "direction": "up",
                "text": _("new"),
                "tone": "good" if higher_is_better else "bad",
                "words": _("none in the previous 30 days"),
            }
        delta = (cur - prev) * 100 / prev
        text = f"{format_number(abs(delta), 1)}%"
    if delta.quantize(Decimal("0.1")) == 0:
        return {"direction": "flat", "text": text, "tone": "neutral", "words": _("no change")}
    up = delta > 0
    good = up == higher_is_better
    return {
        "direction": "up" if up else "down",
        "text": ("+" if up else "−") + text,
        "tone": "good" if good else "bad",
        "words": (_("up") if up else _("down")) + ", " + (_("better") if good else _("worse")),
    }


# --- the needs-attention panel -----------------------------------------------------------------


def _cancel_attention(shop, window: DailyWindow) -> list[Attention]:
    """The 30-day rolling cancel rate against the activities threshold (relaxed where the
    shop's category is), with the headroom: how many more cancellations would cross it."""
    threshold = (activities_rules.cancel_rate_max() * relaxation_factor(shop=shop)).quantize(
        Decimal("0.1")
    )
    created = window.total("orders_created", 30)
    cancelled = window.total("orders_cancelled", 30)
    rate = window.cancel_rate(30)
    # SPEC E-3a: below the registry's minimum sample a rate cannot breach, so no alarm.
    if rate is None or created < activities_rules.min_orders():
        return []
    url = reverse("activities:index")
    if rate > threshold:
        return [
            Attention(
                severity=SEVERITY_CRITICAL,
                text=_(
                    "Your 30-day cancel rate is %(rate)s, above the %(max)s that activities allow: "
                    "on a second day in a row the shop leaves every running activity."
                )
                % {"rate": pct(rate), "max": pct(threshold)},
                url=url,
                action=_("See activity standing"),
                weight=float(rate - threshold),
            )
        ]
    headroom = cancellations_to_cross(cancelled=cancelled, created=created, threshold=threshold)
    if headroom is None:
        return []
    if rate < threshold * CANCEL_WARN_SHARE and headroom > CANCEL_WARN_HEADROOM:
        return []
    return [
        Attention(
            severity=SEVERITY_WARNING,
            text=ngettext(
                "%(n)s more cancellation would take your 30-day cancel rate (now %(rate)s) "
                "above %(max)s.",
                "%(n)s more cancellations would take your 30-day cancel rate (now %(rate)s) "
                "above %(max)s.",
                headroom,
            )
            % {"n": format_number(headroom), "rate": pct(rate), "max": pct(threshold)},
            url=f"{reverse('orders:list')}?status={OrderStatus.PAID}&sort=placed",
            action=_("Ship paid orders"),
            weight=1 / headroom,
        )
    ]


def _dsr_attention(dsr, minimum: Decimal) -> list[Attention]:
    out = []
    for label, value in (
        (_("Item as described"), dsr.item_as_described),
        (_("Communication"), dsr.communication),
        (_("Shipping speed"), dsr.shipping),
    ):
        if value is not None and value < minimum:
            out.append(
                Attention(
                    severity=SEVERITY_WARNING,
                    text=_(
                        "%(dimension)s rating is %(value)s over 30 days, under the %(min)s "
                        "a shop needs to re-enrol in activities."
                    )
                    % {"dimension": label, "value": f"{value:.2f}", "min": f"{minimum:.2f}"},
                    url=reverse("activities:index"),
                    action=_("See activity standing"),
                    weight=float(minimum - value),
                )
            )
    return out


def _shipping_attention(deadlines) -> list[Attention]:
    url = f"{reverse('orders:list')}?status={OrderStatus.PAID}&sort=placed"
    out = []
    if deadlines.overdue:
        out.append(
            Attention(
                severity=SEVERITY_CRITICAL,
                text=ngettext(
                    "%(n)s paid order is past its %(h)s-hour shipping deadline.",
                    "%(n)s paid orders are past their %(h)s-hour shipping deadline.",
                    deadlines.overdue,
                )
                % {"n": format_number(deadlines.overdue), "h": deadlines.hours},
                url=url,
                action=_("Ship them now"),
                weight=deadlines.overdue,
            )
        )
    if deadlines.due_soon:
        out.append(
            Attention(
                severity=SEVERITY_WARNING,
                text=ngettext(
                    "%(n)s paid order must ship within %(w)s hours.",
                    "%(n)s paid orders must ship within %(w)s hours.",
                    deadlines.due_soon,
                )
                % {"n": format_number(deadlines.due_soon), "w": deadlines.within},
                url=url,
                action=_("See orders to ship"),
                weight=deadlines.due_soon,
            )
        )
    return out


def rank_attention(items: list[Attention]) -> list[Attention]:
    """The most severe first; within a severity, the most urgent first."""
    return sorted(items, key=lambda a: (-a.severity, -a.weight))


# --- the page ----------------------------------------------------------------------------------


@require_safe
@cache_control(private=True, no_store=True)  # a shop's private figures
@shop_required
def home(request):
    """The seller dashboard, a morning briefing. Every figure comes from one read of the shop's
    pre-aggregated daily figures (120 rows of ShopDailyStats: this 30/90-day window and the one
    before it), never from a scan of its orders; the shipping deadlines are one indexed count."""
    with _rule_numbers_read_once():
        return _home(request)


def _home(request):
    shop = request.shop
    window = DailyWindow(shop=shop, days=120)
    before = window_before(window, 30)
    series = window.series(30)
    statuses = window.status_counts(30)
    total_orders = sum(statuses.values())
    status_rows = [
        {
            "code": code,
            "label": OrderStatus(code).label,
            "count": n,
            "share": (n * 100 / total_orders) if total_orders else 0,
            "colour": STATUS_COLOURS[code],
        }
        for code, n in statuses.items()
    ]
    today_label = _("%(day)s (so far)") % {"day": ldate(series[-1].day, "day")}
    day_labels = [ldate(d.day, "day") for d in series[:-1]] + [today_label]
    chart = {
        "labels": day_labels,
        "partial": len(series) - 1,  # the current natural day is still in progress
        "currency": shop.currency,
        "symbol": SYMBOLS.get(shop.currency, shop.currency + " "),
        "exponent": exponent(shop.currency),
        "orders": {
            "created": [d.orders_created for d in series],
            "paid": [d.orders_paid for d in series],
            "cancelled": [d.orders_cancelled for d in series],
            "labels": {"created": _("Placed"), "paid": _("Paid"), "cancelled": _("Cancelled")},
        },
        "gmv": {
            "minor": [d.gmv.amount for d in series],
            "text": [d.gmv.format() for d in series],  # tooltips: the cards' money style
            "label": _("GMV"),
        },
        "status": {
            "labels": [str(r["label"]) for r in status_rows],
            "counts": [r["count"] for r in status_rows],
            "text": [format_number(r["count"]) for r in status_rows],
            "colours": [r["colour"] for r in status_rows],
        },
    }
    gmv, gmv_before = window.gmv(30), before.gmv(30)
    orders_30d = window.total("orders_created", 30)
    orders_before = before.total("orders_created", 30)
    cancel_rate, cancel_before = window.cancel_rate(30), before.cancel_rate(30)
    positive_rate, positive_before = window.positive_rate(90), before.positive_rate(90)
    kpi_changes = {
        "gmv": _change(gmv.amount, gmv_before.amount, kind="percent"),
        "orders": _change(orders_30d, orders_before, kind="percent"),
        "cancel": _change(cancel_rate, cancel_before, kind="points", higher_is_better=False),
        "positive": _change(positive_rate, positive_before, kind="points"),
    }
    dsr = window.dsr(30)
    dsr_min = activities_rules.reenrol_min_dsr()

    tile_contexts = tiles.registry.render_contexts(request, shop)
    attention = (
        _cancel_attention(shop, window)
        + _dsr_attention(dsr, dsr_min)
        + _shipping_attention(ship_deadlines(shop=shop))
    )
    for _tile, ctx in tile_contexts:
        attention += list(ctx.get("attention", ()))

    context = {
        "gmv": gmv,
        "gmv_before": gmv_before,
        "orders_30d": orders_30d,
        "paid_30d": window.total("orders_paid", 30),
        "cancel_rate": cancel_rate,
        "positive_rate": positive_rate,
        "kpi_changes": kpi_changes,
        "dsr": dsr,
        "dsr_min": dsr_min,
        "status_rows": status_rows,
        "total_orders": total_orders,
        "recent_orders": list(orders_for_shop(shop=shop)[:6]),
        "chart": chart,
        "series": series,
        "today": series[-1].day,
        "first_day": series[0].day,
        "last_day": series[-1].day,
        "attention": rank_attention(attention),
        "tiles": [{"template": t.template, "name": t.name, "ctx": c} for t, c in tile_contexts],
    }
    return render(request, "sellercenter/home.html", context)


_MIGRATED = False  # once every migration is applied, this code version stays migrated


def _database_ready() -> str | None:
    try:
        with connection.cursor() as cur:
            cur.execute("SELECT 1")
    except Exception as exc:  # any driver error means "not ready"
        return f"database unreachable: {exc.__class__.__name__}"
    return None


def _migrations_ready() -> str | None:
    global _MIGRATED
    if _MIGRATED:
        return None
    from django.db.migrations.executor import MigrationExecutor

    try:
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except Exception as exc:
        return f"migrations unknown: {exc.__class__.__name__}"
    if plan:
        return f"{len(plan)} migration(s) not applied (run: manage.py migrate)"
    _MIGRATED = True
    return None


def _broker_ready() -> str | None:
    from sellercenter.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=3)
    except Exception as exc:
        return f"broker unreachable: {exc.__class__.__name__}"
    return None


def _no_store(response):
    response["Cache-Control"] = "no-store"
    return response


@require_safe
def healthz(request):
    """Liveness: the process answers. Touches nothing else (no database, no broker)."""
    return _no_store(JsonResponse({"status": "ok"}))


@require_safe
def readyz(request):
    """Readiness: the database answers, every migration is applied and the broker is
    reachable. 200 with each check's result, or 503 naming what failed."""
    checks = {"database": _database_ready()}
    checks["migrations"] = _migrations_ready() if checks["database"] is None else "skipped"
    checks["broker"] = _broker_ready()
    failed = {name: why for name, why in checks.items() if why is not None}
    body = {
        "status": "unavailable" if failed else "ok",
        "checks": {name: checks[name] or "ok" for name in checks},
    }
    if failed:
        body["failed"] = sorted(failed)
    return _no_store(JsonResponse(body, status=503 if failed else 200))
