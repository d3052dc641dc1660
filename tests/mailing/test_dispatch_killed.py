"""SPEC M-10 / issue: a message is never sent twice, also when a worker dies mid-batch. A real
worker process is killed with SIGKILL while it hands its third message to a real SMTP server on
loopback; recovery and the next worker then finish the campaign."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from datetime import timedelta
from pathlib import Path

import dispatchkit as kit
import pytest
import time_machine
from django.conf import settings
from django.db import connection

from core import clock
from mailing.models import Message, MessageState
from mailing.services import dispatch

ROOT = Path(__file__).resolve().parents[2]

WORKER = """
import os, signal, django
django.setup()
from django.conf import settings
settings.SC_MAILING_EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
settings.SC_MAILING_EMAIL_OPTIONS = {"host": "127.0.0.1", "port": int(os.environ["SMTP_PORT"])}
from mailing.services import dispatch
seen = []
def die(message):
    seen.append(message.pk)
    if len(seen) == 3:
        os.kill(os.getpid(), signal.SIGKILL)
if os.environ["KILL_AT"] == "after_send":
    dispatch._after_send = die
else:
    dispatch._before_send = die
dispatch.batch_send(campaign_id=int(os.environ["CAMPAIGN"]), size=6)
"""


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("kill_at", ["after_send", "before_send"])
def test_m10_worker_killed_mid_batch_no_message_is_sent_twice(brand_a, shop_a, audience, kill_at):
    # given: 10 recipients, a worker that claims 6 and is killed on its third message —
    # after the server accepted it (before 'sent' is recorded), or just before handing it over
    audience += list(kit.recipients(10))
    c = kit.start(kit.campaign(shop_a))
    db = connection.settings_dict
    with kit.SmtpSink() as sink:
        env = {
            **{k: v for k, v in os.environ.items() if k != "PYTEST_XDIST_WORKER"},
            "REDIS_URL": settings.REDIS_URL,
            "DJANGO_SETTINGS_MODULE": "sellercenter.settings_test",
            "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
            "SMTP_PORT": str(sink.port),
            "CAMPAIGN": str(c.pk),
            "KILL_AT": kill_at,
        }

        # when: the worker dies
        worker = subprocess.run(
            [sys.executable, "-c", WORKER], cwd=ROOT, env=env, timeout=120, check=False
        )
        assert worker.returncode == -signal.SIGKILL
        states = Counter(Message.objects.filter(campaign=c).values_list("state", flat=True))
        assert states == {"queued": 4, "sent": 2, "sending": 1, "claimed": 3}
        before = len(sink.received)
        assert before == (3 if kill_at == "after_send" else 2)

        # a live worker's claim is not taken early
        assert dispatch.claims_recover() == (0, 0)
        # and once the claims are stale, recovery runs and another worker finishes
        later = clock.now() + timedelta(
            seconds=settings.CONSTANCE_CONFIG["MAILING_CLAIM_STALE_SECONDS"][0] + 1
        )
        with time_machine.travel(later, tick=False):
            assert dispatch.claims_recover() == (3, 1)
            kit.use_sink(settings, sink)
            result = dispatch.batch_send(campaign_id=c.pk, size=50)

        # then: 7 more sent; the one in flight is 'unknown' and was not resent
        assert result.sent == 7
        counts = Counter(a for r in sink.received for a in r.rcpt_tos)
        assert max(counts.values()) == 1  # nobody got a message twice
        assert len(counts) == before + 7
        unknown = Message.objects.get(campaign=c, state=MessageState.UNKNOWN)
        assert counts.get(unknown.email, 0) == (1 if kill_at == "after_send" else 0)
        assert Message.objects.filter(campaign=c, state=MessageState.SENT).count() == 9
