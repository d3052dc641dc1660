"""The coin engine's services (SPEC C-1 … C-8), state set up through the services."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from coinkit import (
    assert_reconciled,
    coin_order,
    coin_product,
    coin_shop,
    enable,
    give,
    open_account,
    rule,
    top_up,
)
from django.core import mail
from django.db import IntegrityError, connection, transaction
from factories import first_sku, make_buyer, make_order, make_product, make_shop, next_id

from coins import services
from coins.models import (
    AccountStatus,
    CoinAccount,
    CoinClawback,
    CoinEntry,
    CoinFund,
    CoinGrant,
    CoinLot,
    CoinMovement,
    CoinProductSetting,
    CoinReconciliation,
    CoinRedemption,
    CoinWallet,
    LotSource,
    MovementKind,
    RuleKind,
    RuleStatus,
)
from core import clock
from core.errors import DomainError
from core.money import Money
from orders import services as order_services
from orders.inputs import LineInput, OrderInput
from orders.models import ShopDailyStats
from shops.models import Notification
from shops.selectors import balance_for_shop
from shops.services import balance_credit


def fund(shop) -> CoinFund:
    return CoinFund.objects.get(shop=shop)


def wallet(shop, buyer) -> CoinWallet:
    return CoinWallet.objects.get(shop=shop, buyer=buyer)


def counts() -> tuple[int, ...]:
    return (
        CoinMovement.objects.count(),
        CoinEntry.objects.count(),
        CoinLot.objects.count(),
        CoinGrant.objects.count(),
        CoinRedemption.objects.count(),
        CoinProductSetting.objects.count(),
    )


# --- C-1, C-2: account ----------------------------------------------------------------------


def test_c1_eligible_shop_opens_its_account_with_a_coin_id(shop_a):
    account = open_account(shop_a)
    assert account.coin_id == f"SC-C{shop_a.pk:08d}"
    assert account.status == AccountStatus.ACTIVE
    assert fund(shop_a).available == 0
    # opening again returns the same account
    assert services.account_open(shop=shop_a) == account


def test_c1_ineligible_shop_is_told_each_failed_condition_with_its_value(db):
    shop = make_shop(registration_region="HK", enterprise_certified=False)
    with pytest.raises(DomainError) as exc:
        services.account_open(shop=shop)
    assert exc.value.code == "coins_not_eligible"
    assert "Hong Kong" in exc.value.message or "HK" in exc.value.message
    assert "Not certified" in exc.value.message
    assert "no feedback in 90 days" in exc.value.message
    assert not CoinAccount.objects.filter(shop=shop).exists()


def _feedback_rate(shop, *, positive: int, total: int) -> None:
    """The 90-day feedback ``positive`` of ``total`` as the daily figures hold it (what ``total``
    posted feedbacks leave there, without building that many orders)."""
    ShopDailyStats.objects.create(
        shop=shop, day=clock.natural_day(), feedback_total=total, feedback_positive=positive
    )


def test_c1_a_positive_rate_just_under_95_percent_is_refused_and_not_shown_as_95(db):
    # given 189 positive of 199: 94.97%, which rounds to 95.0%
    shop = make_shop()
    _feedback_rate(shop, positive=189, total=199)
    # when
    with pytest.raises(DomainError) as exc:
        services.account_open(shop=shop)
    # then it is below the 95% minimum, and never reads as 95.0%
    assert exc.value.code == "coins_not_eligible"
    assert "94.9% (required ≥ 95%)" in exc.value.message
    assert "90-day positive rate 94.9% < 95%" in exc.value.message
    assert not CoinAccount.objects.filter(shop=shop).exists()


def test_c1_exactly_95_percent_positive_opens_the_account(db):
    # given 190 positive of 200: exactly 95%
    shop = make_shop()
    _feedback_rate(shop, positive=190, total=200)
    # when / then
    assert services.account_open(shop=shop).status == AccountStatus.ACTIVE


def test_c2_account_cannot_be_deleted_only_paused_and_resumed(shop_a, buyer):
    coin_shop(shop_a)
    g = give(shop_a, buyer, 500)
    account = services.account_pause(shop=shop_a)
    assert account.status == AccountStatus.PAUSED
    # paused: no issuance ...
    r = rule(shop_a, coins=10)
    with pytest.raises(DomainError) as exc:
        services.grant_issue(rule_id=r.pk, order=make_order(shop_a, buyer), coins=10)
    assert exc.value.code == "coins_account_paused"
    # ... and no deduction
    sku = coin_product(shop_a)
    with pytest.raises(DomainError) as exc:
        coin_order(shop_a, buyer, sku, 100)
    assert exc.value.code == "coins_account_paused"
    # the buyer's coins stay, and expiry runs on
    assert wallet(shop_a, buyer).balance == 500
    with time_machine.travel(g.created_at + timedelta(days=181), tick=False):
        assert services.lots_expire() == 500
    services.account_resume(shop=shop_a)
    assert CoinAccount.objects.get(shop=shop_a).status == AccountStatus.ACTIVE
    # the database refuses deleting an account that has a fund (PROTECT)
    with pytest.raises(IntegrityError), transaction.atomic():
        CoinAccount.objects.filter(shop=shop_a).delete()
    assert_reconciled()


# --- C-5: fund ------------------------------------------------------------------------------


def test_c5_top_up_debits_the_shop_balance_in_the_same_transaction(shop_a):
    open_account(shop_a)
    balance_credit(shop=shop_a, amount=Money(600_00, "CNY"), reason="t", idempotency_key="c1")
    m = services.fund_top_up(shop=shop_a, amount=Money(500_00, "CNY"), idempotency_key="t1")
    assert m.coins == 500_00
    assert fund(shop_a).available == 500_00
    assert balance_for_shop(shop=shop_a) == Money(100_00, "CNY")
    # the same key again: the first top-up, nothing more
    again = services.fund_top_up(shop=shop_a, amount=Money(500_00, "CNY"), idempotency_key="t1")
    assert again == m
    assert fund(shop_a).available == 500_00
    with pytest.raises(DomainError) as exc:
        services.fund_top_up(shop=shop_a, amount=Money(1_00, "CNY"), idempotency_key="t1")
    assert exc.value.code == "idempotency_key_reused"
    assert_reconciled()


def test_c5_top_up_beyond_the_shop_balance_is_refused_and_writes_nothing(shop_a):
    open_account(shop_a)
    before = counts()
    with pytest.raises(DomainError) as exc:
        services.fund_top_up(shop=shop_a, amount=Money(1_00, "CNY"), idempotency_key="x")
    assert exc.value.code == "insufficient_balance"
    assert counts() == before
    assert fund(shop_a).available == 0


@pytest.mark.parametrize(
    ("amount", "code"),
    [
        (Money(0, "CNY"), "coins_invalid_amount"),
        (Money(-5_00, "CNY"), "coins_invalid_amount"),
        (Money(10**13, "CNY"), "coins_invalid_amount"),
        (Money(5_00, "USD"), "currency_mismatch"),
        (Decimal("5.00"), "coins_invalid_amount"),
        (500, "coins_invalid_amount"),
    ],
)
def test_c5_bad_top_up_amounts_are_refused_with_nothing_written(shop_a, amount, code):
    open_account(shop_a)
    balance_credit(shop=shop_a, amount=Money(600_00, "CNY"), reason="t", idempotency_key="c1")
    before = counts()
    with pytest.raises(DomainError) as exc:
        services.fund_top_up(shop=shop_a, amount=amount, idempotency_key="bad")
    assert exc.value.code == code
    assert counts() == before
    assert balance_for_shop(shop=shop_a) == Money(600_00, "CNY")


def test_c5_top_up_without_account_is_refused(shop_a):
    balance_credit(shop=shop_a, amount=Money(600_00, "CNY"), reason="t", idempotency_key="c1")
    with pytest.raises(DomainError) as exc:
        services.fund_top_up(shop=shop_a, amount=Money(1_00, "CNY"), idempotency_key="k")
    assert exc.value.code == "coins_no_account"
    assert balance_for_shop(shop=shop_a) == Money(600_00, "CNY")


def test_c5_grant_reserves_and_is_refused_when_the_fund_cannot_cover_it(shop_a, buyer):
    coin_shop(shop_a, fund=1000)
    give(shop_a, buyer, 600)
    f = fund(shop_a)
    assert (f.available, f.reserved, f.spent, f.topped_up) == (400, 600, 0, 1000)
    before = counts()
    r = rule(shop_a, coins=401)
    with pytest.raises(DomainError) as exc:
        services.grant_issue(rule_id=r.pk, order=make_order(shop_a, buyer), coins=401)
    assert exc.value.code == "coins_fund_insufficient"
    assert CoinMovement.objects.count() == before[0]
    assert fund(shop_a).available == 400
    assert_reconciled()


# --- C-7: rules and grants ------------------------------------------------------------------


def test_c7_grant_is_idempotent_per_rule_and_order(shop_a, buyer, order_a):
    coin_shop(shop_a)
    r = rule(shop_a, coins=100)
    first = services.grant_issue(rule_id=r.pk, order=order_a, coins=100)
    second = services.grant_issue(rule_id=r.pk, order=order_a, coins=100)
    assert first == second
    assert wallet(shop_a, buyer).balance == 100
    with pytest.raises(IntegrityError, match="coin_grant_rule_order_unique"), transaction.atomic():
        CoinGrant.objects.create(
            rule=r, order=order_a, shop=shop_a, buyer=buyer, coins=1, created_at=clock.now()
        )


def test_c7_rule_stops_when_its_budget_is_spent(shop_a, buyer):
    coin_shop(shop_a)
    r = rule(shop_a, coins=100, budget=200)
    services.grant_issue(rule_id=r.pk, order=make_order(shop_a, buyer), coins=100)
    r.refresh_from_db()
    assert (r.granted_coins, r.status) == (100, RuleStatus.ACTIVE)
    services.grant_issue(rule_id=r.pk, order=make_order(shop_a, buyer), coins=100)
    r.refresh_from_db()
    assert (r.granted_coins, r.status) == (200, RuleStatus.STOPPED)


def test_c7_a_fixed_rule_stops_when_its_budget_cannot_cover_the_next_grant(shop_a, owner):
    # given a budget of 1,000 coins and 300 coins a grant
    coin_shop(shop_a)
    r = rule(shop_a, coins=300, budget=1000)
    orders = [make_order(shop_a, status="paid") for _ in range(4)]

    def apply(order) -> list[int]:
        made = services.order_grants_apply(
            order_id=order.pk, kinds=services.ON_PAID, at=clock.now()
        )
        return [g.coins for g in made]

    # when the rule applies to three orders
    assert [apply(o) for o in orders[:3]] == [[300], [300], [300]]
    # then the third grant, leaving 100 that no grant can use, stops the rule at once
    r.refresh_from_db()
    assert (r.granted_coins, r.status) == (900, RuleStatus.STOPPED)
    # and the owner is told why, once
    (note,) = Notification.objects.filter(
        recipient=owner, shop=shop_a, message="coins.rule_budget_spent"
    )
    assert "Coin rule stopped: its budget is spent" in note.title
    assert f"“{r.name}” has granted 900 of its 1000-coin budget" in note.body
    # a fourth order gets nothing from it
    assert apply(orders[3]) == []
    with pytest.raises(DomainError) as exc:
        services.grant_issue(rule_id=r.pk, order=orders[3], coins=100)
    assert exc.value.code == "coins_rule_stopped"
    assert fund(shop_a).available == 1_000_00 - 900
    assert_reconciled()


def test_c7_a_grant_refused_for_lack_of_budget_stops_the_rule(shop_a, owner):
    # given a 10%-of-paid completion cashback with 1,500 coins of budget
    coin_shop(shop_a)
    r = rule(shop_a, kind=RuleKind.COMPLETION_CASHBACK, coins=0, percent_bp=1000, budget=1500)
    first = make_order(shop_a, status="completed")  # ¥100: 1,000 coins
    second = make_order(shop_a, status="completed")
    assert [g.coins for g in _completion_grants(first)] == [1000]
    r.refresh_from_db()
    assert r.status == RuleStatus.ACTIVE  # 500 left: a smaller order could still be granted
    # when the next grant (1,000) is more than the 500 left
    assert _completion_grants(second) == []
    # then the rule stops (its grant was refused) and the owner hears about it
    r.refresh_from_db()
    assert (r.granted_coins, r.status) == (1000, RuleStatus.STOPPED)
    note = Notification.objects.get(recipient=owner, shop=shop_a, message="coins.rule_budget_spent")
    assert "1000 of its 1500-coin budget" in note.body
    assert not CoinGrant.objects.filter(order=second).exists()
    assert_reconciled()


def test_c7_a_rule_whose_budget_was_edited_below_a_grant_stops_at_its_next_order(shop_a):
    # given a live rule of 300 a grant whose budget was edited to leave 200
    coin_shop(shop_a)
    r = rule(shop_a, coins=300, budget=1000)
    services.grant_issue(rule_id=r.pk, order=make_order(shop_a, status="paid"), coins=300)
    services.rule_update(
        shop=shop_a, rule_id=r.pk, name=r.name, ends_at=None, budget_coins=500, stackable=True
    )
    # when its next order comes
    order = make_order(shop_a, status="paid")
    assert (
        services.order_grants_apply(order_id=order.pk, kinds=services.ON_PAID, at=clock.now()) == []
    )
    # then the grant is refused and the rule stops, its grants kept
    r.refresh_from_db()
    assert (r.granted_coins, r.status) == (300, RuleStatus.STOPPED)


def _completion_grants(order) -> list[CoinGrant]:
    return services.order_grants_apply(
        order_id=order.pk, kinds=services.ON_COMPLETED, at=clock.now()
    )


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"coins": 0}, "coins_invalid_amount"),
        ({"coins": -5}, "coins_invalid_amount"),
        ({"coins": 1.5}, "coins_invalid_amount"),
        ({"coins": 10**13}, "coins_invalid_amount"),
        ({"coins": 0, "percent_bp": 500}, "coins_invalid_rule"),  # a share on instant cashback
        ({"kind": "lottery"}, "coins_invalid_rule"),
        ({"budget": 0}, "coins_invalid_amount"),
        ({"coins": 200, "budget": 100}, "coins_invalid_rule"),
        ({"name": ""}, "invalid_name"),
        ({"kind": RuleKind.SPEND_THRESHOLD}, "coins_invalid_rule"),  # no threshold
    ],
)
def test_c7_bad_rules_are_refused(shop_a, kwargs, code):
    open_account(shop_a)
    kw = dict(kwargs)
    name = kw.pop("name", "A rule")
    kind = kw.pop("kind", RuleKind.INSTANT_CASHBACK)
    budget = kw.pop("budget", 1000)
    with pytest.raises(DomainError) as exc:
        services.rule_create(
            shop=shop_a,
            name=name,
            kind=kind,
            budget_coins=budget,
            starts_at=clock.now(),
            **{"coins": 100, **kw},
        )
    assert exc.value.code == code


@pytest.mark.parametrize("coins", [0, -1, 2.5, 10**13, "10"])
def test_c7_bad_grant_amounts_write_nothing(shop_a, buyer, order_a, coins):
    coin_shop(shop_a)
    r = rule(shop_a)
    before = counts()
    with pytest.raises(DomainError) as exc:
        services.grant_issue(rule_id=r.pk, order=order_a, coins=coins)
    assert exc.value.code == "coins_invalid_amount"
    assert counts() == before


def test_c7_another_shops_rule_cannot_grant(shop_a, shop_b, buyer, order_a):
    coin_shop(shop_a)
    coin_shop(shop_b)
    r = rule(shop_b)
    with pytest.raises(DomainError) as exc:
        services.grant_issue(rule_id=r.pk, order=order_a, coins=100)
    assert exc.value.code == "not_found"


# --- C-3: product settings ------------------------------------------------------------------


def test_c3_bulk_deduction_settings(shop_a):
    products = [make_product(shop_a) for _ in range(3)]
    services.product_deduction_set(
        shop=shop_a, product_ids=[p.pk for p in products], enabled=True, max_ratio_bp=2000
    )
    assert set(CoinProductSetting.objects.values_list("product_id", "enabled", "max_ratio_bp")) == {
        (p.pk, True, 2000) for p in products
    }
    services.product_deduction_set(
        shop=shop_a, product_ids=[products[0].pk], enabled=False, max_ratio_bp=0
    )
    assert not CoinProductSetting.objects.get(product=products[0]).enabled


@pytest.mark.parametrize(
    ("ids", "ratio", "code"),
    [
        ("own", 3001, "coins_invalid_ratio"),
        ("own", -1, "coins_invalid_ratio"),
        ("own", 0, "coins_invalid_ratio"),  # on with 0%
        ("own", 15.5, "coins_invalid_ratio"),
        ("foreign", 1000, "coins_unknown_product"),
        ("missing", 1000, "coins_unknown_product"),
        ("none", 1000, "coins_invalid_products"),
        ("junk", 1000, "coins_invalid_products"),
    ],
)
def test_c3_bad_deduction_settings_write_nothing(shop_a, product_a, product_b, ids, ratio, code):
    chosen = {
        "own": [product_a.pk],
        "foreign": [product_a.pk, product_b.pk],
        "missing": [product_a.pk, 10**9],
        "none": [],
        "junk": ["1; drop"],
    }[ids]
    with pytest.raises(DomainError) as exc:
        services.product_deduction_set(
            shop=shop_a, product_ids=chosen, enabled=True, max_ratio_bp=ratio
        )
    assert exc.value.code == code
    assert not CoinProductSetting.objects.exists()


# --- C-3, C-6: redemption -------------------------------------------------------------------


def test_c3_c6_redemption_spends_soonest_expiring_lots_first(shop_a, buyer):
    coin_shop(shop_a)
    late = give(shop_a, buyer, 1000)
    with time_machine.travel(clock.now() - timedelta(days=10), tick=False):
        early = give(shop_a, buyer, 300)
    sku = coin_product(shop_a)
    order = coin_order(shop_a, buyer, sku, 500)
    assert CoinLot.objects.get(grant=early).remaining == 0
    assert CoinLot.objects.get(grant=late).remaining == 800
    redemption = CoinRedemption.objects.get(order_number=order.number)
    assert redemption.coins == 500
    assert [(p.lot.grant_id, p.coins) for p in redemption.parts.order_by("pk")] == [
        (early.pk, 300),
        (late.pk, 200),
    ]
    f = fund(shop_a)
    assert (f.reserved, f.spent) == (800, 500)
    assert wallet(shop_a, buyer).balance == 800
    assert_reconciled()


@pytest.mark.parametrize(
    ("setup", "coins", "code"),
    [
        ("no_account", 100, "coins_no_account"),
        ("switch_off", 100, "coins_product_not_enabled"),
        ("rich", 30_01, "coins_cap_exceeded"),  # 30% of ¥100 = 3000 coins
        ("ok", 2_001, "coins_insufficient"),  # the buyer holds 2000
        ("other_shop_coins", 100, "coins_insufficient"),  # C-6: coins are per shop
    ],
)
def test_c3_refused_deductions_reject_the_order_and_write_nothing(
    shop_a, shop_b, buyer, setup, coins, code
):
    if setup != "no_account":
        coin_shop(shop_a)
        coin_shop(shop_b)
        give(
            shop_b if setup == "other_shop_coins" else shop_a,
            buyer,
            5000 if setup == "rich" else 2000,
        )
    sku = first_sku(make_product(shop_a))
    if setup != "switch_off":
        services.product_deduction_set(
            shop=shop_a, product_ids=[sku.product_id], enabled=True, max_ratio_bp=3000
        )
    before = counts()
    with pytest.raises(DomainError) as exc:
        coin_order(shop_a, buyer, sku, coins, number="REFUSED-1")
    assert exc.value.code == code
    assert counts() == before
    assert not shop_a.orders.filter(number="REFUSED-1").exists()


def test_c3_fifty_yuan_cap_on_a_big_order(shop_a, buyer):
    coin_shop(shop_a)
    give(shop_a, buyer, 20_000)
    sku = coin_product(shop_a, price_minor=1_000_00)
    coin_order(shop_a, buyer, sku, 50_00)
    with pytest.raises(DomainError) as exc:
        coin_order(shop_a, buyer, sku, 50_01)
    assert exc.value.code == "coins_cap_exceeded"


def test_c3_unapproved_product_takes_no_coins(shop_a, buyer):
    coin_shop(shop_a)
    give(shop_a, buyer, 1000)
    product = make_product(shop_a, review_status="pending")
    services.product_deduction_set(
        shop=shop_a, product_ids=[product.pk], enabled=True, max_ratio_bp=3000
    )
    with pytest.raises(DomainError) as exc:
        coin_order(shop_a, buyer, first_sku(product), 100)
    assert exc.value.code == "coins_product_not_enabled"


def _cart_order(shop, buyer, lines, coins: int):
    """An order of several lines (``(sku, quantity)`` each) deducting ``coins``."""
    return order_services.order_create(
        OrderInput(
            shop=shop,
            buyer=buyer,
            number=next_id("MIX-"),
            lines=[
                LineInput(sku=sku, quantity=q, unit_price_minor=sku.price_minor) for sku, q in lines
            ],
            placed_at=clock.now(),
            payment_method="card",
            coin_deduction_coins=coins,
            coin_deduction_minor=coins,
        )
    )


@pytest.fixture(params=["set_based", "portable"])
def checkout_path(request, monkeypatch):
    """Both checkout paths: hand-written statements (PostgreSQL) and the ORM's."""
    from coins.services import checkout

    monkeypatch.setattr(checkout, "SET_BASED", request.param == "set_based")
    return request.param


def test_c3_a_mixed_cart_deducts_within_the_cap_of_its_enabled_lines(shop_a, buyer, checkout_path):
    # given ¥100 at 30% beside ¥100 products whose coins are off, unset or not approved
    coin_shop(shop_a)
    give(shop_a, buyer, 10_000)
    on = coin_product(shop_a, ratio=3000)
    unset = first_sku(make_product(shop_a))
    switched_off = first_sku(make_product(shop_a))
    services.product_deduction_set(
        shop=shop_a, product_ids=[switched_off.product_id], enabled=False, max_ratio_bp=0
    )
    pending = make_product(shop_a, review_status="pending")
    enable(shop_a, pending)
    cart = [(on, 1), (unset, 1), (switched_off, 2), (first_sku(pending), 1)]  # ¥500 payable
    # when it deducts more than 30% of the enabled line: refused, nothing written
    before = counts()
    with pytest.raises(DomainError) as exc:
        _cart_order(shop_a, buyer, cart, 3001)  # 30% of ¥500 (and ¥50) would allow 5,000
    assert exc.value.code == "coins_cap_exceeded"
    assert counts() == before
    # then up to that cap the order is placed, the others' lines taking no coins
    order = _cart_order(shop_a, buyer, cart, 3000)
    assert CoinRedemption.objects.get(order_number=order.number).coins == 3000
    assert wallet(shop_a, buyer).balance == 7000
    assert fund(shop_a).spent == 3000
    assert_reconciled()


def test_c3_an_order_of_only_products_without_coins_is_refused(shop_a, buyer, checkout_path):
    coin_shop(shop_a)
    give(shop_a, buyer, 10_000)
    unset = first_sku(make_product(shop_a))
    pending = make_product(shop_a, review_status="pending")
    enable(shop_a, pending)
    before = counts()
    with pytest.raises(DomainError) as exc:
        _cart_order(shop_a, buyer, [(unset, 1), (first_sku(pending), 3)], 100)
    assert exc.value.code == "coins_product_not_enabled"
    assert unset.code in exc.value.message
    assert counts() == before
    assert wallet(shop_a, buyer).balance == 10_000


def test_c6_an_expired_lot_is_not_spendable_before_the_job_runs(shop_a, buyer):
    coin_shop(shop_a)
    g = give(shop_a, buyer, 1000)
    sku = coin_product(shop_a)
    with time_machine.travel(g.created_at + timedelta(days=180), tick=False):
        with pytest.raises(DomainError) as exc:
            coin_order(shop_a, buyer, sku, 100)
        assert exc.value.code == "coins_insufficient"


# --- C-6: expiry ----------------------------------------------------------------------------


def test_c6_expiry_releases_reservations_once(shop_a, buyer):
    coin_shop(shop_a, fund=10_000)
    g = give(shop_a, buyer, 1000)
    sku = coin_product(shop_a)
    coin_order(shop_a, buyer, sku, 400)
    just_before = g.created_at + timedelta(days=180) - timedelta(microseconds=1)
    with time_machine.travel(just_before, tick=False):
        assert services.lots_expire() == 0
    with time_machine.travel(g.created_at + timedelta(days=180), tick=False):
        assert services.lots_expire() == 600
        assert services.lots_expire() == 0  # twice: one effect
    lot = CoinLot.objects.get(grant=g)
    assert (lot.remaining, lot.expired) == (0, 600)
    f = fund(shop_a)
    assert (f.available, f.reserved, f.spent) == (10_000 - 400, 0, 400)
    assert wallet(shop_a, buyer).balance == 0
    assert_reconciled()


def test_c6_expiry_in_small_batches_covers_every_shop(shop_a, shop_b, buyer):
    coin_shop(shop_a)
    coin_shop(shop_b)
    for _ in range(3):
        give(shop_a, buyer, 10)
        give(shop_b, buyer, 20)
    with time_machine.travel(clock.now() + timedelta(days=181), tick=False):
        assert services.lots_expire(batch_size=2) == 90
    assert not CoinLot.objects.filter(remaining__gt=0).exists()
    assert_reconciled()


@pytest.mark.parametrize("set_based", [True, False], ids=["set-based", "portable"])
def test_c6_expiry_paths_write_the_same_rows(shop_a, shop_b, buyer, monkeypatch, set_based):
    # The set-based batch (PostgreSQL) and the portable one (SQLite) leave the same ledger.
    from coins.services import expiry

    monkeypatch.setattr(expiry, "SET_BASED", set_based)
    coin_shop(shop_a)
    coin_shop(shop_b)
    other = make_buyer()
    for _ in range(3):
        give(shop_a, buyer, 10)
        give(shop_a, other, 7)
        give(shop_b, buyer, 20)
    with time_machine.travel(clock.now() + timedelta(days=181), tick=False):
        assert services.lots_expire(batch_size=4) == 3 * (10 + 7 + 20)
        assert services.lots_expire(batch_size=4) == 0
    moves = CoinMovement.objects.filter(kind=MovementKind.EXPIRE)
    assert sorted(m.coins for m in moves) == [
        21,
        30,
        60,
    ]  # one per wallet: batches take whole wallets
    assert all(m.idempotency_key.startswith("expire:") for m in moves)
    assert all(m.memo.endswith("lots expired") for m in moves)
    assert wallet(shop_a, buyer).balance == wallet(shop_b, buyer).balance == 0
    assert (fund(shop_a).reserved, fund(shop_b).reserved) == (0, 0)
    assert_reconciled()


# --- C-8: refunds ---------------------------------------------------------------------------


def _paid_coin_order(shop, buyer, coins, *, price=100_00):
    sku = coin_product(shop, price_minor=price)
    return coin_order(shop, buyer, sku, coins, status="paid")


def _refund(order, amount, n=[0]):  # noqa: B006 - a counter for unique refund ids
    n[0] += 1
    order = type(order).objects.get(pk=order.pk)
    refund = order_services.order_refund(
        order=order, refund_id=f"r-coins-{n[0]}", amount_minor=amount, refunded_at=clock.now()
    )
    order.refresh_from_db()
    services.order_refund_apply(order_id=order.pk, refund_id=refund.pk, full=False)
    return refund


def test_c8_full_refund_returns_deducted_coins_with_their_original_expiry(shop_a, buyer):
    coin_shop(shop_a)
    g = give(shop_a, buyer, 1000)
    order = _paid_coin_order(shop_a, buyer, 1000)
    assert wallet(shop_a, buyer).balance == 0
    _refund(order, order.amount_paid_minor)
    back = CoinLot.objects.get(source=LotSource.REFUND_RETURN)
    assert (back.remaining, back.expires_at) == (1000, CoinLot.objects.get(grant=g).expires_at)
    assert wallet(shop_a, buyer).balance == 1000
    assert fund(shop_a).spent == 0
    assert_reconciled()


def test_c8_coins_past_their_expiry_come_back_as_a_30_day_grace_lot(shop_a, buyer):
    coin_shop(shop_a)
    g = give(shop_a, buyer, 1000)
    order = _paid_coin_order(shop_a, buyer, 500)
    later = g.created_at + timedelta(days=200)
    with time_machine.travel(later, tick=False):
        services.lots_expire()
        _refund(order, order.amount_paid_minor)
    grace = CoinLot.objects.get(source=LotSource.GRACE)
    assert (grace.remaining, grace.expires_at) == (500, later + timedelta(days=30))
    assert_reconciled()


def test_c8_partial_refund_returns_coins_in_proportion(shop_a, buyer):
    coin_shop(shop_a)
    give(shop_a, buyer, 1000)
    order = _paid_coin_order(shop_a, buyer, 1000)  # ¥100: ¥10 in coins, ¥90 paid
    _refund(order, 45_00)  # half of what was paid
    assert wallet(shop_a, buyer).balance == 500
    _refund(order, 45_00)  # the rest
    assert wallet(shop_a, buyer).balance == 1000
    assert CoinRedemption.objects.get().returned == 1000
    assert_reconciled()


def test_c8_cashback_is_clawed_back_from_unspent_coins_only(shop_a, buyer):
    coin_shop(shop_a)
    order = make_order(shop_a, buyer, status="paid")
    g = give(shop_a, buyer, 1000, order=order)
    # the buyer spends 700 of the cashback elsewhere
    _paid_coin_order(shop_a, buyer, 700, price=10_000_00)
    refund = _refund(order, order.amount_paid_minor)
    claw = CoinClawback.objects.get(grant=g, refund_id=refund.pk)
    assert (claw.due, claw.recovered, claw.unrecoverable) == (1000, 300, 700)
    assert wallet(shop_a, buyer).balance == 0
    assert fund(shop_a).available == 1_000_00 - 700
    assert_reconciled()


def test_c8_partial_refund_claws_back_in_proportion(shop_a, buyer):
    coin_shop(shop_a)
    order = make_order(shop_a, buyer, status="paid")  # ¥100
    g = give(shop_a, buyer, 1000, order=order)
    _refund(order, 25_00)
    assert CoinClawback.objects.get(grant=g).recovered == 250
    assert wallet(shop_a, buyer).balance == 750


def _cashback_10_percent(shop):
    return rule(shop, kind=RuleKind.COMPLETION_CASHBACK, coins=0, percent_bp=1000)


def test_c8_share_of_paid_cashback_is_clawed_back_only_for_refunds_after_it(shop_a, buyer):
    # given ¥100 paid, ¥50 refunded before completion, and 10%-of-paid completion cashback
    coin_shop(shop_a)
    _cashback_10_percent(shop_a)
    order = make_order(shop_a, buyer, status="delivered")
    _refund(order, 50_00)
    order = order_services.order_complete(order=order, completed_at=clock.now())
    (g,) = _completion_grants(order)
    assert (g.coins, g.refunded_before_minor) == (500, 50_00)  # 10% of the ¥50 still paid
    # when a further ¥25 of the ¥50 it was computed on is refunded
    refund = _refund(order, 25_00)
    # then half of the cashback is clawed back, not 3/4 of it
    claw = CoinClawback.objects.get(grant=g, refund_id=refund.pk)
    assert (claw.due, claw.recovered) == (250, 250)
    assert wallet(shop_a, buyer).balance == 250  # 10% of the ¥25 still paid
    # and the last ¥25 takes the rest
    _refund(order, 25_00)
    assert sum(c.due for c in g.clawbacks.all()) == 500
    assert wallet(shop_a, buyer).balance == 0
    assert_reconciled()


def test_c8_share_of_paid_cashback_without_earlier_refunds_is_clawed_in_proportion(shop_a, buyer):
    coin_shop(shop_a)
    _cashback_10_percent(shop_a)
    order = make_order(shop_a, buyer, status="delivered")  # ¥100
    order = order_services.order_complete(order=order, completed_at=clock.now())
    (g,) = _completion_grants(order)
    assert (g.coins, g.refunded_before_minor) == (1000, 0)
    refund = _refund(order, 25_00)
    assert CoinClawback.objects.get(grant=g, refund_id=refund.pk).due == 250
    assert wallet(shop_a, buyer).balance == 750
    assert_reconciled()


def _cancel(order):
    order = order_services.order_cancel(order=order, cancelled_at=clock.now())
    # what the order.cancelled consumer does (no commit here, so it is called directly)
    return services.order_cancel_apply(order_id=order.pk)


def test_c8_cancelling_an_unpaid_coin_order_gives_every_coin_back(shop_a, buyer):
    # given 500 of 1,000 coins spent on an order not paid yet
    coin_shop(shop_a)
    g = give(shop_a, buyer, 1000)
    order = coin_order(shop_a, buyer, coin_product(shop_a), 500)
    assert (wallet(shop_a, buyer).balance, fund(shop_a).spent) == (500, 500)
    # when it is cancelled
    assert _cancel(order) == 500
    # then the buyer holds them again, with their original expiry, and the fund spent nothing
    assert wallet(shop_a, buyer).balance == 1000
    back = CoinLot.objects.get(source=LotSource.REFUND_RETURN)
    assert (back.remaining, back.expires_at) == (500, CoinLot.objects.get(grant=g).expires_at)
    f = fund(shop_a)
    assert (f.available, f.reserved, f.spent) == (1_000_00 - 1000, 1000, 0)
    assert CoinRedemption.objects.get(order_number=order.number).returned == 500
    move = CoinMovement.objects.get(kind=MovementKind.REFUND_RETURN)
    assert move.idempotency_key.startswith("cancel-return:")
    assert_reconciled()
    # and handling the cancellation again changes nothing
    before = counts()
    assert services.order_cancel_apply(order_id=order.pk) == 0
    assert counts() == before
    assert wallet(shop_a, buyer).balance == 1000


def test_c8_coins_of_a_cancelled_order_past_their_expiry_come_back_as_a_grace_lot(shop_a, buyer):
    coin_shop(shop_a)
    g = give(shop_a, buyer, 1000)
    order = coin_order(shop_a, buyer, coin_product(shop_a), 400)
    later = g.created_at + timedelta(days=200)
    with time_machine.travel(later, tick=False):
        assert services.lots_expire() == 600
        assert _cancel(order) == 400
    grace = CoinLot.objects.get(source=LotSource.GRACE)
    assert (grace.remaining, grace.expires_at) == (400, later + timedelta(days=30))
    assert fund(shop_a).spent == 0
    assert_reconciled()


def test_c8_a_paid_coin_order_cancelled_then_refunded_returns_its_coins_once(shop_a, buyer):
    coin_shop(shop_a)
    give(shop_a, buyer, 1000)
    order = _paid_coin_order(shop_a, buyer, 1000)
    assert _cancel(order) == 1000
    # the marketplace refunds the cancelled order in full: no coin comes back twice
    _refund(order, order.amount_paid_minor)
    assert wallet(shop_a, buyer).balance == 1000
    assert CoinRedemption.objects.get().returned == 1000
    assert CoinMovement.objects.filter(kind=MovementKind.REFUND_RETURN).count() == 1
    assert fund(shop_a).spent == 0
    assert_reconciled()


def test_c8_a_partly_refunded_coin_order_cancelled_returns_only_the_rest(shop_a, buyer):
    coin_shop(shop_a)
    give(shop_a, buyer, 1000)
    order = _paid_coin_order(shop_a, buyer, 1000)  # ¥90 paid
    _refund(order, 45_00)
    assert wallet(shop_a, buyer).balance == 500
    assert _cancel(order) == 500
    _refund(order, 45_00)  # the rest of the money: the coins are all back already
    assert wallet(shop_a, buyer).balance == 1000
    assert CoinRedemption.objects.get().returned == 1000
    assert sorted(
        CoinMovement.objects.filter(kind=MovementKind.REFUND_RETURN).values_list("coins", flat=True)
    ) == [500, 500]
    assert fund(shop_a).spent == 0
    assert_reconciled()


# --- ledger integrity -----------------------------------------------------------------------


def test_c5_ledger_rows_cannot_be_changed_or_deleted_in_the_database(shop_a, buyer):
    coin_shop(shop_a)
    give(shop_a, buyer, 100)
    entry = CoinEntry.objects.first()
    movement = CoinMovement.objects.first()
    for attempt in (
        lambda: CoinEntry.objects.filter(pk=entry.pk).update(delta=5),
        lambda: CoinEntry.objects.filter(pk=entry.pk).delete(),
        lambda: CoinMovement.objects.filter(pk=movement.pk).update(coins=5),
        lambda: CoinEntry.objects.filter(movement=movement).delete(),
    ):
        with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
            attempt()


def test_c5_reconciliation_reports_a_difference_and_fixes_nothing(shop_a, buyer, settings):
    settings.ADMINS = [("Ops", "ops@example.com")]
    coin_shop(shop_a)
    give(shop_a, buyer, 100)
    assert services.ledger_reconcile().ok
    # someone edits a cached balance behind the ledger's back
    with connection.cursor() as c:
        c.execute(
            "UPDATE coins_coinwallet SET balance = balance + 5 WHERE shop_id = %s", [shop_a.pk]
        )
        c.execute(
            "UPDATE coins_coinfund SET reserved = reserved + 5, topped_up = topped_up + 5 "
            "WHERE shop_id = %s",
            [shop_a.pk],
        )
    result = services.ledger_reconcile()
    assert not result.ok
    whats = {d["what"] for d in result.differences}
    assert {"wallet", "wallet lots", "fund reserved", "fund topped up"} <= whats
    assert wallet(shop_a, buyer).balance == 105  # not corrected
    assert CoinReconciliation.objects.filter(ok=False).count() == 1
    assert "Coin ledger: " in mail.outbox[-1].subject


def test_c6_lots_and_top_ups_of_one_shop_never_touch_another(shop_a, shop_b, buyer):
    coin_shop(shop_a, fund=5000)
    coin_shop(shop_b, fund=7000)
    give(shop_a, buyer, 100)
    assert fund(shop_b).available == 7000
    assert CoinWallet.objects.filter(shop=shop_b).count() == 0
    top_up(shop_b, 10)
    assert fund(shop_a).available == 4900
    assert_reconciled()


def test_c2_redemption_link_points_at_the_saved_order(shop_a, buyer):
    coin_shop(shop_a)
    give(shop_a, buyer, 100)
    order = coin_order(shop_a, buyer, coin_product(shop_a), 100)
    redemption = CoinRedemption.objects.get(order_number=order.number)
    assert redemption.order_id is None  # the consumer links it (no commit in this test)
    assert services.redemption_link(order=order) == 1
    redemption.refresh_from_db()
    assert redemption.order_id == order.pk
