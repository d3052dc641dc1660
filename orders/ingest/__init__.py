"""Marketplace event ingestion (SPEC §0 integration contract): ``POST /api/v1/events`` and the
simulator both apply events through ``ingest_batch``.

* ``schemas``      the event contract (pydantic models = the OpenAPI document)
* ``pipeline``     a batch: idempotency, one savepoint per event, fast runs, deadlock retry
* ``handlers``     the slow path: one event through the services
* ``fast``         the bulk path for order.created / order.paid (``rows``: its lean inserts)
"""

from .base import Retryable
from .pipeline import ingest_batch

__all__ = ["Retryable", "ingest_batch"]
