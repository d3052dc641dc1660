"""SPEC B-2 for real (DESIGN §4, §8): the code delivery queued by a registration goes through
Redis to a real worker, sealed, and the code arrives in the mailbox; nothing in the broker
carries it in plain text."""

import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.core import mail

from buyers import services
from buyers.services import accounts
from sellercenter.celery import app


@pytest.fixture
def real_worker_app():
    app.loader.import_default_modules()
    saved = {k: app.conf[k] for k in ("task_always_eager", "broker_url")}
    app.conf.update(task_always_eager=False, broker_url=settings.REDIS_URL)
    app.control.purge()
    yield app
    app.conf.update(saved)


@pytest.mark.django_db(transaction=True)
def test_b2_a_real_worker_delivers_the_sealed_code(real_worker_app, monkeypatch):
    sent = []
    real_apply = app.amqp.send_task_message

    def spy(producer, name, message, **kwargs):  # what goes into Redis
        sent.append(repr(message))
        return real_apply(producer, name, message, **kwargs)

    monkeypatch.setattr(app.amqp, "send_task_message", spy)
    mail.outbox.clear()
    with start_worker(real_worker_app, pool="solo", perform_ping_check=False):
        accounts.buyer_register_public(
            contact=services.parse_contact("worker@example.com"),
            password="Tr1cky-pass",
            country="CN",
            ip="203.0.113.9",
        )
        deadline = time.monotonic() + 30
        while not mail.outbox and time.monotonic() < deadline:
            time.sleep(0.1)

    assert len(mail.outbox) == 1
    code = next(w for w in mail.outbox[0].body.split() if w.rstrip(".").isdigit()).rstrip(".")
    assert len(code) == 6
    assert sent
    assert all(code not in message for message in sent)
