from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

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


def healthz(request):
    with connection.cursor() as cur:
        cur.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
