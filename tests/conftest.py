"""Persona fixtures (DESIGN §8), built through the services by ``tests/factories.py``.

Shop A has an ``owner``, a ``marketer`` and a read-only ``analyst``; shop B has
``other_owner``, who must see nothing of shop A. ``buyer`` shops in both. ``product_a`` /
``product_b`` are approved products with one SKU (``sku_a`` / ``sku_b``, ¥100.00, stock 100);
``order_a`` / ``order_b`` are paid orders of ``buyer`` for those SKUs (¥100.00 paid by card).

Tasks run eagerly (settings_test), but their arguments still go through Celery's JSON
serializer and back (``_eager_task_arguments_pass_through_json``), so a task called with a
model instance or a set fails here as it would in production.

``*_client`` fixtures are separate ``django.test.Client`` instances (several can be used in one
test), logged in with their shop selected in the session (``session["shop_id"] = shop.pk``).

Helpers for anything else: ``from factories import make_order, make_buyer, …`` (this conftest
puts ``tests/`` on ``sys.path``, so that import works from any test directory).
"""

import sys
import uuid
from pathlib import Path

import pytest
from django.conf import settings

_TESTS_DIR = str(Path(__file__).resolve().parent)
if _TESTS_DIR not in sys.path:
    sys.path.insert(0, _TESTS_DIR)

import factories  # noqa: E402
from celery.app.task import Task  # noqa: E402
from kombu.serialization import dumps, loads  # noqa: E402

from shops.models import Role  # noqa: E402

# --- parallel runs (pytest-xdist) ---------------------------------------------------------------

# Tests that start processes the way an operator does (the main database, ports, var/ files,
# a real Celery worker) share things outside one worker's test database and Redis db: under
# ``--dist loadgroup`` they all run on one worker, one after another.
_SERIAL_PATHS = ("ops/", "test_celery_worker.py", "test_settings.py", "test_static.py")


def pytest_collection_modifyitems(config, items):
    tests_dir = Path(__file__).resolve().parent
    for item in items:
        relative = Path(item.fspath).resolve().relative_to(tests_dir).as_posix()
        if relative.startswith(_SERIAL_PATHS):
            item.add_marker(pytest.mark.xdist_group("processes"))


# --- isolation --------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _fresh_content_types():
    """Each test reads content types from its own database state: a content type made inside
    an earlier test's rolled-back transaction (the admin logging a change to the rule registry
    makes constance's) must not be served from the process-wide cache with a vanished id."""
    from django.contrib.contenttypes.models import ContentType

    ContentType.objects.clear_cache()


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts in the default language: a request the test client made in Chinese
    leaves that language active in the thread (Django does not reset it after a response), so
    a later test on the same worker would otherwise read messages in Chinese."""
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _fresh_rate_limits(settings):
    """Each test counts its rate limits (core.ratelimit) from zero: the counters live in Redis,
    which outlives a test (and a run), so they get a key prefix of their own."""
    settings.RATELIMIT_CACHE_PREFIX = f"rl:{uuid.uuid4().hex}:"


@pytest.fixture
def no_coin_guard():
    """For platform tests that place orders carrying coins without any coin set-up: the coins
    module's ``order_placing`` guard (SPEC C-3: no account, no coins → refused) is off."""
    from coins.consumers import on_order_placing
    from orders import events
    from orders.models import Order

    events.order_placing.disconnect(sender=Order, dispatch_uid="coins.redeem")
    yield
    events.order_placing.connect(on_order_placing, sender=Order, dispatch_uid="coins.redeem")


@pytest.fixture
def no_module_consumers():
    """The order event log without the modules' own consumers (coins, …), for tests that count
    every delivery and handling as their probe's."""
    from orders import events

    saved = dict(events._CONSUMERS)
    events._CONSUMERS.clear()
    yield
    events._CONSUMERS.clear()
    events._CONSUMERS.update(saved)


# --- tasks: arguments travel as JSON, as through the broker -----------------------------------


def json_round_trip(args, kwargs):
    """What a worker receives: the arguments through Celery's JSON serializer and back.

    A model instance, a set or any other value JSON cannot carry raises ``EncodeError`` here,
    as it would when the task is queued in production; a tuple arrives as a list.
    """
    content_type, encoding, body = dumps((list(args or ()), dict(kwargs or {})), "json")
    args, kwargs = loads(body, content_type, encoding)
    return args, kwargs


_apply_async = Task.apply_async


def _apply_async_through_json(self, args=None, kwargs=None, *rest, **options):
    if self.app.conf.task_always_eager:  # eager mode skips serialization: do it here
        args, kwargs = json_round_trip(args, kwargs)
    return _apply_async(self, args, kwargs, *rest, **options)


@pytest.fixture(autouse=True, scope="session")
def _eager_task_arguments_pass_through_json():
    """Every task a test runs eagerly gets its arguments the way a worker would."""
    Task.apply_async = _apply_async_through_json
    yield
    Task.apply_async = _apply_async


# --- shops and staff ---------------------------------------------------------------------------


@pytest.fixture
def shop_a(db):
    return factories.make_shop(external_id="shop-a", name="Shop A")


@pytest.fixture
def shop_b(db):
    return factories.make_shop(external_id="shop-b", name="Shop B")


@pytest.fixture
def owner(shop_a):
    return factories.make_member(shop_a, Role.OWNER, username="owner")


@pytest.fixture
def marketer(shop_a):
    return factories.make_member(shop_a, Role.MARKETER, username="marketer")


@pytest.fixture
def analyst(shop_a):
    return factories.make_member(shop_a, Role.ANALYST, username="analyst")


@pytest.fixture
def other_owner(shop_b):
    return factories.make_member(shop_b, Role.OWNER, username="other_owner")


# --- catalogue, buyers, orders -----------------------------------------------------------------


@pytest.fixture
def buyer(db):
    return factories.make_buyer(external_id="buyer-1", email="buyer@example.com", country="US")


@pytest.fixture
def product_a(shop_a):
    return factories.make_product(
        shop_a,
        external_id="prod-a",
        title="Wireless earbuds",
        skus=[{"code": "SKU-A", "price_minor": 100_00, "stock": 100}],
    )


@pytest.fixture
def product_b(shop_b):
    return factories.make_product(
        shop_b,
        external_id="prod-b",
        title="Phone case",
        skus=[{"code": "SKU-B", "price_minor": 100_00, "stock": 100}],
    )


@pytest.fixture
def sku_a(product_a):
    return factories.first_sku(product_a)


@pytest.fixture
def sku_b(product_b):
    return factories.first_sku(product_b)


@pytest.fixture
def order_a(shop_a, buyer, sku_a):
    return factories.make_order(shop_a, buyer, status="paid", sku=sku_a, number="A-0001")


@pytest.fixture
def order_b(shop_b, buyer, sku_b):
    return factories.make_order(shop_b, buyer, status="paid", sku=sku_b, number="B-0001")


# --- logged-in clients -------------------------------------------------------------------------


@pytest.fixture
def owner_client(owner, shop_a):
    return factories.login_client(owner, shop_a)


@pytest.fixture
def marketer_client(marketer, shop_a):
    return factories.login_client(marketer, shop_a)


@pytest.fixture
def analyst_client(analyst, shop_a):
    return factories.login_client(analyst, shop_a)


@pytest.fixture
def other_client(other_owner, shop_b):
    return factories.login_client(other_owner, shop_b)
