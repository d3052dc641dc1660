"""SPEC §0: integrations are created in admin or with ``manage.py integration_create``; the
secret is shown once; rotation keeps the previous secret valid for a grace period."""

import io
import re

from django.core.management import call_command
from django.urls import reverse

from integrations.models import Integration
from integrations.services import decrypt_secret
from orders.models import IngestedEvent

from .support import Sender, ev, order_created_data


def test_s0_integration_create_command_prints_key_and_secret_once(db, shop_a, buyer, sku_a):
    # given
    out = io.StringIO()
    # when
    call_command("integration_create", "Acme marketplace", stdout=out)
    # then the key id and the secret are printed, and they sign valid requests
    text = out.getvalue()
    key_id = re.search(r"key id:\s+(\S+)", text).group(1)
    secret = re.search(r"secret:\s+(\S+)", text).group(1)
    integration = Integration.objects.get(key_id=key_id)
    assert integration.name == "Acme marketplace"
    assert secret not in integration.secret_encrypted
    sender = Sender(integration, secret)
    assert (
        sender.one(ev("order.created", order_created_data(shop_a, buyer, sku_a, number="I-1")))[
            "status"
        ]
        == "applied"
    )


def test_s0_integration_rotate_command(sender):
    # given an integration
    out = io.StringIO()
    # when its secret is rotated from the command line
    call_command("integration_rotate", sender.key_id, stdout=out)
    # then the new secret is printed and stored; the old one is kept for the grace period
    new_secret = re.search(r"secret:\s+(\S+)", out.getvalue()).group(1)
    sender.integration.refresh_from_db()
    assert decrypt_secret(sender.integration.secret_encrypted) == new_secret
    assert decrypt_secret(sender.integration.previous_secret_encrypted) == sender.secret
    assert sender.integration.rotated_at is not None


def test_s0_admin_creates_integration_and_shows_secret_once(admin_client):
    # when a platform admin adds an integration
    response = admin_client.post(
        reverse("admin:integrations_integration_add"),
        {"name": "Partner feed", "active": "on"},
        follow=True,
    )
    # then the secret is shown in a message, once, and works
    integration = Integration.objects.get(name="Partner feed")
    shown = [str(m) for m in response.context["messages"]]
    assert len(shown) >= 1
    secret = decrypt_secret(integration.secret_encrypted)
    assert any(secret in m and integration.key_id in m for m in shown)
    page = admin_client.get(reverse("admin:integrations_integration_change", args=[integration.pk]))
    assert secret not in page.content.decode()


def test_s0_admin_rotate_and_deactivate_actions(admin_client, sender):
    url = reverse("admin:integrations_integration_changelist")
    # when the rotate action runs
    response = admin_client.post(
        url, {"action": "rotate_secret", "_selected_action": [sender.integration.pk]}, follow=True
    )
    # then a new secret is shown and stored
    sender.integration.refresh_from_db()
    new_secret = decrypt_secret(sender.integration.secret_encrypted)
    assert any(new_secret in str(m) for m in response.context["messages"])
    # when the deactivate action runs, then requests are refused
    admin_client.post(url, {"action": "deactivate", "_selected_action": [sender.integration.pk]})
    sender.integration.refresh_from_db()
    assert not sender.integration.active
    sender.secret = new_secret
    assert (
        sender.send(
            [ev("violation.recorded", {"shop_id": "x", "violation_id": "v", "kind": "k"})]
        ).status_code
        == 401
    )


def test_s0_admin_lists_ingested_events_read_only(admin_client, sender, shop_a, buyer, sku_a):
    # given an ingested event
    sender.one(ev("order.created", order_created_data(shop_a, buyer, sku_a, number="L-1")))
    record = IngestedEvent.objects.get()
    # then it is listed and viewable, and cannot be changed
    listing = admin_client.get(
        reverse("admin:orders_ingestedevent_changelist") + f"?q={record.event_id}"
    )
    assert listing.status_code == 200
    assert record.event_id in listing.content.decode()
    assert (
        admin_client.get(reverse("admin:orders_ingestedevent_change", args=[record.pk])).status_code
        == 200
    )
    assert (
        admin_client.post(
            reverse("admin:orders_ingestedevent_change", args=[record.pk]), {}
        ).status_code
        == 403
    )
