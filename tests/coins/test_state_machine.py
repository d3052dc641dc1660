"""The coin ledger under random sequences of top-ups, grants, redemptions, expiry, refunds,
cancellations, pauses and clock travel (SPEC C-2, C-3, C-5, C-6, C-8), checked after every step:

- no negative balance anywhere (fund, wallets, lots);
- the ledger's entries sum to every cached balance, and wallets equal their lots;
- the fund's reservation equals the coins buyers hold, and after the expiry job no lot past
  its expiry still holds coins;
- a paused account issues nothing and deducts nothing;
- deducted coins come back (refund or cancellation) at most once.

Each example runs in its own savepoint, rolled back at its end."""

from datetime import timedelta

import pytest
import time_machine
from coinkit import coin_product, open_account, rule, top_up
from django.db import transaction
from django.db.models import Sum
from factories import make_buyer, make_order, make_shop
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    run_state_machine_as_test,
)
from hypothesis.stateful import (
    rule as step,
)

from coins import services
from coins.models import (
    AccountStatus,
    CoinFund,
    CoinLot,
    CoinMovement,
    CoinRedemption,
    CoinWallet,
    MovementKind,
)
from coins.services.checkout import spendable_lots
from core import clock
from core.errors import DomainError
from orders import services as order_services

BUYERS = 3


class CoinLedgerMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.atomic = transaction.atomic()
        self.atomic.__enter__()
        self.traveller = time_machine.travel(clock.now(), tick=False)
        self.clock = self.traveller.start()
        self.shop = make_shop()
        open_account(self.shop)
        top_up(self.shop, 10_000)
        self.rule = rule(self.shop, coins=1, budget=10**12)
        self.sku = coin_product(self.shop, price_minor=100_00)  # up to 3000 coins an order
        self.buyers = [make_buyer() for _ in range(BUYERS)]
        self.paid_orders = []  # orders that deducted coins, to refund
        self.paused_at_count = None
        self.n = 0

    def teardown(self):
        self.traveller.stop()
        transaction.set_rollback(True)
        self.atomic.__exit__(None, None, None)

    # --- helpers

    def fund(self) -> CoinFund:
        return CoinFund.objects.get(shop=self.shop)

    def paused(self) -> bool:
        return self.fund().account.status == AccountStatus.PAUSED

    def spendable(self, buyer) -> int:
        w = CoinWallet.objects.filter(shop=self.shop, buyer=buyer).first()
        if w is None:
            return 0
        lots = spendable_lots(wallet_id=w.pk, at=clock.now(), lock=False)
        return lots.aggregate(s=Sum("remaining"))["s"] or 0

    def issue_and_deduct_count(self) -> int:
        return CoinMovement.objects.filter(
            shop=self.shop, kind__in=[MovementKind.GRANT, MovementKind.REDEEM]
        ).count()

    # --- steps

    @step(coins=st.integers(1, 5000))
    def top_up(self, coins):
        top_up(self.shop, coins)

    @step(b=st.integers(0, BUYERS - 1), coins=st.integers(1, 3000))
    def grant(self, b, coins):
        order = make_order(self.shop, self.buyers[b], sku=self.sku, status="paid")
        available, paused = self.fund().available, self.paused()
        code = None
        try:
            services.grant_issue(rule_id=self.rule.pk, order=order, coins=coins)
        except DomainError as exc:
            code = exc.code
        if code is not None:
            assert code == ("coins_account_paused" if paused else "coins_fund_insufficient")
            assert paused or available < coins
        else:
            assert not paused
            assert available >= coins
        self.paid_orders.append(order)  # refunding it claws the cashback back (C-8)

    @step(b=st.integers(0, BUYERS - 1), coins=st.integers(1, 3000))
    def redeem(self, b, coins):
        buyer = self.buyers[b]
        have, paused = self.spendable(buyer), self.paused()
        self.n += 1
        code, order = None, None
        try:
            order = make_order(
                self.shop,
                buyer,
                sku=self.sku,
                status="paid",
                number=f"SM-{self.shop.pk}-{self.n}",
                coin_deduction_coins=coins,
                coin_deduction_minor=coins,
            )
        except DomainError as exc:
            code = exc.code
        if code is not None:
            assert code == ("coins_account_paused" if paused else "coins_insufficient")
            assert paused or have < coins
        else:
            assert not paused
            assert have >= coins
            assert self.spendable(buyer) == have - coins
            self.paid_orders.append(order)

    @precondition(lambda self: self.paid_orders)
    @step(i=st.integers(0, 10**6), full=st.booleans())
    def refund(self, i, full):
        order = self.paid_orders[i % len(self.paid_orders)]
        order.refresh_from_db()
        left = order.amount_paid_minor - order.refunded_minor
        if left <= 0:
            return
        amount = left if full else max(1, left // 2)
        self.n += 1
        refund = order_services.order_refund(
            order=order,
            refund_id=f"SMR-{self.shop.pk}-{self.n}",
            amount_minor=amount,
            refunded_at=clock.now(),
        )
        order.refresh_from_db()
        # what the order.refunded consumer does (no commit here, so it is called directly)
        services.order_refund_apply(
            order_id=order.pk,
            refund_id=refund.pk,
            full=order.refunded_minor == order.amount_paid_minor,
        )

    @precondition(lambda self: self.paid_orders)
    @step(i=st.integers(0, 10**6))
    def cancel(self, i):
        # a paid order cancelled before shipping (maybe partly refunded already): its deducted
        # coins come back, and no later refund gives them back again (C-8)
        order = self.paid_orders[i % len(self.paid_orders)]
        order.refresh_from_db()
        if order.status != "paid":
            return
        order_services.order_cancel(order=order, cancelled_at=clock.now())
        # what the order.cancelled consumer does (no commit here, so it is called directly)
        services.order_cancel_apply(order_id=order.pk)
        assert services.order_cancel_apply(order_id=order.pk) == 0  # a replay: nothing

    @step()
    def expire(self):
        services.lots_expire()
        assert not CoinLot.objects.filter(
            shop=self.shop, remaining__gt=0, expires_at__lte=clock.now()
        ).exists()

    @step()
    def pause(self):
        services.account_pause(shop=self.shop)
        if self.paused_at_count is None:
            self.paused_at_count = self.issue_and_deduct_count()

    @step()
    def resume(self):
        services.account_resume(shop=self.shop)
        self.paused_at_count = None

    @step(days=st.integers(1, 200))
    def travel(self, days):
        self.clock.shift(timedelta(days=days))

    # --- invariants

    @invariant()
    def no_negative_balance(self):
        f = self.fund()
        assert min(f.available, f.reserved, f.spent, f.topped_up) >= 0
        assert not CoinWallet.objects.filter(shop=self.shop, balance__lt=0).exists()
        assert not CoinLot.objects.filter(shop=self.shop, remaining__lt=0).exists()

    @invariant()
    def entries_sum_to_every_cached_balance(self):
        result = services.ledger_reconcile()
        assert result.ok, result.differences

    @invariant()
    def reserved_is_what_buyers_hold(self):
        f = self.fund()
        held = CoinLot.objects.filter(shop=self.shop).aggregate(s=Sum("remaining"))["s"] or 0
        assert f.reserved == held
        assert f.topped_up == f.available + f.reserved + f.spent

    @invariant()
    def deducted_coins_come_back_at_most_once(self):
        for r in CoinRedemption.objects.filter(shop=self.shop):
            back = CoinMovement.objects.filter(
                shop=self.shop, kind=MovementKind.REFUND_RETURN, order__number=r.order_number
            ).aggregate(s=Sum("coins"))["s"]
            assert (back or 0) == r.returned <= r.coins

    @invariant()
    def paused_account_issues_and_deducts_nothing(self):
        if self.paused_at_count is not None:
            assert self.issue_and_deduct_count() == self.paused_at_count


@pytest.mark.django_db
def test_c2_c3_c5_c6_c8_ledger_invariants_hold_under_random_operations():
    run_state_machine_as_test(
        CoinLedgerMachine,
        settings=settings(
            max_examples=20,
            stateful_step_count=15,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
        ),
    )
