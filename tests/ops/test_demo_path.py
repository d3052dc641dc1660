"""The demo, followed word for word: the `demo` login opens the healthy shop, the README's
signed curl example applies against the demo data as printed (§5.5), and `seed_demo` says what
to do on a non-empty database and forgets received event ids on --flush (§5.6)."""

import json
import re
import subprocess

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from integrations.services import integration_create
from orders.models import IngestedEvent, Order
from shops.middleware import SESSION_KEY
from shops.models import Shop

from .conftest import BASE_DIR

SMALL = {"shops": 4, "buyers": 30, "orders": 0, "verbosity": 0}
HEALTHY = "ae-store-910001"


def _readme_block(lang: str, containing: str) -> str:
    text = (BASE_DIR / "README.md").read_text()
    blocks = re.findall(rf"```{lang}\n(.*?)```", text, flags=re.S)
    return next(b for b in blocks if containing in b)


def test_demo_login_opens_the_healthy_shop(db, client):
    # given the demo world
    call_command("seed_demo", **SMALL)
    # when `demo` logs in and opens the console
    assert client.login(username="demo", password="demo")
    response = client.get("/")
    # then the healthy demo shop is the current one
    assert response.status_code == 200
    shop = Shop.objects.get(pk=client.session[SESSION_KEY])
    assert shop.external_id == HEALTHY
    assert shop.name in response.content.decode()


def test_seed_demo_on_a_seeded_database_says_to_use_flush(db):
    call_command("seed_demo", **SMALL)
    with pytest.raises(CommandError, match=r"run: manage.py seed_demo --flush"):
        call_command("seed_demo", **SMALL)


def _post_readme_batch(client, integration, secret):
    from core.signing import sign

    body = _readme_block("json", '"events"').strip().encode()
    ts = int(__import__("time").time())
    response = client.post(
        "/api/v1/events",
        data=body,
        content_type="application/json",
        HTTP_X_SC_KEY=integration.key_id,
        HTTP_X_SC_TIMESTAMP=str(ts),
        HTTP_X_SC_SIGNATURE=sign(secret=secret, timestamp=ts, body=body),
    )
    assert response.status_code == 200, response.content
    return [r["status"] for r in response.json()["results"]]


def test_seed_demo_flush_forgets_received_event_ids_so_a_replay_applies_again(db, client):
    # given the demo and the README's batch applied once
    call_command("seed_demo", **SMALL)
    integration, secret = integration_create(name="ERP connector")
    assert _post_readme_batch(client, integration, secret) == ["applied", "applied"]
    assert _post_readme_batch(client, integration, secret) == ["duplicate", "duplicate"]
    # when the demo is seeded again from scratch
    call_command("seed_demo", "--flush", **SMALL)
    # then the received event ids went with the orders, and the same batch applies again
    assert not IngestedEvent.objects.exists()
    assert not Order.objects.filter(number="100045").exists()
    assert _post_readme_batch(client, integration, secret) == ["applied", "applied"]
    assert Order.objects.get(number="100045").shop.external_id == HEALTHY


@pytest.mark.django_db(transaction=True)
def test_readme_signed_curl_example_applies_against_the_demo_as_printed(live_server, tmp_path):
    # given the demo data and an integration, as the README's operator has them
    call_command("seed_demo", **SMALL)
    integration, secret = integration_create(name="ERP connector")
    (tmp_path / "batch.json").write_text(_readme_block("json", '"events"'))
    script = _readme_block("bash", "openssl dgst")
    # only the placeholders change: the printed key/secret line and the server's address
    script = re.sub(r"^KEY=.*$", "", script, flags=re.M)
    script = script.replace("http://127.0.0.1:8000", live_server.url)
    # when the README's shell commands run
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "KEY": integration.key_id, "SECRET": secret},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    # then both events apply
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert [r["status"] for r in answer["results"]] == ["applied", "applied"], answer
    order = Order.objects.get(number="100045", shop__external_id=HEALTHY)
    assert order.status == "paid"
