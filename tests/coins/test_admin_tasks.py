"""Admin views of the coin ledger (view-only, no delete anywhere: SPEC C-2) and the beat tasks
(C-5 reconciliation, C-6 expiry) through Celery's JSON serialization."""

from datetime import timedelta

import pytest
import time_machine
from coinkit import coin_shop, give
from django.conf import settings

from coins import tasks
from coins.models import (
    AccountStatus,
    CoinAccount,
    CoinLot,
    CoinMovement,
    CoinReconciliation,
)

MODELS = [
    "coinaccount",
    "coinfund",
    "coinwallet",
    "coinlot",
    "coinrule",
    "coingrant",
    "coinredemption",
    "coinclawback",
    "coinproductsetting",
    "coinmovement",
    "coinentry",
    "coinreconciliation",
]


@pytest.fixture
def ledger(shop_a, buyer):
    coin_shop(shop_a)
    return give(shop_a, buyer, 250)


@pytest.mark.parametrize("model", MODELS)
def test_c2_c5_admin_lists_coin_rows_view_only_without_delete(admin_client, ledger, model):
    listing = admin_client.get(f"/admin/coins/{model}/")
    add = admin_client.get(f"/admin/coins/{model}/add/")
    assert listing.status_code == 200
    assert "delete_selected" not in listing.text
    assert add.status_code == 403


def test_c2_admin_cannot_delete_an_account_but_can_pause_and_resume_it(
    admin_client, ledger, shop_a
):
    account = CoinAccount.objects.get(shop=shop_a)
    delete = admin_client.post(f"/admin/coins/coinaccount/{account.pk}/delete/", {"post": "yes"})
    assert delete.status_code == 403
    assert CoinAccount.objects.filter(pk=account.pk).exists()
    url = "/admin/coins/coinaccount/"
    admin_client.post(url, {"action": "pause", "_selected_action": [account.pk]})
    assert CoinAccount.objects.get(pk=account.pk).status == AccountStatus.PAUSED
    admin_client.post(url, {"action": "resume", "_selected_action": [account.pk]})
    assert CoinAccount.objects.get(pk=account.pk).status == AccountStatus.ACTIVE


def test_c2_movement_page_shows_its_two_entries(admin_client, ledger):
    m = CoinMovement.objects.get(kind="grant", idempotency_key=f"grant:{ledger.pk}")
    page = admin_client.get(f"/admin/coins/coinmovement/{m.pk}/change/")
    assert page.status_code == 200
    assert "fund_available" in page.text or "Fund available" in page.text
    assert "-250" in page.text
    assert "250" in page.text


def test_c6_expiry_task_through_json_releases_due_lots(ledger):
    with time_machine.travel(ledger.created_at + timedelta(days=180), tick=False):
        assert tasks.coins_expire_task.delay().get() == 250
        assert tasks.coins_expire_task.delay().get() == 0
    assert CoinLot.objects.get(grant=ledger).expired == 250


def test_c5_reconcile_task_records_a_result_shown_in_admin(admin_client, ledger):
    assert tasks.coins_reconcile_task.delay().get() is True
    result = CoinReconciliation.objects.get()
    assert (result.ok, result.funds_checked, result.wallets_checked) == (True, 1, 1)
    assert (
        admin_client.get(f"/admin/coins/coinreconciliation/{result.pk}/change/").status_code == 200
    )


def test_c5_c6_beat_schedule_runs_expiry_daily_and_reconciliation_nightly():
    schedule = {v["task"]: v["schedule"] for v in settings.CELERY_BEAT_SCHEDULE.values()}
    assert schedule["coins.tasks.coins_expire_task"].hour == {16}  # 00:05 in Asia/Shanghai
    assert schedule["coins.tasks.coins_reconcile_task"].hour == {19}
