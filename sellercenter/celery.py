import os
import sys
from pathlib import Path

from celery import Celery
from celery.signals import beat_init, worker_init, worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sellercenter.settings")

app = Celery("sellercenter")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
@beat_init.connect
def _require_secret_key(**kwargs) -> None:
    """Worker and beat refuse to start without a secret key (DESIGN §7).

    Celery logs an exception raised by a signal receiver and carries on, so the refusal
    is a SystemExit, which it lets through: the process ends with status 1."""
    from django.core.exceptions import ImproperlyConfigured

    from .startup import require_secret_key

    try:
        require_secret_key()
    except ImproperlyConfigured as exc:
        print(f"ERROR: {exc}", file=sys.stderr, flush=True)
        raise SystemExit(1) from None


@worker_ready.connect
@beat_init.connect
def _announce_ready(signal=None, **kwargs) -> None:
    """`make run` waits for these files before it prints its banner (SC_READY_DIR)."""
    if ready_dir := os.environ.get("SC_READY_DIR"):
        name = "worker" if signal is worker_ready else "beat"
        Path(ready_dir, name).touch()
