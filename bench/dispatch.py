"""``dispatch`` — marketing email sent per second by one worker (SPEC M-10, issue 11).

    python -m bench.dispatch --messages 2000          # against DATABASE_URL (a migrated db)

Both sides send the same ``--messages`` messages to a **discarding SMTP sink** (aiosmtpd in its
own process, on loopback: it answers 250 and drops the data):

- **engine**: the dispatch engine as a worker runs it — ``dispatch.batch_send`` batch after
  batch: claim under the quota, render (sandboxed), footer and tracking links, DKIM signing,
  the ``sending``/``sent`` records, the billing window, logging — over one SMTP connection per
  batch.
- **baseline**: raw ``smtplib`` sending the same messages **already rendered and signed** (built
  before the clock starts) over one reused connection, nothing recorded.

Figure: ``dispatch.messages_per_s`` (engine) against the baseline, goal ratio ≥ 0.4.

With ``--rss-recipients N`` (``make bench``: 1,000,000), a second figure: the **peak RSS of a
worker** while an N-recipient campaign is queued. N imported, consenting contacts of a new
shop are written with set-based SQL (not measured); then a separate process — the worker —
materialises the campaign from the real audience query (``mailing.segments.recipients``, a
server-side cursor: N ``Message`` rows) and sends ``--rss-batches`` batches of it to the sink,
and its peak RSS (``ru_maxrss``, as ``/proc/self/status`` VmHWM) is the figure, goal < 300 MB.

Prints one JSON line (``@@BENCH-JSON@@{…}``) for the harness.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import smtplib
import socket
import subprocess
import sys
import time
from datetime import timedelta

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

SINK = """
import asyncio, sys
from aiosmtpd.controller import Controller
class Discard:
    async def handle_DATA(self, server, session, envelope):
        return "250 OK"
c = Controller(Discard(), hostname="127.0.0.1", port=int(sys.argv[1]))
c.start()
print("ready", flush=True)
sys.stdin.read()
c.stop()
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _setup(n: int, tag: str, *, materialize: bool = True):
    import django

    django.setup()
    from constance import config

    from core import clock
    from mailing.models import Campaign, CampaignStatus, MailingAccount
    from mailing.services import campaigns, dispatch, setup
    from mailing.services.dispatch import Recipient
    from shops.services import shop_upsert

    shop = shop_upsert(
        external_id=f"bench-mail-{tag}",
        name="Bench Mail Shop",
        opened_at=clock.now() - timedelta(days=400),
        main_category="home_garden",
        store_rating="4.90",
        currency="CNY",
    )
    config.MAILING_MIN_GMV_30D_CURRENCY = "CNY"
    config.MAILING_MIN_GMV_30D_MINOR = 0
    config.MAILING_QUOTA_PER_DAY = 100_000
    setup.mailing_enable(shop=shop)
    MailingAccount.objects.filter(shop=shop).update(enabled_at=clock.now() - timedelta(days=60))
    setup.brand_save(
        shop=shop,
        sender_name="Bench Mail Shop",
        primary_colour="#e62e04",
        background_colour="#f5f5f5",
        physical_address="12 Harbour Road, Shenzhen",
        service_phone="+86 755 1234 5678",
    )
    body = (
        "<p>Hello {{ buyer.first_name }}, 20% off everything in {{ shop.name }} this week.</p>"
        '<p><a class="sc-button" href="https://www.aliexpress.com/store/1">Shop now</a></p>'
        '<p>See also <a href="https://www.aliexpress.com/item/2.html">this</a>.</p>'
    )
    c = campaigns.campaign_create(
        shop=shop,
        name=f"bench {tag}",
        contents=[campaigns.ContentInput(language="en", subject="20% off this week", body=body)],
    )
    Campaign.objects.filter(pk=c.pk).update(status=CampaignStatus.SCHEDULED)
    people = [
        Recipient(None, f"r{i}-{tag}@example.com", "en", "us", "America/New_York") for i in range(n)
    ]
    if materialize:
        dispatch.recipients_for = lambda _c: iter(people)
        dispatch.campaign_materialize(campaign_id=c.pk)
    return shop, Campaign.objects.get(pk=c.pk)


def _prebuilt(shop, campaign) -> list[tuple[str, str, bytes]]:
    """The baseline's messages: rendered, tracked and signed before the clock starts."""
    from mailing import dkim
    from mailing.models import Message
    from mailing.services import dispatch

    sender = dispatch.sender_for(shop)
    sender = dataclasses.replace(sender, signer=dkim.KeySigner(sender.dkim))  # as a batch does
    brand = dispatch.brand_for(shop)
    content = campaign.contents.get()
    out = []
    for m in Message.objects.filter(campaign=campaign).order_by("id").iterator():
        built = dispatch.build_message(campaign, m, sender, content, brand=brand)
        out.append((built.email.from_email, m.email, built.email.signed))
    return out


def _rss_setup(n: int, tag: str) -> int:
    """A campaign (scheduled, not materialised) of a new shop whose audience is ``n`` imported
    contacts with consent, written set-based; its id."""
    from django.contrib.auth import get_user_model
    from django.db import connection

    from core import clock
    from mailing.models import Campaign, ContactImport

    shop, _campaign = _setup(0, tag, materialize=False)
    user = get_user_model().objects.create(username=f"bench-mail-{tag}")
    imported = ContactImport.objects.create(
        shop=shop,
        created_by=user,
        created_at=clock.now(),
        file_name="bench.csv",
        content="",
        status="done",
        attestation="Bench contacts.",
        attested_at=clock.now(),
        total_rows=n,
        valid_rows=n,
        processed_rows=n,
        imported_rows=n,
    )
    with connection.cursor() as cur:
        cur.execute(
            """
            INSERT INTO mailing_importedcontact
                (shop_id, email, name, country, site, language, contact_import_id, created_at)
            SELECT %s, 'c' || g || '-' || %s || '@example.com', '', 'US', 'us', 'en', %s, now()
            FROM generate_series(1, %s) g
            """,
            [shop.pk, tag, imported.pk, n],
        )
        cur.execute(
            """
            INSERT INTO mailing_consent
                (shop_id, email, status, source, granted_at, nonce, contact_import_id, evidence)
            SELECT %s, 'c' || g || '-' || %s || '@example.com', 'granted', 'import', now(), '',
                   %s, ''
            FROM generate_series(1, %s) g
            """,
            [shop.pk, tag, imported.pk, n],
        )
        cur.execute("ANALYZE mailing_importedcontact")
        cur.execute("ANALYZE mailing_consent")
    return Campaign.objects.get(shop=shop).pk


def _rss_worker(campaign_id: int, port: int, batches: int, batch: int) -> None:
    """The measured worker: materialise the campaign, send ``batches`` batches, report."""
    import resource

    import django

    django.setup()
    from constance import config
    from django.conf import settings

    from mailing.models import Message
    from mailing.services import dispatch

    settings.SC_MAILING_EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.SC_MAILING_EMAIL_OPTIONS = {"host": "127.0.0.1", "port": port}
    config.MAILING_BATCH_SIZE = batch
    t = time.perf_counter()
    queued = dispatch.campaign_materialize(campaign_id=campaign_id)
    materialize_s = time.perf_counter() - t
    sent = 0
    for _ in range(batches):
        sent += dispatch.batch_send(campaign_id=campaign_id).sent
    hwm_kb = 0
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                hwm_kb = int(line.split()[1])
    result = {
        "queued": queued,
        "rows": Message.objects.filter(campaign_id=campaign_id).count(),
        "materialize_s": materialize_s,
        "sent": sent,
        "peak_rss_kb": max(hwm_kb, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss),
    }
    print("@@BENCH-JSON@@" + json.dumps(result), flush=True)


def _rss(n: int, tag: str, port: int, batches: int, batch: int) -> dict:
    """Set up the audience here, run the worker in its own process; its figures."""
    campaign_id = _rss_setup(n, tag)
    worker = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.dispatch",
            "--rss-worker",
            str(campaign_id),
            "--port",
            str(port),
            "--rss-batches",
            str(batches),
            "--batch",
            str(batch),
        ],
        stdout=subprocess.PIPE,
        text=True,
        check=True,
    )
    marker = "@@BENCH-JSON@@"
    line = [ln for ln in worker.stdout.splitlines() if ln.startswith(marker)][-1]
    r = json.loads(line[len(marker) :])
    if r["rows"] != n or r["sent"] != batches * batch:
        raise SystemExit(f"rss worker: {r['rows']} rows of {n}, sent {r['sent']}")
    return r


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench.dispatch")
    p.add_argument("--messages", type=int, default=2000)
    p.add_argument("--batch", type=int, default=200)
    p.add_argument("--rss-recipients", type=int, default=0, help="0: no RSS figure")
    p.add_argument("--rss-batches", type=int, default=5)
    p.add_argument("--rss-worker", type=int, default=0, help=argparse.SUPPRESS)
    p.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.rss_worker:
        _rss_worker(a.rss_worker, a.port, a.rss_batches, a.batch)
        return
    port = _free_port()
    sink = subprocess.Popen(
        [sys.executable, "-c", SINK, str(port)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert sink.stdout is not None
        sink.stdout.readline()
        tag = str(int(time.time()))
        shop_b, camp_b = _setup(a.messages, tag + "b")
        from django.conf import settings

        settings.SC_MAILING_EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.SC_MAILING_EMAIL_OPTIONS = {"host": "127.0.0.1", "port": port}
        from constance import config

        config.MAILING_BATCH_SIZE = a.batch
        _shop_e, camp_e = _setup(a.messages, tag + "e")
        messages = _prebuilt(shop_b, camp_b)

        # baseline: raw smtplib, pre-built signed messages, one reused connection
        t = time.perf_counter()
        smtp = smtplib.SMTP("127.0.0.1", port)
        for envelope, rcpt, data in messages:
            smtp.sendmail(envelope, [rcpt], data)
        smtp.quit()
        baseline_s = time.perf_counter() - t

        # engine: batch after batch, as a worker runs dispatch_batch_task
        from mailing.models import Message
        from mailing.services import dispatch

        t = time.perf_counter()
        while dispatch.batch_send(campaign_id=camp_e.pk).claimed:
            pass
        engine_s = time.perf_counter() - t
        sent = Message.objects.filter(campaign=camp_e, state="sent").count()
        if sent != a.messages:
            raise SystemExit(f"engine sent {sent} of {a.messages}")
        result = {
            "messages": a.messages,
            "engine_s": engine_s,
            "baseline_s": baseline_s,
            "engine_per_s": a.messages / engine_s,
            "baseline_per_s": a.messages / baseline_s,
        }
        result["ratio"] = result["engine_per_s"] / result["baseline_per_s"]
        if a.rss_recipients:
            r = _rss(a.rss_recipients, tag + "r", port, a.rss_batches, a.batch)
            result.update(
                rss_recipients=a.rss_recipients,
                rss_materialize_s=r["materialize_s"],
                rss_sent=r["sent"],
                worker_peak_rss_mb=r["peak_rss_kb"] / 1024,
            )
        print("@@BENCH-JSON@@" + json.dumps(result), flush=True)
    finally:
        sink.communicate(input="", timeout=10)


if __name__ == "__main__":
    main()
