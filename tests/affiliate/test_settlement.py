"""SPEC A-6/A-7: the set-based settlement (PostgreSQL, services/settlement.py) in batches — the
same outcome as the row path: the balance covers what it can in due order (a later, smaller
commission may still fit), each debit and credit once, ledger chains consistent, across batches."""

from datetime import timedelta

import affkit
import pytest
from factories import first_sku, make_order, make_product, make_shop

from affiliate import services
from affiliate.models import Commission, PromoterBalance, PromoterEntry
from affiliate.services import settlement
from core import clock
from core.money import Money
from shops.models import BalanceEntry, ShopBalance
from shops.services import balance_credit


def _completed(shop, prices, *, click):
    out = []
    for i, price in enumerate(prices):
        sku = first_sku(make_product(shop, price_minor=price))
        order = make_order(
            shop,
            sku=sku,
            status="completed",
            affiliate_click_id=click.click_id,
            placed_at=clock.now() - timedelta(minutes=30 - i),
        )
        affkit.apply_events(order)
        out.append(Commission.objects.get(order=order))
    services.commissions_pre_issue()
    return out


@pytest.fixture
def two_shops(db):
    shops = [make_shop(name="Settle A"), make_shop(name="Settle B")]
    made = {}
    for shop in shops:
        affkit.enable(shop, rate_bp=1000)
        click = affkit.click(affkit.link(shop), at=clock.now() - timedelta(hours=1))
        # commissions 9.50, 19.00, 0.95 (10% of 95% of the price), due in that order
        made[shop.pk] = _completed(shop, [100_00, 200_00, 10_00], click=click)
    return shops, made


def _due(made):
    return max(c.settle_due_at for cs in made.values() for c in Commission.objects.filter(
        pk__in=[x.pk for x in cs]))  # fmt: skip


def test_a6_set_based_settlement_covers_what_the_balance_can_in_due_order(two_shops):
    # given: shop A holds 20.00 (9.50 fits, 19.00 does not, then 0.95 fits); shop B 100.00
    (a, b), made = two_shops
    balance_credit(shop=a, amount=Money(20_00, a.currency), reason="t", idempotency_key="ta")
    balance_credit(shop=b, amount=Money(100_00, b.currency), reason="t", idempotency_key="tb")

    # when: batches of two
    settled, waiting, newly = settlement.settle_pg(now=_due(made), batch=2)

    # then
    status = {c.pk: Commission.objects.get(pk=c.pk).status for cs in made.values() for c in cs}
    a1, a2, a3 = made[a.pk]
    assert (status[a1.pk], status[a2.pk], status[a3.pk]) == ("settled", "pre_issued", "settled")
    assert all(status[c.pk] == "settled" for c in made[b.pk])
    assert (settled, waiting, newly) == (5, 1, [a2.pk])
    assert ShopBalance.objects.get(shop=a).balance_minor == 20_00 - 9_50 - 95
    assert ShopBalance.objects.get(shop=b).balance_minor == 100_00 - 9_50 - 19_00 - 95
    # the shop ledger chains: each entry's balance_after follows the one before
    after = list(
        BalanceEntry.objects.filter(shop=a)
        .order_by("pk")
        .values_list("balance_after_minor", flat=True)
    )
    assert after == [20_00, 10_50, 9_55]
    promoter = made[a.pk][0].promoter
    assert PromoterBalance.objects.get(promoter=promoter).balance_minor == 9_50 + 95
    assert list(
        PromoterEntry.objects.filter(balance__promoter=promoter)
        .order_by("pk")
        .values_list("balance_after_minor", flat=True)
    ) == [9_50, 10_45]


def test_a6_set_based_settlement_twice_moves_money_once_and_waits_quietly(two_shops):
    (a, _), made = two_shops
    balance_credit(shop=a, amount=Money(20_00, a.currency), reason="t", idempotency_key="ta")
    due = _due(made)
    services.commissions_settle(now=due)
    entries = BalanceEntry.objects.count(), PromoterEntry.objects.count()

    again = services.commissions_settle(now=due)

    assert again == {"settled": 0, "blocked": 4}  # A's 19.00 and B's three still wait
    assert (BalanceEntry.objects.count(), PromoterEntry.objects.count()) == entries
    assert not Commission.objects.filter(settle_blocked_at__isnull=True, status="pre_issued")


def test_a6_set_based_settlement_does_not_debit_a_commission_already_debited(two_shops):
    # given: the debit of A's first commission exists (written by the row path before a crash)
    (a, _), made = two_shops
    balance_credit(shop=a, amount=Money(50_00, a.currency), reason="t", idempotency_key="ta")
    first = made[a.pk][0]
    from shops.services import balance_debit

    balance_debit(
        shop=a,
        amount=Money(9_50, a.currency),
        reason="Affiliate commission",
        idempotency_key=f"affiliate:settle:{first.pk}",
    )

    settlement.settle_pg(now=_due(made))

    assert BalanceEntry.objects.filter(idempotency_key=f"affiliate:settle:{first.pk}").count() == 1
    assert ShopBalance.objects.get(shop=a).balance_minor == 50_00 - 9_50 - 19_00 - 95
    assert Commission.objects.get(pk=first.pk).status == "settled"


def test_a6_set_based_settlement_killed_between_batches_resumes_without_settling_twice(
    two_shops, monkeypatch
):
    # given: every commission covered; the run dies in its second batch's promoter credits
    (a, b), made = two_shops
    for shop in (a, b):
        balance_credit(
            shop=shop, amount=Money(100_00, "CNY"), reason="t", idempotency_key=f"t{shop.pk}"
        )
    real = settlement._credit_promoters
    calls = []

    def dying(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("killed")
        return real(*args, **kwargs)

    monkeypatch.setattr(settlement, "_credit_promoters", dying)
    with pytest.raises(RuntimeError):
        settlement.settle_pg(now=_due(made), batch=2)
    # the first batch committed whole, the second not at all
    assert Commission.objects.filter(status="settled").count() == 2
    assert BalanceEntry.objects.filter(kind="debit").count() == 2
    assert PromoterEntry.objects.count() == 2

    # when: the next run
    monkeypatch.setattr(settlement, "_credit_promoters", real)
    settled, waiting, _ = settlement.settle_pg(now=_due(made), batch=2)

    # then: the other four, each debit and credit once
    assert (settled, waiting) == (4, 0)
    assert BalanceEntry.objects.filter(kind="debit").count() == 6
    assert PromoterEntry.objects.count() == 6
    assert sum(ShopBalance.objects.values_list("balance_minor", flat=True)) == 200_00 - 2 * (
        9_50 + 19_00 + 95
    )
