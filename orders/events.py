"""Domain events of the marketplace (DESIGN §1).

Marketing modules connect receivers in their ``apps.py``. Every event is sent *after* the
transaction that produced it commits (``emit``), with ``send_robust`` so that one failing
receiver never blocks another; a receiver that has work to do enqueues an idempotent task.

``order_placing`` is the one exception: it is sent *inside* the ingestion transaction, before
the order is saved, so a receiver guarding an invariant of the same fact (coin deduction,
SPEC C-3) can refuse the order by raising ``core.errors.DomainError``.
"""

import logging
from functools import partial

from django.db import transaction
from django.dispatch import Signal

log = logging.getLogger(__name__)

order_placing = Signal()  # in-transaction guard: kwargs order (unsaved lines in order._lines)

order_created = Signal()
order_paid = Signal()
order_cancelled = Signal()
order_shipped = Signal()
tracking_updated = Signal()
order_delivered = Signal()
order_completed = Signal()
order_refunded = Signal()  # kwargs order, refund
dispute_opened = Signal()
dispute_closed = Signal()
review_posted = Signal()
feedback_posted = Signal()
cart_updated = Signal()


def _send(signal: Signal, kwargs: dict) -> None:
    for receiver, result in signal.send_robust(sender=None, **kwargs):
        if isinstance(result, Exception):
            log.error("receiver %r failed", receiver, exc_info=result)


def emit(signal: Signal, **kwargs) -> None:
    """Send ``signal`` once the current transaction commits (at once outside one)."""
    transaction.on_commit(partial(_send, signal, kwargs))
