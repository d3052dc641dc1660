"""Every database constraint of the affiliate models refuses what it must (IntegrityError):
the backstop behind the services' checks (DESIGN §2), written here bypassing the services."""

from datetime import timedelta

import affkit
import pytest
from django.db import IntegrityError, transaction
from django.db.models import F
from factories import first_sku, make_order, make_product

from affiliate import services
from affiliate.models import (
    Click,
    Commission,
    CommissionHold,
    CommissionRate,
    Link,
    Pid,
    Postback,
    Programme,
    Promoter,
    PromoterBalance,
    PromoterEntry,
)
from core import clock
from core.money import Money
from shops.services import balance_credit


@pytest.fixture
def world(shop_a):
    """A settled commission (balance and entry), a postback and one rate of each scope."""
    shop = shop_a
    affkit.enable(shop, rate_bp=1000)
    product = make_product(shop, price_minor=100_00)
    services.rate_set(shop=shop, scope="category", category=product.category, rate_bp=1500)
    services.rate_set(shop=shop, scope="product", product=product, rate_bp=300)
    link = affkit.link(shop)
    click = affkit.click(link, at=clock.now() - timedelta(hours=1))
    balance_credit(
        shop=shop, amount=Money(1000_00, shop.currency), reason="top-up", idempotency_key="top"
    )
    order = make_order(
        shop, sku=first_sku(product), status="completed", affiliate_click_id=click.click_id
    )
    affkit.apply_events(order)
    services.commissions_pre_issue()
    commission = Commission.objects.get(order=order)
    services.commissions_settle(now=commission.settle_due_at)
    commission.refresh_from_db()
    assert commission.status == "settled"
    assert commission.amount_minor > 0

    from integrations.services import integration_create

    integration, _ = integration_create(name="Partner")
    services.postback_receive(
        integration=integration,
        postback_id="pb-1",
        shop_external_id=shop.external_id,
        order_number=order.number,
        click_id=click.click_id,
    )
    entry = PromoterEntry.objects.get(commission=commission)
    return {
        "now": clock.now(),
        "shop": shop,
        "product": product,
        "link": link,
        "click": click,
        "order": order,
        "commission": commission,
        "promoter": commission.promoter,
        "balance": entry.balance,
        "entry": entry,
        "integration": integration,
        "postback": Postback.objects.get(),
        "programme": Programme.objects.get(shop=shop),
        "category_rate": CommissionRate.objects.get(shop=shop, scope="category"),
    }


def _update(obj, **fields):
    type(obj).objects.filter(pk=obj.pk).update(**fields)


def _rate(w, **fields):
    row = {"shop": w["shop"], "scope": "shop", "rate_bp": 500, **fields}
    return CommissionRate.objects.create(**row)


def _entry(w, **fields):
    valid = w["entry"]
    row = {
        "balance": valid.balance,
        "kind": "payout",
        "amount_minor": -1,
        "balance_after_minor": valid.balance_after_minor - 1,
        "idempotency_key": "another-key",
        "created_at": w["now"],
        **fields,
    }
    return PromoterEntry.objects.create(**row)


CASES = {
    # promoters, PIDs, links, clicks
    "promoter_email_unique": lambda w: Promoter.objects.create(
        name="Copy", email=w["promoter"].email
    ),
    "Pid.code": lambda w: Pid.objects.create(
        promoter=w["promoter"],
        code=w["link"].pid.code,
        channel="video",
        active_since=w["now"],
    ),
    "Link.code": lambda w: Link.objects.create(
        pid=w["link"].pid,
        shop=w["shop"],
        code=w["link"].code,
        destination=w["link"].destination,
    ),
    "Click.click_id": lambda w: Click.objects.create(
        click_id=w["click"].click_id,
        link=w["link"],
        pid=w["link"].pid,
        clicked_at=w["now"],
    ),
    # programmes and rates
    "Programme.shop": lambda w: Programme.objects.create(shop=w["shop"]),
    "programme_min_order_non_negative": lambda w: _update(w["programme"], min_order_minor=-1),
    "rate_bp_in_range": lambda w: _update(w["category_rate"], rate_bp=10_001),
    "rate_bp_in_range (zero)": lambda w: _update(w["category_rate"], rate_bp=0),
    "rate_scope_target": lambda w: _update(w["category_rate"], category=""),
    "rate_scope_target (shop with product)": lambda w: _update(
        w["category_rate"], scope="shop", category="", product=w["product"]
    ),
    "rate_one_per_shop": lambda w: _rate(w),
    "rate_one_per_category": lambda w: _rate(
        w, scope="category", category=w["category_rate"].category
    ),
    "rate_one_per_product": lambda w: _rate(w, scope="product", product=w["product"]),
    # postbacks
    "postback_unique_per_integration": lambda w: Postback.objects.create(
        integration=w["integration"],
        postback_id=w["postback"].postback_id,
        order=w["order"],
        click_id=w["click"].click_id,
        received_at=w["now"],
    ),
    # commissions
    "Commission.order": lambda w: Commission.objects.create(
        order=w["order"],
        shop=w["shop"],
        promoter=w["promoter"],
        pid=w["link"].pid,
        click=w["click"],
        currency=w["commission"].currency,
        locked_at=w["now"],
    ),
    "commission_amounts_non_negative": lambda w: _update(w["commission"], base_minor=-1),
    "commission_amounts_non_negative (settled)": lambda w: _update(
        w["commission"], settled_minor=-1
    ),
    "commission_reversal_within_amount": lambda w: _update(
        w["commission"], reversed_minor=F("amount_minor") + 1
    ),
    # the promoters' ledger
    "promoter_balance_unique": lambda w: PromoterBalance.objects.create(
        promoter=w["promoter"], currency=w["balance"].currency
    ),
    "PromoterEntry.idempotency_key": lambda w: _entry(
        w, idempotency_key=w["entry"].idempotency_key
    ),
    "promoter_entry_not_zero": lambda w: _entry(w, amount_minor=0),
    # fraud holds
    "hold_one_per_rule": lambda w: [
        CommissionHold.objects.create(
            commission=w["commission"], rule="too_fast", created_at=w["now"]
        )
        for _ in range(2)
    ],
    "hold_decision_dated": lambda w: CommissionHold.objects.create(
        commission=w["commission"], rule="too_fast", created_at=w["now"], decision="released"
    ),
    "hold_decision_dated (open but dated)": lambda w: CommissionHold.objects.create(
        commission=w["commission"], rule="too_fast", created_at=w["now"], decided_at=w["now"]
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_affiliate_constraint_refuses_its_violation(world, case):
    # given: a valid world (fixture); the constraint under test
    name = case.split(" (")[0]

    # when / then
    with pytest.raises(IntegrityError) as exc, transaction.atomic():
        CASES[case](world)
    if "." in name:  # a unique field: the database names its column
        model_name, field_name = name.split(".")
        model = {m.__name__: m for m in (Click, Commission, Link, Pid, Programme, PromoterEntry)}[
            model_name
        ]
        column = model._meta.get_field(field_name).column
        assert f"Key ({column})=" in str(exc.value)
    else:  # a named Meta constraint: the database names it
        assert name in str(exc.value)


def test_the_cases_cover_every_affiliate_constraint():
    from django.apps import apps

    declared = set()
    for model in apps.get_app_config("affiliate").get_models():
        declared |= {c.name for c in model._meta.constraints}
        declared |= {
            f"{model.__name__}.{f.name}"
            for f in model._meta.local_fields
            if f.unique and not f.primary_key
        }
    from test_portal_constraints import PORTAL_CASES  # the promoter portal's models

    assert declared == {case.split(" (")[0] for case in [*CASES, *PORTAL_CASES]}
