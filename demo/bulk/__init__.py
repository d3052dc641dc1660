"""Order plans, built row by row in memory and written in bulk (the seed and benchmark path).

An ``OrderPlan`` is one order's whole life as the marketplace would report it: the
``order_create`` inputs, then the steps that follow (pay, ship, tracking, deliver, refund,
dispute, review, feedback…), in the order they happen. A plan can be applied two ways:

* ``apply_with_services`` calls the real per-order services of ``orders/services.py`` one step
  at a time: one transaction per step, locks, daily figures, order event log rows, signals.
* ``build_order_rows`` computes, in memory and with no query, the very rows those services would
  leave behind (same amounts, statuses, timestamps, ``Shipment.last_event_at`` /
  ``last_progress_at``, the order event log rows and the daily-figure changes, through
  ``orders.stats``), refusing an invalid plan through the services' own guards
  (``orders.guards``), so with the same ``DomainError`` code and message; a ``BulkWriter`` then
  inserts thousands of them at a time (``bulk_create``, or COPY on PostgreSQL).

The bulk path deliberately skips what only matters for rows others are writing too: it sends no
``order_placing`` signal and takes no row locks (the rows are new). Use it only for data nobody
else is writing: seeds and benches.

Modules: ``plan`` (the plan, its steps and the services path), ``rows`` (the rows in memory),
``writer`` (the bulk inserts).
"""

from .plan import (
    Cancel,
    Complete,
    Deliver,
    DisputeClose,
    DisputeOpen,
    FeedbackStep,
    OrderPlan,
    Pay,
    RefundStep,
    ReviewStep,
    Ship,
    Step,
    Track,
    apply_with_services,
)
from .rows import OrderRows, Row, build_order_rows
from .writer import BulkWriter, WriteCounts, write_plans

__all__ = [
    "BulkWriter",
    "Cancel",
    "Complete",
    "Deliver",
    "DisputeClose",
    "DisputeOpen",
    "FeedbackStep",
    "OrderPlan",
    "OrderRows",
    "Pay",
    "RefundStep",
    "ReviewStep",
    "Row",
    "Ship",
    "Step",
    "Track",
    "WriteCounts",
    "apply_with_services",
    "build_order_rows",
    "write_plans",
]
