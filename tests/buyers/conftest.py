import pytest
from django.db import transaction

from buyers import sms


@pytest.fixture(autouse=True)
def _empty_sms_outbox():
    sms.outbox.clear()
    yield
    sms.outbox.clear()


@pytest.fixture(autouse=True)
def _deliveries_run_at_commit(monkeypatch):
    """Codes go out on commit (``delay_on_commit``). A test's own transaction never commits,
    so a callback queued outside any service transaction runs at once, and one queued inside a
    service transaction runs when that transaction (the innermost block) ends without error."""
    real = transaction.on_commit

    def on_commit(func, using=None, robust=False):
        from django.db import connection

        blocks = getattr(connection, "atomic_blocks", [])
        own = [b for b in blocks if not getattr(b, "_from_testcase", False)]
        if not own:
            func()
            return
        real(func, using=using, robust=robust)

    monkeypatch.setattr(transaction, "on_commit", on_commit)
