"""The database is the backstop (saleor's defence in depth, DESIGN §2): every CheckConstraint,
UniqueConstraint and unique field of the project's models refuses a violating row with
IntegrityError, even when the services are bypassed. A meta-test discovers every model of every
project app (``django.apps``) and makes sure each new constraint gets a case here, or is
exercised by a test of its own app (a test file naming it next to ``IntegrityError``)."""

from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, transaction
from django.db.models import CheckConstraint, F, UniqueConstraint
from factories import make_member, make_order, make_review

from buyers.models import Buyer, BuyerRiskDecision
from core import clock
from core.models import PrivateFile
from core.money import Money
from orders.models import (
    Cart,
    CartLine,
    ConsumedEvent,
    ConsumerCursor,
    ConsumerFailure,
    Dispute,
    Feedback,
    Order,
    OrderEvent,
    Payment,
    Refund,
    Review,
    Shipment,
    ShopDailyStats,
)
from orders.services import cart_update
from shops.models import (
    BalanceEntry,
    LogisticsSetting,
    Membership,
    Notification,
    NotificationPreference,
    Product,
    Shop,
    ShopBalance,
    Sku,
    Violation,
)
from shops.services import balance_credit, logistics_set, violation_record

BASE_DIR = Path(settings.BASE_DIR)
TESTS_DIR = Path(__file__).resolve().parent.parent


def project_models():
    """Every concrete model of an app that lives in this repository (not Django's own)."""
    for model in apps.get_models():
        path = Path(apps.get_app_config(model._meta.app_label).path)
        if path.is_relative_to(BASE_DIR) and not {".venv", "site-packages"} & set(path.parts):
            yield model


def declared_constraints() -> dict[str, object]:
    """Constraint name (or ``Model.field`` for a unique field) -> the model declaring it."""
    declared = {}
    for model in project_models():
        for constraint in model._meta.constraints:
            if isinstance(constraint, CheckConstraint | UniqueConstraint):
                declared[constraint.name] = model
        for field in model._meta.local_fields:
            if field.unique and not field.primary_key:
                declared[f"{model.__name__}.{field.name}"] = model
    return declared


def _model(name: str):
    """A project model by class name, wherever its app is (models move between apps)."""
    (model,) = [m for m in project_models() if m.__name__ == name]
    return model


@pytest.fixture
def w(shop_a, owner, buyer, product_a, sku_a, order_a):
    """A valid object of every kind, to violate one constraint at a time."""
    now = clock.now()
    delivered = make_order(shop_a, buyer, status="delivered", sku=sku_a)
    review = make_review(delivered)
    integration = _model("Integration").objects.create(
        name="Marketplace", key_id="k-1", secret_encrypted="x"
    )
    ingested = _model("IngestedEvent").objects.create(
        integration=integration,
        event_id="e-1",
        type="order.paid",
        status="applied",
        received_at=now,
    )
    return {
        "now": now,
        "shop": shop_a,
        "owner": owner,
        "buyer": buyer,
        "product": product_a,
        "sku": sku_a,
        "order": order_a,
        "delivered": delivered,
        "review": review,
        "integration": integration,
        "ingested": ingested,
        "cart": cart_update(shop=shop_a, buyer=buyer, items=[(sku_a, 1)], at=now),
        "setting": logistics_set(shop=shop_a, carrier="yanwen", enabled=True, certified=False),
        "event": OrderEvent.objects.filter(order=order_a).first(),
        "entry": balance_credit(
            shop=shop_a, amount=Money(10_00, shop_a.currency), reason="seed", idempotency_key="k-1"
        ),
        "violation": violation_record(
            shop=shop_a, external_id="v-1", kind="late", serious=False, occurred_at=now
        ),
    }


def _entry(w, **fields):
    """A ledger entry beside the world's valid one, with ``fields`` changed."""
    valid = w["entry"]
    row = {
        "balance": valid.balance,
        "shop": valid.shop,
        "kind": "credit",
        "amount_minor": 1,
        "currency": valid.currency,
        "balance_after_minor": valid.balance_after_minor + 1,
        "reason": "test",
        "idempotency_key": "another-key",
        **fields,
    }
    return BalanceEntry.objects.create(**row)


def _update(obj, **fields):
    type(obj).objects.filter(pk=obj.pk).update(**fields)


def _coins(w):
    """The coin module's rows (SPEC C-1 … C-8), made through its services once per world."""
    if "coins" not in w:
        from factories import first_sku, make_feedback, make_product

        from coins import models as cm
        from coins import services as coins
        from orders.services import order_refund

        shop, buyer = w["shop"], w["buyer"]
        make_feedback(w["delivered"], kind="positive")
        account = coins.account_open(shop=shop)
        coins.fund_top_up(shop=shop, amount=Money(10_00, "CNY"), idempotency_key="c-top-up")
        rule = coins.rule_create(
            shop=shop,
            name="r",
            kind="instant_cashback",
            coins=300,
            budget_coins=600,
            starts_at=w["now"],
        )
        grant = coins.grant_issue(rule_id=rule.pk, order=w["order"], coins=300)
        product = make_product(shop)
        (setting,) = coins.product_deduction_set(
            shop=shop, product_ids=[product.pk], enabled=True, max_ratio_bp=3000
        )
        coin_order = make_order(
            shop,
            buyer,
            sku=first_sku(product),
            coin_deduction_coins=100,
            coin_deduction_minor=100,
        )
        redemption = cm.CoinRedemption.objects.get(order_number=coin_order.number)
        coins.redemption_link(order=coin_order)
        refund = order_refund(
            order=w["order"], refund_id="c-ref", amount_minor=10_00, refunded_at=w["now"]
        )
        coins.order_refund_apply(order_id=w["order"].pk, refund_id=refund.pk, full=False)
        w["coins"] = {
            "m": cm,
            "account": account,
            "fund": account.fund,
            "wallet": cm.CoinWallet.objects.get(shop=shop, buyer=buyer),
            "rule": rule,
            "grant": grant,
            "lot": grant.lot,
            "setting": setting,
            "redemption": redemption,
            "part": redemption.parts.get(),
            "clawback": cm.CoinClawback.objects.get(grant=grant),
            "movement": cm.CoinMovement.objects.order_by("pk").first(),
            "coin_order": coin_order,
        }
    return w["coins"]


def _coin_row(w, model: str, **fields):
    """A new coin row beside the world's valid one of ``model``, with ``fields`` changed."""
    c = _coins(w)
    m, now = c["m"], w["now"]
    valid = {
        "CoinAccount": lambda: {"shop": w["shop"], "coin_id": "X-1", "opened_at": now},
        "CoinWallet": lambda: {"shop": w["shop"], "buyer": w["buyer"], "created_at": now},
        "CoinRule": lambda: {
            "shop": w["shop"],
            "name": "x",
            "kind": "welcome",
            "coins": 1,
            "starts_at": now,
            "budget_coins": 10,
            "created_at": now,
        },
        "CoinGrant": lambda: {
            "rule": c["rule"],
            "order": w["delivered"],
            "shop": w["shop"],
            "buyer": w["buyer"],
            "coins": 1,
            "created_at": now,
        },
        "CoinLot": lambda: {
            "wallet": c["wallet"],
            "shop": w["shop"],
            "source": "grace",
            "granted": 5,
            "remaining": 5,
            "expires_at": now,
            "created_at": now,
        },
        "CoinRedemption": lambda: {
            "shop": w["shop"],
            "order_number": "X-9",
            "buyer": w["buyer"],
            "wallet": c["wallet"],
            "coins": 5,
            "created_at": now,
        },
        "CoinRedemptionPart": lambda: {
            "redemption": c["redemption"],
            "lot": _coin_row(w, "CoinLot"),
            "coins": 1,
        },
        "CoinRefundReturn": lambda: {
            "redemption": c["redemption"],
            "refund_id": 1,
            "coins": 1,
            "created_at": now,
        },
        "CoinClawback": lambda: {
            "grant": c["grant"],
            "refund_id": 10**9,
            "due": 2,
            "recovered": 1,
            "unrecoverable": 1,
            "created_at": now,
        },
        "CoinProductSetting": lambda: {
            "shop": w["shop"],
            "product": w["product"],
            "updated_at": now,
        },
        "CoinMovement": lambda: {
            "shop": w["shop"],
            "kind": "grant",
            "coins": 1,
            "idempotency_key": "x-1",
            "created_at": now,
        },
        "CoinEntry": lambda: {
            "movement": c["movement"],
            "shop": w["shop"],
            "account": "spent",
            "delta": 1,
            "created_at": now,
        },
    }[model]()
    return getattr(m, model).objects.create(**{**valid, **fields})


# constraint name -> how to violate it (each gets a fresh valid world)
CASES = {
    # the order event log (DESIGN §1b)
    "consumed_event_unique": lambda w: [
        ConsumedEvent.objects.create(consumer="c", event=w["event"], handled_at=w["now"])
        for _ in range(2)
    ],
    "consumer_failure_unique": lambda w: [
        ConsumerFailure.objects.create(
            consumer="c", event=w["event"], failed_at=w["now"], retry_at=w["now"]
        )
        for _ in range(2)
    ],
    "ConsumerCursor.consumer": lambda w: [
        ConsumerCursor.objects.create(consumer="c") for _ in range(2)
    ],
    "consumer_cursor_position_gte_0": lambda w: ConsumerCursor.objects.create(
        consumer="c", position=-1
    ),
    # the shop balance ledger
    "shop_balance_unique": lambda w: ShopBalance.objects.create(
        shop=w["shop"], currency=w["entry"].currency
    ),
    "shop_balance_non_negative": lambda w: _update(w["entry"].balance, balance_minor=-1),
    "BalanceEntry.idempotency_key": lambda w: _entry(w, idempotency_key=w["entry"].idempotency_key),
    "balance_entry_amount_positive": lambda w: _entry(w, amount_minor=0),
    "balance_entry_after_non_negative": lambda w: _entry(w, balance_after_minor=-1),
    "balance_entry_kind_valid": lambda w: _entry(w, kind="gift"),
    # coins (SPEC C-1 … C-8)
    "coin_account_status_valid": lambda w: _update(_coins(w)["account"], status="closed"),
    "CoinAccount.coin_id": lambda w: _coin_row(
        w, "CoinAccount", shop=w["delivered"].shop, coin_id=_coins(w)["account"].coin_id
    ),
    "CoinAccount.shop": lambda w: _coin_row(w, "CoinAccount"),
    "CoinFund.account": lambda w: _coins(w)["m"].CoinFund.objects.create(
        account=_coins(w)["account"],
        shop=_coin_row(
            w,
            "CoinAccount",
            shop=Shop.objects.create(
                external_id="s-x", name="x", opened_at=w["now"], main_category="toys"
            ),
        ).shop,
    ),
    "CoinFund.shop": lambda w: _coins(w)["m"].CoinFund.objects.create(
        account=_coin_row(
            w,
            "CoinAccount",
            shop=Shop.objects.create(
                external_id="s-x", name="x", opened_at=w["now"], main_category="toys"
            ),
        ),
        shop=w["shop"],
    ),
    "coin_fund_non_negative": lambda w: _update(
        _coins(w)["fund"], available=-1, topped_up=F("topped_up") - F("available") - 1
    ),
    "coin_fund_balanced": lambda w: _update(_coins(w)["fund"], available=F("available") + 1),
    "coin_wallet_shop_buyer_unique": lambda w: _coin_row(w, "CoinWallet"),
    "coin_wallet_non_negative": lambda w: _update(_coins(w)["wallet"], balance=-1),
    "coin_rule_kind_valid": lambda w: _coin_row(w, "CoinRule", kind="lottery"),
    "coin_rule_status_valid": lambda w: _coin_row(w, "CoinRule", status="gone"),
    "coin_rule_amount_valid": lambda w: _coin_row(w, "CoinRule", coins=0),
    "coin_rule_amount_valid (share)": lambda w: _coin_row(w, "CoinRule", coins=0, percent_bp=5),
    "coin_rule_amount_valid (both)": lambda w: _coin_row(
        w, "CoinRule", kind="completion_cashback", coins=1, percent_bp=5
    ),
    "coin_rule_budget_valid": lambda w: _coin_row(w, "CoinRule", budget_coins=0),
    "coin_rule_budget_valid (over)": lambda w: _update(
        _coins(w)["rule"], granted_coins=F("budget_coins") + 1
    ),
    "coin_rule_window_valid": lambda w: _coin_row(w, "CoinRule", ends_at=w["now"]),
    "coin_rule_threshold_non_negative": lambda w: _coin_row(w, "CoinRule", threshold_minor=-1),
    "coin_grant_coins_positive": lambda w: _coin_row(w, "CoinGrant", coins=0),
    "CoinLot.grant": lambda w: _coin_row(w, "CoinLot", grant=_coins(w)["grant"]),
    "coin_lot_source_valid": lambda w: _coin_row(w, "CoinLot", source="gift"),
    "coin_lot_within_granted": lambda w: _update(_coins(w)["lot"], remaining=F("granted") + 1),
    "coin_lot_within_granted (negative)": lambda w: _coin_row(w, "CoinLot", remaining=-1),
    "coin_redemption_shop_order_unique": lambda w: _coin_row(
        w, "CoinRedemption", order_number=_coins(w)["redemption"].order_number
    ),
    "CoinRedemption.order": lambda w: _coin_row(w, "CoinRedemption", order=_coins(w)["coin_order"]),
    "coin_redemption_coins_valid": lambda w: _coin_row(w, "CoinRedemption", coins=0),
    "coin_redemption_coins_valid (returned)": lambda w: _update(
        _coins(w)["redemption"], returned=F("coins") + 1
    ),
    "coin_redemption_part_unique": lambda w: _coin_row(
        w, "CoinRedemptionPart", lot=_coins(w)["part"].lot
    ),
    "coin_redemption_part_valid": lambda w: _update(_coins(w)["part"], returned=F("coins") + 1),
    "coin_refund_return_unique": lambda w: [_coin_row(w, "CoinRefundReturn") for _ in range(2)],
    "coin_refund_return_positive": lambda w: _coin_row(w, "CoinRefundReturn", coins=0),
    "coin_clawback_unique": lambda w: _coin_row(
        w, "CoinClawback", refund_id=_coins(w)["clawback"].refund_id
    ),
    "coin_clawback_balanced": lambda w: _coin_row(w, "CoinClawback", due=3),
    "CoinProductSetting.product": lambda w: [_coin_row(w, "CoinProductSetting") for _ in range(2)],
    "coin_product_ratio_range": lambda w: _update(_coins(w)["setting"], max_ratio_bp=10_001),
    "CoinMovement.idempotency_key": lambda w: _coin_row(
        w, "CoinMovement", idempotency_key=_coins(w)["movement"].idempotency_key
    ),
    "coin_movement_coins_positive": lambda w: _coin_row(w, "CoinMovement", coins=0),
    "coin_movement_kind_valid": lambda w: _coin_row(w, "CoinMovement", kind="gift"),
    "coin_entry_delta_nonzero": lambda w: _coin_row(w, "CoinEntry", delta=0),
    "coin_entry_account_valid": lambda w: _coin_row(w, "CoinEntry", account="cash"),
    "coin_entry_wallet_iff_wallet_account": lambda w: _coin_row(w, "CoinEntry", account="wallet"),
    "coin_entry_wallet_iff_wallet_account (spent)": lambda w: _coin_row(
        w, "CoinEntry", wallet=_coins(w)["wallet"]
    ),
    # staff notifications
    "notification_kind_valid": lambda w: Notification.objects.create(
        recipient=w["owner"], shop=w["shop"], kind="gossip", title="x"
    ),
    "notification_link_is_local_path": lambda w: Notification.objects.create(
        recipient=w["owner"], shop=w["shop"], kind="general", title="x", link="//evil.example"
    ),
    "notification_pref_unique": lambda w: [
        NotificationPreference.objects.create(user=w["owner"], kind="general") for _ in range(2)
    ],
    "notification_pref_kind_valid": lambda w: NotificationPreference.objects.create(
        user=w["owner"], kind="gossip"
    ),
    # buyer risk decisions (fault 10)
    "risk_decision_has_reason": lambda w: BuyerRiskDecision.objects.create(
        buyer=w["buyer"], previous_status="ok", status="review", decided_by=w["owner"], reason=""
    ),
    # shops
    "shop_rating_0_5": lambda w: _update(w["shop"], store_rating="5.01"),
    "shop_rating_0_5 (negative)": lambda w: _update(w["shop"], store_rating="-0.01"),
    "membership_user_shop_unique": lambda w: Membership.objects.create(
        user=w["owner"], shop=w["shop"], role="analyst"
    ),
    "product_shop_external_unique": lambda w: Product.objects.create(
        shop=w["shop"], external_id=w["product"].external_id, title="Copy", category="toys"
    ),
    "sku_shop_code_unique": lambda w: Sku.objects.create(
        shop=w["shop"], product=w["product"], code=w["sku"].code, currency="CNY", price_minor=1
    ),
    "sku_price_non_negative": lambda w: _update(w["sku"], price_minor=-1),
    "sku_stock_non_negative": lambda w: _update(w["sku"], stock=-1),
    "logistics_shop_carrier_unique": lambda w: LogisticsSetting.objects.create(
        shop=w["shop"], carrier="yanwen"
    ),
    # buyers (SPEC B-3)
    "buyer_email_unique": lambda w: Buyer.objects.create(
        external_id="b-dup", email=w["buyer"].email, country="US", registered_at=w["now"]
    ),
    "buyer_phone_unique": lambda w: (
        _update(w["buyer"], phone="+8613800138000"),
        Buyer.objects.create(
            external_id="b-dup", phone="+8613800138000", country="CN", registered_at=w["now"]
        ),
    ),
    "buyer_has_contact": lambda w: _update(w["buyer"], email=None, phone=None),
    # orders
    "cart_shop_buyer_unique": lambda w: Cart.objects.create(
        shop=w["shop"], buyer=w["buyer"], last_activity_at=w["now"]
    ),
    "cartline_cart_sku_unique": lambda w: CartLine.objects.create(
        cart=w["cart"], sku=w["sku"], quantity=1
    ),
    "cartline_quantity_positive": lambda w: w["cart"].lines.update(quantity=0),
    "order_shop_number_unique": lambda w: Order.objects.create(
        shop=w["shop"],
        buyer=w["buyer"],
        number=w["order"].number,
        currency="CNY",
        subtotal_minor=1,
        placed_at=w["now"],
    ),
    "order_amounts_non_negative": lambda w: _update(w["order"], amount_paid_minor=-1),
    "order_amounts_non_negative (subtotal)": lambda w: _update(w["order"], subtotal_minor=-1),
    "order_amounts_non_negative (coins)": lambda w: _update(w["order"], coin_deduction_coins=-1),
    "order_amounts_non_negative (coupon)": lambda w: _update(w["order"], coupon_discount_minor=-5),
    "order_amounts_non_negative (subsidy)": lambda w: _update(
        w["order"], platform_subsidy_minor=-5
    ),
    "order_refund_within_paid": lambda w: _update(
        w["order"], refunded_minor=w["order"].amount_paid_minor + 1
    ),
    "orderline_quantity_positive": lambda w: w["order"].lines.update(quantity=0),
    "orderline_price_non_negative": lambda w: w["order"].lines.update(unit_price_minor=-1),
    "payment_amount_non_negative": lambda w: w["order"].payments.update(amount_minor=-1),
    "refund_amount_positive": lambda w: Refund.objects.create(
        order=w["order"], external_id="r-0", amount_minor=0, refunded_at=w["now"]
    ),
    "review_order_sku_unique": lambda w: Review.objects.create(
        order=w["delivered"],
        shop=w["shop"],
        sku=w["sku"],
        buyer=w["buyer"],
        rating=4,
        dsr_item_as_described=4,
        dsr_communication=4,
        dsr_shipping=4,
        posted_at=w["now"],
    ),
    "review_scores_1_5": lambda w: _update(w["review"], rating=6),
    "review_scores_1_5 (zero)": lambda w: _update(w["review"], rating=0),
    "review_scores_1_5 (dsr)": lambda w: _update(w["review"], dsr_shipping=6),
    "dailystats_shop_day_unique": lambda w: ShopDailyStats.objects.create(
        shop=w["shop"], day=ShopDailyStats.objects.get(shop=w["shop"]).day
    ),
    # unique fields (idempotency keys and one-to-ones): "Model.field"
    "Shop.external_id": lambda w: Shop.objects.create(
        external_id=w["shop"].external_id,
        name="Copy",
        opened_at=w["now"],
        main_category="toys",
    ),
    "Buyer.external_id": lambda w: Buyer.objects.create(
        external_id=w["buyer"].external_id,
        email="x@example.com",
        country="US",
        registered_at=w["now"],
    ),
    "Violation.external_id": lambda w: Violation.objects.create(
        shop=w["shop"], external_id="v-1", kind="late", occurred_at=w["now"]
    ),
    "Payment.external_id": lambda w: Payment.objects.create(
        order=w["delivered"],
        external_id=w["order"].payments.get().external_id,
        amount_minor=1,
        currency="CNY",
        method="card",
        paid_at=w["now"],
    ),
    "Refund.external_id": lambda w: [
        Refund.objects.create(
            order=w["order"], external_id="r-1", amount_minor=1, refunded_at=w["now"]
        )
        for _ in range(2)
    ],
    "Dispute.external_id": lambda w: [
        Dispute.objects.create(order=w["order"], external_id="d-1", opened_at=w["now"])
        for _ in range(2)
    ],
    "Shipment.order": lambda w: Shipment.objects.create(
        order=w["delivered"], carrier="yanwen", tracking_number="X", shipped_at=w["now"]
    ),
    "privatefile_size_positive": lambda w: PrivateFile.objects.create(
        owner_type=ContentType.objects.get_for_model(Shop),
        owner_id=str(w["shop"].pk),
        file="x.pdf",
        original_name="x.pdf",
        content_type="application/pdf",
        extension="pdf",
        size=0,
        sha256="0" * 64,
    ),
    "Feedback.order": lambda w: [
        Feedback.objects.create(
            order=w["delivered"], shop=w["shop"], kind="positive", posted_at=w["now"]
        )
        for _ in range(2)
    ],
    # event ingestion: one integration per key, each event id once per integration
    "Integration.key_id": lambda w: type(w["integration"]).objects.create(
        name="Copy", key_id="k-1", secret_encrypted="y"
    ),
    "ingested_event_unique": lambda w: type(w["ingested"]).objects.create(
        integration=w["integration"],
        event_id="e-1",
        type="order.created",
        status="rejected",
        received_at=w["now"],
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_each_constraint_refuses_a_violating_row(w, case):
    # given: a valid world (fixture); the constraint under test
    violate = CASES[case]
    name = case.split(" (")[0]

    # when / then
    with pytest.raises(IntegrityError) as exc, transaction.atomic():
        violate(w)
    if "." in name:  # a unique field: the database names its column
        model_name, field_name = name.split(".")
        column = _model(model_name)._meta.get_field(field_name).column
        assert f"Key ({column})=" in str(exc.value)
    else:  # a named Meta constraint: the database names it
        assert name in str(exc.value)


def _exercised_elsewhere() -> set[str]:
    """Constraint names a test file of any app mentions next to ``IntegrityError``."""
    names = set(declared_constraints())
    found = set()
    for path in TESTS_DIR.rglob("test_*.py"):
        if path.resolve() == Path(__file__).resolve():
            continue
        text = path.read_text()
        if "IntegrityError" in text:
            found |= {name for name in names if f'"{name}"' in text}
    return found


def test_every_constraint_of_every_project_model_has_a_case():
    # given: what the models declare, discovered (a new app's models included)
    declared = declared_constraints()

    # when
    covered = {case.split(" (")[0] for case in CASES} | _exercised_elsewhere()

    # then
    missing = {f"{declared[name]._meta.label}: {name}" for name in set(declared) - covered}
    assert missing == set(), "add a violation case for each new constraint"


def test_the_discovery_sees_every_project_app_and_no_django_app():
    # when
    labels = {model._meta.app_label for model in project_models()}

    # then: this test file is not fooled by an empty or too-wide discovery
    assert {"shops", "buyers", "orders"} <= labels
    assert not labels & {"auth", "admin", "contenttypes", "sessions"}
    assert "ingested_event_unique" in declared_constraints()
    assert "Payment.external_id" in declared_constraints()


def test_the_valid_world_itself_is_accepted(w):
    # then: the fixture breaks nothing, so each failure above is the violation's
    assert Order.objects.filter(pk=w["order"].pk).exists()
    assert ShopDailyStats.objects.filter(shop=w["shop"]).exists()
    assert make_member(w["shop"], "analyst").memberships.count() == 1
