"""SPEC C-6: a worker killed in the middle of the expiry job leaves nothing half done — its
transaction dies with it — and the next run expires every lot exactly once."""

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from coinkit import assert_reconciled, coin_shop, give
from django.db import connection, transaction
from factories import make_buyer

from coins import services
from coins.models import CoinLot, CoinMovement, CoinWallet, MovementKind

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import django, os
django.setup()
from datetime import datetime
from coins import services
services.lots_expire(at=datetime.fromisoformat(os.environ["AT"]))
"""


def _waiting_on_a_lock() -> bool:
    with connection.cursor() as c:
        c.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
            "AND query LIKE '%%coins_coinwallet%%' AND pid <> pg_backend_pid()"
        )
        return c.fetchone()[0] > 0


@pytest.mark.django_db(transaction=True)
def test_c6_worker_killed_mid_expiry_then_expiry_completes_once(shop_a):
    # given: due lots in several wallets; one wallet locked by someone else for now
    coin_shop(shop_a)
    buyers = [make_buyer() for _ in range(3)]
    grants = [give(shop_a, b, 100) for b in buyers]
    at = max(g.created_at for g in grants) + timedelta(days=181)
    locked = CoinWallet.objects.get(shop=shop_a, buyer=buyers[-1])
    holding, release = threading.Event(), threading.Event()

    def hold():
        with transaction.atomic():
            CoinWallet.objects.select_for_update().get(pk=locked.pk)
            holding.set()
            release.wait(60)
        connection.close()

    holder = threading.Thread(target=hold)
    holder.start()
    assert holding.wait(30)
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "sellercenter.settings_test",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "AT": at.isoformat(),
    }
    worker = subprocess.Popen(
        [sys.executable, "-c", SCRIPT],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        # when: the job has locked the fund and waits on the wallet; it is killed there
        deadline = time.monotonic() + 60
        while not _waiting_on_a_lock() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _waiting_on_a_lock(), "the expiry job never reached the wallet lock"
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(30)
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
        release.set()
        holder.join(30)

    # then: the killed run wrote nothing, and the next run expires each lot once
    assert CoinLot.objects.filter(shop=shop_a, expired__gt=0).count() == 0
    assert services.lots_expire(at=at) == 300
    assert services.lots_expire(at=at) == 0
    assert CoinMovement.objects.filter(shop=shop_a, kind=MovementKind.EXPIRE).count() == 3
    assert_reconciled()
