"""Activities' demo data (found by ``seed_demo`` through ``demo/hooks.py``), written through the
module's own services: running and upcoming activities (Flash Deals, coupons, store coupons and
a coin event, SPEC E-1), SKU enrolments of the demo shops that pass the pre-check (E-2), and the
evaluations of yesterday and today (E-3) — the late shipper and the high canceller, past their
thresholds on both days, are exited with their evidence (E-5). The first exited shop has filed
its post-mortem (pre-filled from the evidence, with a carrier statement; under review), the
others' are due within 48 hours (E-7)."""

from __future__ import annotations

from datetime import timedelta

from core.errors import DomainError
from shops.models import Sku

from . import services
from .models import ActivityKind

ACTIVITIES = [
    # kind, name, starts (days from now), lasts (days), enrolment closes (days from now)
    (ActivityKind.FLASH_DEAL, "Double 12 Flash Deals", -3, 14, 7),
    (ActivityKind.COUPON, "Winter Warm-up Coupons", -10, 30, 15),
    (ActivityKind.STORE_COUPON, "New Year Store Coupons", 12, 10, 11),
    (ActivityKind.COIN_EVENT, "Coin Carnival", -2, 9, 5),
]


def seed(*, shops, rng, now) -> None:
    activities = [
        services.activity_create(
            services.ActivityInput(
                kind=kind,
                name=name,
                starts_at=now + timedelta(days=start),
                ends_at=now + timedelta(days=start + days),
                enrol_until=now + timedelta(days=closes),
                description="",
                min_discount_bp=1000 if kind == ActivityKind.FLASH_DEAL else 0,
                max_stock_per_sku=500,
            )
        )
        for kind, name, start, days, closes in ACTIVITIES
    ]
    enrolled_at = now - timedelta(days=3)
    for shop in shops:
        skus = list(Sku.objects.filter(shop=shop, stock__gte=10).order_by("code")[:6])
        rng.shuffle(skus)
        for activity in activities:
            if activity.starts_at > now and rng.random() < 0.5:
                continue
            for sku in skus[: rng.randint(1, 3)]:
                ceiling = min(sku.price_minor, sku.lowest_price_30d_minor or sku.price_minor)
                price = ceiling * (100 - rng.choice([10, 15, 20, 25])) // 100
                stock = max(1, min(sku.stock * 100 // 120, rng.choice([20, 50, 100])))
                try:
                    services.enrolment_create(
                        shop=shop,
                        activity=activity,
                        sku=sku,
                        activity_price_minor=price,
                        stock=stock,
                        now=enrolled_at,
                    )
                except DomainError:
                    continue  # this shop fails a pre-check (no certified carrier, a coin event…)
    # Yesterday's last evaluation and today's: a metric over its limit on both exits the shop.
    services.metrics_evaluate(now=now - timedelta(days=1))
    exits = sorted(services.metrics_evaluate(now=now).exits, key=lambda e: e.shop_id)
    if exits:
        postmortem_file(exits[0], now=now)


# A one-page PDF: the "carrier statement" the demo's post-mortem carries.
STATEMENT_PDF = (
    b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
    b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n"
    b"trailer << /Root 1 0 R >>\n%%EOF\n"
)


def postmortem_file(exit_, *, now):
    """SPEC E-7: the post-mortem a seller files from the pre-filled form (under review)."""
    from datetime import timedelta as td

    from django.core.files.uploadedfile import SimpleUploadedFile

    from core import clock

    from .selectors_postmortem import postmortem_prefill

    initial = postmortem_prefill(exit_=exit_).initial
    metric = exit_.metrics[0]
    late = metric in ("late_shipment", "logistics_anomaly")
    return services.postmortem_file(
        shop=exit_.shop,
        exit_id=exit_.pk,
        data=services.PostMortemInput(
            metric=metric,
            root_cause="The warehouse ERP stopped pushing tracking numbers to the marketplace "
            "for two days after an update; parcels left without a scanned number."
            if late
            else "Stock counts in the ERP ran ahead of the warehouse; paid orders were "
            "cancelled when the shelves turned out empty.",
            affected_orders=initial["affected_orders"] or "—",
            carrier=initial["carrier"] or "aliexpress_standard",
            erp_sync_status="broken" if late else "delayed",
            timeline=initial["timeline"],
            corrective_actions="Rolled the ERP connector back, re-pushed every open tracking "
            "number, and called the buyers of the late orders.",
            owner="Operations lead",
            prevention="An alert when an order is 24 h old without a tracking number; a daily "
            "stock count of the activity SKUs.",
            expected_fix_date=clock.natural_day(now) + td(days=7),
            stock_status="in_stock",
            stock_notes=initial["stock_notes"],
        ),
        files=[
            SimpleUploadedFile(
                "carrier-statement.pdf", STATEMENT_PDF, content_type="application/pdf"
            )
        ],
        now=now,
    )
