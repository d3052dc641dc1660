import os
import time
from pathlib import Path

from django.core.cache import cache

from orders import events

from .models import Handling

NAME = "probe"


def fail_once(event_id: int) -> None:
    cache.set(f"probe:fail:{event_id}", 1, 600)


def fail_always(event_id: int) -> None:
    cache.set(f"probe:failalways:{event_id}", 1, 600)


def stall(event_id: int, marker: Path, seconds: int = 60) -> None:
    """On ``event_id`` the handler touches ``marker`` and sleeps inside its transaction."""
    cache.set(f"probe:stall:{event_id}", f"{marker}|{seconds}", 600)


def handle(event) -> None:
    Handling.objects.create(
        consumer=NAME, event_id=event.pk, type=event.type, order_id=event.order_id
    )
    if cache.get(f"probe:failalways:{event.pk}"):
        raise RuntimeError(f"probe fails on event {event.pk}")
    if cache.delete(f"probe:fail:{event.pk}"):  # True only the first time
        raise RuntimeError(f"probe fails once on event {event.pk}")
    spec = cache.get(f"probe:stall:{event.pk}")
    if spec:
        marker, seconds = spec.rsplit("|", 1)
        Path(marker).write_text(str(os.getpid()))
        time.sleep(int(seconds))


def register() -> events.Consumer:
    return events.consumer(NAME, events.TYPES, handle)
