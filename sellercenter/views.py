from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe

from activities import rules as activities_rules
from core.money import exponent
from orders.models import OrderStatus
from orders.selectors import DailyWindow, orders_for_shop
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


@require_safe
@cache_control(private=True, no_store=True)  # recent orders show buyers
@shop_required
def home(request):
    """The seller dashboard. Every figure comes from one read of the shop's pre-aggregated
    daily figures (90 rows of ShopDailyStats), never from a scan of its orders."""
    shop = request.shop
    window = DailyWindow(shop=shop, days=90)
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
    chart = {
        "labels": [d.day.strftime("%m-%d") for d in series],
        "currency": shop.currency,
        "exponent": exponent(shop.currency),
        "orders": {
            "created": [d.orders_created for d in series],
            "paid": [d.orders_paid for d in series],
            "cancelled": [d.orders_cancelled for d in series],
            "labels": {"created": _("Placed"), "paid": _("Paid"), "cancelled": _("Cancelled")},
        },
        "gmv": {"minor": [d.gmv.amount for d in series], "label": _("GMV")},
        "status": {
            "labels": [str(r["label"]) for r in status_rows],
            "counts": [r["count"] for r in status_rows],
            "colours": [r["colour"] for r in status_rows],
        },
    }
    context = {
        "gmv": window.gmv(30),
        "orders_30d": sum(d.orders_created for d in series),
        "paid_30d": sum(d.orders_paid for d in series),
        "cancel_rate": window.cancel_rate(30),
        "positive_rate": window.positive_rate(90),
        "dsr": window.dsr(30),
        "dsr_min": activities_rules.reenrol_min_dsr(),
        "status_rows": status_rows,
        "total_orders": total_orders,
        "recent_orders": list(orders_for_shop(shop=shop)[:6]),
        "chart": chart,
        "first_day": series[0].day,
        "last_day": series[-1].day,
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
