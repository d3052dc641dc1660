"""The affiliate admin: every changelist and change page renders for a superuser; the review
queue approves; the commission list shows the pre-issue latency p99 (SPEC A-1, A-6)."""

from datetime import timedelta

import affkit
import pytest
from django.contrib import admin
from django.urls import reverse
from factories import make_order

from affiliate import models, services
from affiliate.selectors import pre_issue_latency_p99_ms
from core import clock

MODELS = [
    models.Promoter,
    models.Pid,
    models.Link,
    models.Click,
    models.Programme,
    models.CommissionRate,
    models.Postback,
    models.Commission,
    models.PromoterEntry,
]


@pytest.fixture
def world(shop_a):
    affkit.enable(shop_a)
    click = affkit.click(affkit.link(shop_a), at=clock.now() - timedelta(hours=1))
    order = make_order(shop_a, status="paid", affiliate_click_id=click.click_id)
    c = services.order_attribute(order_id=order.pk)
    services.commissions_pre_issue(now=c.paid_at + timedelta(minutes=6))
    return c


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_a1_every_affiliate_admin_page_renders(admin_client, world, model):
    assert admin.site.is_registered(model)
    meta = model._meta
    changelist = admin_client.get(reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist"))
    assert changelist.status_code == 200
    obj = model.objects.order_by("pk").first()
    if obj is not None:
        url = reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[obj.pk])
        assert admin_client.get(url).status_code == 200


def test_a6_commission_admin_shows_the_pre_issue_latency_p99(admin_client, world):
    body = admin_client.get(reverse("admin:affiliate_commission_changelist")).content.decode()
    assert "p99 6.0 min" in body


def test_a6_latency_p99_is_the_nearest_rank(world):
    since = clock.now() - timedelta(days=1)
    assert pre_issue_latency_p99_ms(since=since) == 6 * 60_000
    assert pre_issue_latency_p99_ms(since=clock.now() + timedelta(days=1)) is None


def test_a1_review_queue_approves(admin_client, db):
    p = services.promoter_create(name="Waiting", email="w@promo.example.com")
    admin_client.post(
        reverse("admin:affiliate_promoter_changelist"),
        {"action": "approve", "_selected_action": [p.pk]},
    )
    p.refresh_from_db()
    assert p.status == "approved"
