"""SPEC A-6 … A-8: one attributed order under random sequences of payment, partial and full
refunds (events sometimes handed over twice), disputes, completion, the pre-issue and settlement
jobs and payout, checked after every step:

- never more reversed than the commission, never a negative amount;
- the shop balance paid exactly what is settled (debits − reversal credits = settled amount);
- the promoter's cached balance equals its entries, and equals settled − paid out;
- a commission on hold stays on hold until the dispute closes.

Each example runs in its own savepoint, rolled back at its end."""

from datetime import timedelta

import affkit
import pytest
import time_machine
from constance.test import override_config
from django.db import transaction
from django.db.models import Sum
from factories import first_sku, make_order, make_product
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, run_state_machine_as_test
from hypothesis.stateful import rule as step

from affiliate import services
from affiliate.consumers import handle_event
from affiliate.models import Commission, PromoterBalance, PromoterEntry
from core import clock
from core.errors import DomainError
from core.money import Money
from orders import services as orders
from orders.models import Order, OrderEvent
from shops.models import BalanceEntry
from shops.services import balance_credit


class CommissionMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.atomic = transaction.atomic()
        self.atomic.__enter__()
        self.traveller = time_machine.travel(clock.now(), tick=False)
        self.clock = self.traveller.start()
        from factories import make_shop

        self.shop = make_shop()
        balance_credit(
            shop=self.shop, amount=Money(10_000_00, "CNY"), reason="top-up", idempotency_key="t"
        )
        affkit.enable(self.shop, rate_bp=1000)
        click = affkit.click(affkit.link(self.shop), at=clock.now() - timedelta(hours=1))
        sku = first_sku(make_product(self.shop, price_minor=100_00))
        self.order = make_order(
            self.shop, sku=sku, status="pending_payment", affiliate_click_id=click.click_id
        )
        self.handled = set()
        self.n = 0
        self.disputes = 0
        self.open_dispute = None
        self.deliver()

    def teardown(self):
        self.traveller.stop()
        transaction.set_rollback(True)
        self.atomic.__exit__(None, None, None)

    def deliver(self, twice=False):
        for event in OrderEvent.objects.filter(order=self.order).order_by("pk"):
            if event.pk not in self.handled or twice:
                self.handled.add(event.pk)
                handle_event(event)

    def fresh(self) -> Order:
        return Order.objects.get(pk=self.order.pk)

    def commission(self) -> Commission:
        return Commission.objects.get(order=self.order)

    def attempt(self, fn, **kw):
        try:
            with transaction.atomic():
                fn(order=self.fresh(), **kw)
        except DomainError:
            pass
        self.clock.shift(timedelta(minutes=7))

    @step()
    def pay(self):
        self.attempt(
            orders.order_pay,
            payment_id="p",
            amount_minor=100_00,
            method="card",
            paid_at=clock.now(),
        )

    @step(share=st.sampled_from([10, 25, 50, 100]), twice=st.booleans())
    def refund(self, share, twice):
        order = self.fresh()
        self.n += 1
        amount = min(
            order.amount_paid_minor * share // 100, order.amount_paid_minor - order.refunded_minor
        )
        if amount > 0:
            self.attempt(
                orders.order_refund,
                refund_id=f"r{self.n}",
                amount_minor=amount,
                refunded_at=clock.now(),
            )
        self.deliver(twice=twice)

    @step()
    def dispute(self):
        if self.open_dispute is None:
            self.disputes += 1
            self.open_dispute = f"d{self.disputes}"
            self.attempt(orders.dispute_open, dispute_id=self.open_dispute, opened_at=clock.now())
        else:
            self.attempt(
                orders.dispute_close,
                dispute_id=self.open_dispute,
                closed_at=clock.now(),
                outcome="seller_won",
            )
            self.open_dispute = None
        self.deliver()

    @step()
    def ship_deliver_complete(self):
        self.pay()  # refused when already paid or cancelled: the sequence stays reachable
        self.attempt(
            orders.order_ship,
            carrier="aliexpress_standard",
            tracking_number="LP1",
            shipped_at=clock.now(),
        )
        self.attempt(orders.order_deliver, delivered_at=clock.now())
        self.attempt(orders.order_complete, completed_at=clock.now())
        self.jobs()  # and the return window passes: pre-issue, then settlement

    @step()
    def cancel(self):
        self.attempt(orders.order_cancel, cancelled_at=clock.now())
        self.deliver()

    @step()
    def jobs(self):
        self.deliver()
        services.commissions_pre_issue()
        self.clock.shift(timedelta(days=16))
        services.commissions_settle()

    @step()
    def payout(self):
        c = self.commission()
        # SPEC A-6: a settled commission is paid out in the next payout batch.
        if c.status == "settled" and c.settled_minor > 0 and not c.promoter.trial:
            with override_config(AFFILIATE_PAYOUT_MIN_MINOR=1):
                batch = services.payout_batch_create(currency=c.currency)
            services.payout_batch_mark_paid(batch_id=batch.pk)
            assert self.commission().status == "paid_out"

    @invariant()
    def amounts_hold(self):
        c = Commission.objects.filter(order=self.order).first()
        if c is None:
            return
        assert 0 <= c.reversed_minor <= c.amount_minor
        assert 0 <= c.settled_minor <= c.amount_minor
        shop_entries = BalanceEntry.objects.filter(idempotency_key__startswith="affiliate:")
        debits = shop_entries.filter(kind="debit").aggregate(s=Sum("amount_minor"))["s"] or 0
        credits = shop_entries.filter(kind="credit").aggregate(s=Sum("amount_minor"))["s"] or 0
        assert debits - credits == c.settled_minor
        entries = (
            PromoterEntry.objects.filter(balance__promoter=c.promoter).aggregate(
                s=Sum("amount_minor")
            )["s"]
            or 0
        )
        balance = PromoterBalance.objects.filter(promoter=c.promoter).first()
        assert (balance.balance_minor if balance else 0) == entries
        paid_out = -(
            # the payout batch's entry is per line, not per commission: the promoter's payouts
            PromoterEntry.objects.filter(balance__promoter=c.promoter, kind="payout").aggregate(
                s=Sum("amount_minor")
            )["s"]
            or 0
        )
        assert entries == c.settled_minor - paid_out
        if self.open_dispute is not None and c.held_from:
            assert c.status == "on_hold"


@pytest.mark.django_db
def test_a6_a7_a8_commission_invariants_hold_under_random_event_sequences():
    run_state_machine_as_test(
        CommissionMachine,
        settings=settings(
            max_examples=25,
            stateful_step_count=12,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
        ),
    )
