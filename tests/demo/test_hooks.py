"""demo/hooks.py: each module's demo data is found by convention (``<app>.demo.seed`` and
``tick``), called in INSTALLED_APPS order with its own deterministic random stream; an app
without a hook is skipped (DESIGN §1: floor 3 never imports floor 4, so nothing registers)."""

import io
import random
import sys
import textwrap
from datetime import UTC, datetime

import pytest
from django.apps import AppConfig, apps
from django.core.management import call_command

from demo import hooks
from shops.models import Shop

NOW = datetime(2026, 3, 16, 6, 30, tzinfo=UTC)

_RECORDER = """
CALLS = []

def seed(*, shops, rng, now):
    CALLS.append(("seed", [s.pk for s in shops], rng.random(), now))

def tick(*, rng, now):
    CALLS.append(("tick", rng.random(), now))
"""

# name -> files of the package (a stand-in for a module's app; None: no demo module)
PROBES = {
    "probe_hooked": {"demo.py": _RECORDER},
    "probe_second": {"demo.py": _RECORDER},
    "probe_plain": None,  # no demo module at all
    "probe_helpers_only": {"demo.py": "HELPER = 1\n"},  # a demo module without seed or tick
}


@pytest.fixture(scope="module")
def probes(tmp_path_factory):
    """App configs of throw-away apps, importable for this module's tests only."""
    root = tmp_path_factory.mktemp("probe_apps")
    for name, files in PROBES.items():
        (root / name).mkdir()
        (root / name / "__init__.py").write_text("")
        for filename, text in (files or {}).items():
            (root / name / filename).write_text(textwrap.dedent(text))
    sys.path.insert(0, str(root))
    try:
        yield {name: AppConfig.create(name) for name in PROBES}
    finally:
        sys.path.remove(str(root))
        for name in list(sys.modules):
            if name.split(".")[0] in PROBES:
                del sys.modules[name]


def _calls(name: str) -> list:
    return sys.modules[f"{name}.demo"].CALLS


@pytest.fixture
def recorded(probes):
    for name in ("probe_hooked", "probe_second"):
        __import__(f"{name}.demo")
        _calls(name).clear()
    return probes


def test_discover_finds_seed_and_tick_and_skips_apps_without_them(recorded):
    # given: apps with a hook, without a demo module, with a demo module lacking seed/tick
    configs = [recorded[n] for n in ("probe_plain", "probe_hooked", "probe_helpers_only")]

    # when
    found = hooks.discover(configs)

    # then
    assert [(h.app, h.seed.__name__, h.tick.__name__) for h in found] == [
        ("probe_hooked", "seed", "tick")
    ]


@pytest.mark.django_db
def test_seed_calls_each_hook_in_app_order_with_the_shops_and_its_own_stream(recorded, shop_a):
    # given
    configs = [recorded[n] for n in ("probe_second", "probe_plain", "probe_hooked")]
    other = Shop(pk=999_999, external_id="unsaved")

    # when
    seeded = hooks.seed_all(shops=[shop_a, other], seed=42, now=NOW, app_configs=configs)
    first = (_calls("probe_hooked")[:], _calls("probe_second")[:])
    again = hooks.seed_all(shops=[shop_a, other], seed=42, now=NOW, app_configs=configs)

    # then: in app order, the app without a hook skipped
    assert seeded == again == ["probe_second", "probe_hooked"]
    # each got the shops, the run's now, and random.Random(f"{seed}-{app label}")
    hooked, second = first
    assert hooked == [
        ("seed", [shop_a.pk, 999_999], random.Random("42-probe_hooked").random(), NOW)
    ]
    assert second == [
        ("seed", [shop_a.pk, 999_999], random.Random("42-probe_second").random(), NOW)
    ]
    assert hooked[0][2] != second[0][2]
    # and the same draws again for the same seed
    assert _calls("probe_hooked")[1] == hooked[0]


def test_ticker_gives_each_app_one_stream_for_the_whole_run(recorded):
    # given
    ticker = hooks.Ticker(
        seed=5, app_configs=[recorded["probe_hooked"], recorded["probe_helpers_only"]]
    )
    expected = random.Random("5-probe_hooked-tick")

    # when
    ticker()
    ticker()

    # then: two draws from the same stream, not the same first draw twice
    assert ticker.apps == ["probe_hooked"]
    assert [c[1] for c in _calls("probe_hooked")] == [expected.random(), expected.random()]
    assert not hooks.Ticker(seed=5, app_configs=[recorded["probe_plain"]])


@pytest.fixture
def installed(recorded, monkeypatch):
    """The probe with hooks installed after every real app (as a module's app would be)."""
    real = apps.get_app_configs
    monkeypatch.setattr(apps, "get_app_configs", lambda: [*real(), recorded["probe_hooked"]])
    return recorded


@pytest.mark.django_db
def test_seed_demo_calls_the_installed_hooks_with_the_seeded_shops(installed):
    # when
    call_command("seed_demo", seed=9, shops=4, buyers=20, orders=30, service_orders=0, verbosity=0)

    # then: once, after the marketplace is there, with every seeded shop
    [(kind, shop_ids, draw, _now)] = _calls("probe_hooked")
    assert kind == "seed"
    assert sorted(shop_ids) == sorted(Shop.objects.values_list("pk", flat=True))
    assert len(shop_ids) == 4
    assert draw == random.Random("9-probe_hooked").random()


@pytest.mark.django_db
def test_simulate_in_process_ticks_the_installed_hooks(installed):
    # given
    out = io.StringIO()

    # when
    call_command("simulate", "--rate", "0", "--events", "50", "--seed", "3", stdout=out)

    # then: ticked at least once (at the start of the first second), from its seeded stream
    ticks = _calls("probe_hooked")
    # (real modules with a tick, e.g. affiliate's clicks, are listed before it)
    [line] = [ln for ln in out.getvalue().splitlines() if ln.startswith("Demo ticks: ")]
    assert line.endswith("probe_hooked.")
    assert ticks
    assert ticks[0][1] == random.Random("3-probe_hooked-tick").random()
