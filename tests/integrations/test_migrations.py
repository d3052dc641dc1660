"""Issue 6: ``Integration`` moved from ``orders`` to ``integrations``. A database migrated before
the move keeps its integrations (ids, secrets) and the ingested events pointing at them."""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from integrations.models import Integration
from integrations.services import decrypt_secret, encrypt_secret
from orders.models import IngestedEvent

BEFORE_THE_MOVE = [
    ("orders", "0004_daily_stats_status_feedback_reviews"),
    ("integrations", None),
]


def _tables() -> set[str]:
    with connection.cursor() as cursor:
        return set(connection.introspection.table_names(cursor))


@pytest.mark.django_db(transaction=True)
def test_s0_migrating_a_pre_move_database_keeps_integrations_and_their_events():
    # given the schema as it was before the move, with an integration and one of its events
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE_THE_MOVE)
    assert "orders_integration" in _tables()
    assert "integrations_integration" not in _tables()
    old = executor.loader.project_state(BEFORE_THE_MOVE[:1]).apps
    OldIntegration = old.get_model("orders", "Integration")
    old_row = OldIntegration.objects.create(
        name="Legacy feed", key_id="sck_legacy", secret_encrypted=encrypt_secret("scs_legacy")
    )
    old.get_model("orders", "IngestedEvent").objects.create(
        integration_id=old_row.pk,
        event_id="evt-legacy",
        type="order.created",
        status="applied",
        received_at="2026-11-21T08:00:00Z",
    )
    ContentType.objects.filter(app_label="integrations").delete()
    old_type = ContentType.objects.get_or_create(app_label="orders", model="integration")[0]

    # when every migration is applied
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    # then the same row, with the same id and a readable secret, is integrations.Integration,
    # in the app's own table, and its event still points at it
    assert "integrations_integration" in _tables()
    assert "orders_integration" not in _tables()
    integration = Integration.objects.get(key_id="sck_legacy")
    assert integration.pk == old_row.pk
    assert decrypt_secret(integration.secret_encrypted) == "scs_legacy"
    assert IngestedEvent.objects.get(event_id="evt-legacy").integration == integration
    # and the admin's content type (with its permissions) moved with the model
    old_type.refresh_from_db()
    assert old_type.app_label == "integrations"
    # and a new integration gets a fresh id (the identity sequence came along)
    assert Integration.objects.create(name="New", key_id="sck_new").pk > old_row.pk
