"""Issue 9 item 6, payouts: batches of the promoters whose balance reached the minimum (exactly
the minimum included), a line per promoter paying its ledger balance, failed lines moving
nothing, the paid batch immutable (service and database), the finance CSV streamed and safe
against formula injection, and the admin actions."""

from datetime import timedelta

import affkit
import pytest
from constance.test import override_config
from django.db import IntegrityError, transaction
from factories import first_sku, make_order, make_product

from affiliate import services
from affiliate.models import (
    Commission,
    PayoutBatch,
    PayoutLine,
    PromoterBalance,
    PromoterEntry,
)
from core import clock
from core.errors import DomainError
from core.money import Money
from shops.services import balance_credit


def settled_commission(shop, *, promoter=None, price_minor=100_00) -> Commission:
    """A settled commission of ``shop`` (the promoter's balance credited) through the services."""
    from affiliate.models import Programme

    if not Programme.objects.filter(shop=shop, enabled=True).exists():
        affkit.enable(shop, rate_bp=1000)
        balance_credit(
            shop=shop,
            amount=Money(10_000_00, shop.currency),
            reason="top-up",
            idempotency_key=f"top-{shop.pk}",
        )
    promoter = promoter or affkit.promoter(trial=False)
    pid = promoter.pids.first() or affkit.pid(promoter)
    link = affkit.link(shop, pid)
    click = affkit.click(link, at=clock.now() - timedelta(hours=1))
    product = make_product(shop, price_minor=price_minor)
    order = make_order(
        shop, sku=first_sku(product), status="completed", affiliate_click_id=click.click_id
    )
    affkit.apply_events(order)
    services.commissions_pre_issue()
    commission = Commission.objects.get(order=order)
    services.commissions_settle(now=commission.settle_due_at)
    commission.refresh_from_db()
    assert commission.status == "settled", commission.status
    return commission


def _balance(promoter, currency) -> int:
    return PromoterBalance.objects.get(promoter=promoter, currency=currency).balance_minor


def test_payout_batch_pays_each_due_promoter_its_balance_and_marks_commissions_paid_out(shop_a):
    # given: two settled commissions of one promoter
    c1 = settled_commission(shop_a)
    c2 = settled_commission(shop_a, promoter=c1.promoter)
    owed = c1.settled_minor + c2.settled_minor
    assert _balance(c1.promoter, c1.currency) == owed

    # when: a batch is made and marked paid
    with override_config(AFFILIATE_PAYOUT_MIN_MINOR=1):
        batch = services.payout_batch_create(currency=c1.currency)
    line = batch.lines.get()
    assert (line.amount_minor, batch.total_minor) == (owed, owed)
    assert set(line.items.values_list("commission_id", flat=True)) == {c1.pk, c2.pk}
    services.payout_batch_mark_paid(batch_id=batch.pk)

    # then: one payout entry for the line, the balance at zero, both commissions paid out
    entry = PromoterEntry.objects.get(kind="payout")
    assert entry.amount_minor == -owed
    assert _balance(c1.promoter, c1.currency) == 0
    assert set(Commission.objects.values_list("status", flat=True)) == {"paid_out"}
    line.refresh_from_db()
    batch.refresh_from_db()
    assert (line.status, batch.status) == ("paid", "paid")


def test_payout_minimum_is_inclusive_and_trial_promoters_are_never_paid(shop_a):
    # given: a promoter owed exactly X, one owed X-1 (via the minimum), one in trial
    c = settled_commission(shop_a)
    owed = c.settled_minor
    other = settled_commission(shop_a)
    from affiliate.models import Promoter

    Promoter.objects.filter(pk=other.promoter_id).update(trial=True)

    # when: the minimum is exactly the balance
    with override_config(AFFILIATE_PAYOUT_MIN_MINOR=owed):
        batch = services.payout_batch_create(currency=c.currency)
    # then: that promoter is paid; the one in trial is not
    assert list(batch.lines.values_list("promoter_id", flat=True)) == [c.promoter_id]
    services.payout_batch_mark_paid(batch_id=batch.pk)

    # when: one more minor unit is the minimum, nobody is due
    Promoter.objects.filter(pk=other.promoter_id).update(trial=False)
    with override_config(AFFILIATE_PAYOUT_MIN_MINOR=owed + 1), pytest.raises(DomainError) as exc:
        services.payout_batch_create(currency=c.currency)
    assert exc.value.code == "payout_nobody_due"
    assert PayoutBatch.objects.count() == 1


def test_payout_failed_line_moves_nothing_and_is_paid_in_the_next_batch(shop_a):
    c = settled_commission(shop_a)
    with override_config(AFFILIATE_PAYOUT_MIN_MINOR=1):
        batch = services.payout_batch_create(currency=c.currency)
        line = batch.lines.get()
        # a second open batch of the currency is refused
        with pytest.raises(DomainError) as exc:
            services.payout_batch_create(currency=c.currency)
        assert exc.value.code == "payout_batch_open"
        # a failure needs a reason
        with pytest.raises(DomainError):
            services.payout_line_fail(line_id=line.pk, reason=" ")
        services.payout_line_fail(line_id=line.pk, reason="Bank account closed")
        services.payout_batch_mark_paid(batch_id=batch.pk)

        # then: nothing moved; the commission is still settled
        assert not PromoterEntry.objects.filter(kind="payout").exists()
        assert _balance(c.promoter, c.currency) == c.settled_minor
        c.refresh_from_db()
        assert c.status == "settled"

        # when: the next batch
        again = services.payout_batch_create(currency=c.currency)
    assert again.lines.get().amount_minor == c.settled_minor
    assert c.promoter.notices.filter(kind="payout_failed").exists()


def test_paid_payout_batch_is_immutable_in_the_services_and_the_database(shop_a):
    c = settled_commission(shop_a)
    with override_config(AFFILIATE_PAYOUT_MIN_MINOR=1):
        batch = services.payout_batch_create(currency=c.currency)
    line = batch.lines.get()
    services.payout_batch_mark_paid(batch_id=batch.pk)

    # services refuse
    with pytest.raises(DomainError):
        services.payout_batch_mark_paid(batch_id=batch.pk)
    with pytest.raises(DomainError):
        services.payout_line_fail(line_id=line.pk, reason="late")
    # the database refuses every write, whoever sends it
    writes = [
        lambda: PayoutBatch.objects.filter(pk=batch.pk).update(total_minor=1),
        lambda: PayoutBatch.objects.filter(pk=batch.pk).delete(),
        lambda: PayoutLine.objects.filter(pk=line.pk).update(amount_minor=1),
        lambda: PayoutLine.objects.filter(pk=line.pk).update(status="failed", failure_reason="x"),
        lambda: PayoutLine.objects.filter(pk=line.pk).delete(),
        lambda: PayoutLine.objects.create(batch=batch, promoter=c.promoter, amount_minor=5),
        lambda: line.items.all().delete(),
    ]
    for write in writes:
        with pytest.raises(IntegrityError), transaction.atomic():
            write()
    batch.refresh_from_db()
    assert batch.status == "paid"


def test_payout_line_of_an_open_batch_keeps_its_amount_and_promoter(shop_a):
    c = settled_commission(shop_a)
    with override_config(AFFILIATE_PAYOUT_MIN_MINOR=1):
        batch = services.payout_batch_create(currency=c.currency)
    line = batch.lines.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        PayoutLine.objects.filter(pk=line.pk).update(amount_minor=line.amount_minor + 1)


def test_payout_csv_is_streamed_and_safe_against_formula_injection(admin_client, shop_a):
    # given: a promoter whose name is a formula
    c = settled_commission(shop_a)
    from affiliate.models import Promoter

    Promoter.objects.filter(pk=c.promoter_id).update(name='=HYPERLINK("http://evil")')
    with override_config(AFFILIATE_PAYOUT_MIN_MINOR=1):
        batch = services.payout_batch_create(currency=c.currency)

    # when: the admin downloads the CSV
    response = admin_client.post(
        "/admin/affiliate/payoutbatch/",
        {"action": "download_csv", "_selected_action": [batch.pk]},
    )

    # then: streamed, the formula is text, the amount and status are there
    assert response.status_code == 200
    assert response.streaming
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    assert "'=HYPERLINK" in body
    assert ",=HYPERLINK" not in body
    amount = Money(c.settled_minor, c.currency).decimal
    assert f"{amount}" in body
    assert "Pending" in body


def test_payout_admin_creates_a_batch_and_marks_it_paid(admin_client, shop_a):
    c = settled_commission(shop_a)
    with override_config(AFFILIATE_PAYOUT_MIN_MINOR=1):
        response = admin_client.post(
            "/admin/affiliate/payoutbatch/add/", {"currency": c.currency.lower()}
        )
        assert response.status_code == 302
        batch = PayoutBatch.objects.get()
        # a second one while open: the form says why, nothing written
        response = admin_client.post("/admin/affiliate/payoutbatch/add/", {"currency": c.currency})
        assert response.status_code == 200
        assert "still open" in response.content.decode()
    assert PayoutBatch.objects.count() == 1
    response = admin_client.post(
        "/admin/affiliate/payoutbatch/",
        {"action": "mark_paid", "_selected_action": [batch.pk]},
    )
    assert response.status_code == 302
    batch.refresh_from_db()
    assert batch.status == "paid"
    # the failed-line action with a reason, on a paid batch, is refused with a message
    line = batch.lines.get()
    response = admin_client.post(
        "/admin/affiliate/payoutline/",
        {
            "action": "mark_failed",
            "_selected_action": [line.pk],
            "apply": "1",
            "reason": "late",
        },
        follow=True,
    )
    assert "can no longer change" in response.content.decode()
    line.refresh_from_db()
    assert line.status == "paid"


def test_promoter_sees_its_own_payout_lines_only(shop_a):
    from django.test import Client

    c = settled_commission(shop_a)
    other = settled_commission(shop_a)
    with override_config(AFFILIATE_PAYOUT_MIN_MINOR=1):
        batch = services.payout_batch_create(currency=c.currency)
    mine = batch.lines.get(promoter=c.promoter)
    theirs = batch.lines.get(promoter=other.promoter)
    services.payout_line_fail(line_id=theirs.pk, reason="Account closed")
    services.payout_batch_mark_paid(batch_id=batch.pk)
    services.promoter_password_set(promoter=c.promoter, password="Payout-pass-77")
    client = Client()
    client.post("/promoter/login/", {"email": c.promoter.email, "password": "Payout-pass-77"})
    page = client.get("/promoter/payouts/").content.decode()
    assert f'data-line="{mine.pk}" data-status="paid"' in page
    assert f'data-line="{theirs.pk}"' not in page
    assert "Account closed" not in page
