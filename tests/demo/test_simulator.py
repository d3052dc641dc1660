"""SPEC §0: the simulator produces a living stream of the same events, in-process or over HTTP."""

import io

import pytest
from django.core.management import call_command

from demo import simulator
from orders.models import IngestedEvent, Order, OrderStatus, Review, TrackingEvent


@pytest.fixture
def catalogue(shop_a, shop_b, sku_a, sku_b, buyer):
    import factories

    for _ in range(5):
        factories.make_buyer()


# The simulator's random coin deductions come from buyers with no coins in shops with no coin
# account: the coins guard (SPEC C-3) refuses them, so these tests of the lifecycle run without it.
def test_s0_simulator_in_process_moves_orders_through_the_lifecycle(catalogue, no_coin_guard):
    # given the seeded shops and buyers
    world = simulator.world_from_database(seed=7)
    assert {s.external_id for s in world.shops} == {"shop-a", "shop-b"}
    # when 800 events are simulated in-process, as fast as possible
    lines = []
    stats = simulator.run(
        world=world, sender=simulator.InProcessSender(), rate=0, max_events=800, out=lines.append
    )
    # then every event was applied through the ingestion pipeline
    assert stats.sent == 800
    assert stats.statuses["applied"] == 800, stats.codes
    assert IngestedEvent.objects.count() == 800
    # and orders went all the way along the lifecycle
    statuses = set(Order.objects.values_list("status", flat=True))
    assert {
        OrderStatus.PAID,
        OrderStatus.SHIPPED,
        OrderStatus.DELIVERED,
        OrderStatus.COMPLETED,
    } <= statuses
    assert TrackingEvent.objects.exists()
    assert Review.objects.exists()
    assert stats.types["buyer.upserted"] > 0
    assert stats.types["cart.updated"] > 0
    assert lines[-1].startswith("total sent=800")


def test_s0_simulate_command_bootstraps_its_own_shops_when_there_are_none(db):
    # given an empty database
    out = io.StringIO()
    # when the command runs for 200 events
    call_command("simulate", "--rate", "0", "--events", "200", "--seed", "3", stdout=out)
    # then it created shops through events and streamed orders for them
    text = out.getvalue()
    assert "Bootstrapped 3 shops" in text
    assert "total sent=200" in text
    assert Order.objects.filter(shop__external_id__startswith="simshop-").exists()


@pytest.mark.django_db(transaction=True)
def test_s0_simulator_over_http_against_a_live_server(live_server, catalogue, no_coin_guard):
    # given a running server and an integration
    from integrations.services import integration_create

    integration, secret = integration_create(name="Simulator over HTTP")
    out = io.StringIO()
    # when the command streams 120 signed events over HTTP
    call_command(
        "simulate",
        "--rate",
        "0",
        "--events",
        "120",
        "--seed",
        "5",
        "--http",
        live_server.url,
        "--key",
        integration.key_id,
        "--secret",
        secret,
        stdout=out,
    )
    # then the server applied them, recorded under that integration
    assert "total sent=120" in out.getvalue()
    assert IngestedEvent.objects.filter(integration=integration, status="applied").count() == 120
    assert Order.objects.exists()


def test_s0_simulate_http_needs_key_and_secret(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="--key and --secret"):
        call_command("simulate", "--http", "http://127.0.0.1:9", "--events", "1")
