"""Tenancy across every seller URL, generated from the URLconf (healthchecks' and zulip's habit).

The test walks ``get_resolver()`` and, for every URL pattern that takes an object id (outside
``admin/``, ``api/``, ``i18n/``), requests it as shop B's owner with an id of an object of
shop A: the answer must be 404 — the same as for an id that does not exist, so nothing leaks.
The same URL requested by shop A's owner must *not* be 404, which proves the id was right.

A new URL is picked up automatically. When its id kwarg is unknown here, the test looks for a
model of that name with a ``shop`` (or an ``order``/``product`` of a shop) and uses shop A's
first row; if there is none it fails and says what to add to ``ID_MAKERS`` below.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.apps import apps
from django.db import models
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.converters import IntConverter, UUIDConverter
from django.urls.resolvers import RegexPattern, RoutePattern
from factories import make_buyer, make_order

from core import clock
from shops.services import notify


def _coin_rule_of(shop):
    """A coin issuance rule of ``shop`` (SPEC C-7), its account opened through the services."""
    from factories import make_feedback

    from coins import services
    from core import clock

    make_feedback(make_order(shop, status="delivered"), kind="positive")
    services.account_open(shop=shop)
    return services.rule_create(
        shop=shop,
        name="Rule",
        kind="instant_cashback",
        coins=1,
        budget_coins=10,
        starts_at=clock.now(),
    )


def _mail_template_of(shop):
    """A marketing-email template of ``shop`` (SPEC M-2 c), mailing enabled through the services
    (the M-1 GMV threshold set to the shop's currency and zero, as tests/mailing does)."""
    from constance import config

    from mailing.services import setup

    config.MAILING_MIN_GMV_30D_CURRENCY = shop.currency
    config.MAILING_MIN_GMV_30D_MINOR = 0
    setup.mailing_enable(shop=shop)
    return setup.template_copy(shop=shop, builtin_key="welcome")


SKIP_PREFIXES = ("admin/", "api/", "i18n/")

# URLs that take an id but are not shop-scoped seller pages, with the reason. Keep it short.
NOT_SELLER_URLS: dict[str, str] = {
    # Activities are the platform's, open to every shop (SPEC E-1): no shop owns one.
    "activities/<int:activity_id>/": "platform-wide activity",
    "activities/<int:activity_id>/precheck/": "platform-wide activity",
    "activities/<int:activity_id>/enrol/": "platform-wide activity (enrols the caller's SKUs)",
}


@dataclass
class Personas:
    shop_a: object
    product_a: object
    sku_a: object
    order_a: object
    buyer_a: object  # a buyer who has ordered only in shop A


# kwarg name -> an id of an object that belongs to shop A. Add yours here when the automatic
# model lookup cannot find one (create the object through your services).
ID_MAKERS: dict[str, Callable[[Personas], object]] = {
    "order_id": lambda p: p.order_a.pk,
    "product_id": lambda p: p.product_a.pk,
    "sku_id": lambda p: p.sku_a.pk,
    "shop_id": lambda p: p.shop_a.pk,
    "buyer_id": lambda p: p.buyer_a.pk,
    "shipment_id": lambda p: p.order_a.shipment.pk,
    "file_id": lambda p: _private_file_of(p.shop_a).pk,
    "rule_id": lambda p: _coin_rule_of(p.shop_a).pk,
    # A notification to shop A's owner (the persona whose client asks for it).
    "enrolment_id": lambda p: _enrolment_of(p).pk,
    "exit_id": lambda p: _exit_of(p).pk,
    "notification_id": lambda p: (
        notify(shop=p.shop_a, kind="general", title="Note", roles=["owner"])[0].pk
    ),
    "commission_id": lambda p: _commission_of(p.shop_a, p.sku_a).pk,
    "template_id": lambda p: _mail_template_of(p.shop_a).pk,
    "import_id": lambda p: _contact_import_of(p.shop_a).pk,
    "segment_id": lambda p: _segment_of(p.shop_a).pk,
    "suppression_id": lambda p: _suppression_of(p.shop_a).pk,
    "campaign_id": lambda p: _campaign_of(p.shop_a).pk,
    "message_pk": lambda p: _campaign_message_of(p.shop_a).pk,
}


def _campaign_of(shop):
    """The first marketing-email campaign of ``shop`` (SPEC M-5), made through the services."""
    from mailing.models import Campaign
    from mailing.services import campaigns

    existing = Campaign.objects.filter(shop=shop).order_by("pk").first()
    if existing is not None:
        return existing
    _mail_template_of(shop)
    content = campaigns.ContentInput(language="en", subject="20% off", body="<p>Hello</p>")
    return campaigns.campaign_create(shop=shop, name="Spring", contents=[content])


def _campaign_message_of(shop):
    """A message (send-log row) of the first campaign of ``shop`` (SPEC M-10)."""
    from mailing.models import Message

    campaign = _campaign_of(shop)
    message, _ = Message.objects.get_or_create(
        campaign=campaign,
        email="r@example.com",
        defaults={"shop": shop, "language": "en", "state": "failed", "error_code": 550},
    )
    return message


def _segment_of(shop):
    from mailing.segments import SegmentDefinition
    from mailing.services.segments import segment_save

    return segment_save(shop=shop, name="Repeat", definition=SegmentDefinition(repeat=True))


def _suppression_of(shop):
    from mailing.services.audience import suppress

    return suppress(shop=shop, email="someone@example.com", reason="manual")


def _contact_import_of(shop):
    """A CSV contact import of ``shop`` (SPEC M-13), uploaded through the service."""
    from factories import make_user

    from mailing.models import ImportAllowance
    from mailing.services.imports import import_upload

    ImportAllowance.objects.get_or_create(shop=shop)
    return import_upload(shop=shop, user=make_user(), name="c.csv", data=b"email\na@example.com\n")


def _enrolment_of(p):
    from datetime import timedelta

    from activities import services as activities
    from core import clock
    from shops.services import logistics_set

    now = clock.now()
    logistics_set(shop=p.shop_a, carrier="aliexpress_standard", enabled=True, certified=True)
    activity = activities.activity_create(
        activities.ActivityInput(
            kind="flash_deal",
            name="Flash",
            starts_at=now - timedelta(days=5),
            ends_at=now + timedelta(days=30),
            enrol_until=now + timedelta(days=20),
        )
    )
    return activities.enrolment_create(
        shop=p.shop_a,
        activity=activity,
        sku=p.sku_a,
        activity_price_minor=p.sku_a.price_minor,
        stock=10,
        now=now - timedelta(days=3),
    )


def _exit_of(p):
    """Shop A exited (SPEC E-5): a 20% cancel rate on two natural days in a row."""
    from datetime import timedelta

    from activities import services as activities
    from core import clock

    _enrolment_of(p)
    now = clock.now()
    for i in range(20):
        make_order(
            p.shop_a,
            p.buyer_a,
            sku=p.sku_a,
            status="cancelled" if i < 4 else "paid",
            placed_at=now - timedelta(days=2, minutes=i),
        )
    activities.metrics_evaluate(now=now - timedelta(days=1))
    return activities.metrics_evaluate(now=now).exits[0]


def _commission_of(shop, sku):
    """An affiliate commission of ``shop``: programme, promoter, PID, link, click, order."""
    from affiliate import services as aff
    from affiliate.services import clicks

    aff.programme_enable(shop=shop, rate_bp=1000)
    promoter = aff.promoter_approve(
        promoter=aff.promoter_create(name="Promoter", email="p404@promo.example.com")
    )
    link = aff.link_create(
        pid=aff.pid_create(promoter=promoter, channel="social"),
        shop=shop,
        destination="https://www.aliexpress.com/store/1",
    )
    item = {"id": clicks.new_click_id(), "link": link.pk, "pid": link.pid_id, "earns": True}
    clicks.clicks_insert(items=[{**item, "at": clock.now().timestamp() - 60}])
    order = make_order(shop, status="paid", sku=sku, affiliate_click_id=item["id"])
    return aff.order_attribute(order_id=order.pk)


def _private_file_of(shop):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from core.uploads import private_file_store

    pdf = SimpleUploadedFile("a.pdf", b"%PDF-1.4\n%%EOF\n")
    return private_file_store(uploaded=pdf, owner=shop)


_PARAM = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")


@dataclass(frozen=True)
class Route:
    route: str
    converters: dict
    name: str

    def __str__(self) -> str:
        return self.route


def _takes_an_id(name: str, converter) -> bool:
    return (
        isinstance(converter, IntConverter | UUIDConverter)
        or name.endswith("_id")
        or name in {"pk", "id"}
    )


def walk(patterns=None, prefix: str = "", converters=None, namespace: str = ""):
    """Every URL pattern of the URLconf as (full route, converters, qualified name)."""
    converters = converters or {}
    for p in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(p.pattern, RoutePattern):
            piece = str(p.pattern)
        elif isinstance(p.pattern, RegexPattern):
            regex = p.pattern.regex
            if regex.groups and not (prefix + regex.pattern.lstrip("^")).startswith(SKIP_PREFIXES):
                raise AssertionError(
                    f"{prefix}{regex.pattern}: regex URL with groups; use path() converters "
                    "so tests/test_urls_404.py can build it"
                )
            piece = regex.pattern.lstrip("^").rstrip("$").replace("\\", "")
        else:  # pragma: no cover - Django ships only these two
            raise AssertionError(f"unknown pattern type {type(p.pattern)}")
        merged = {**converters, **getattr(p.pattern, "converters", {})}
        if isinstance(p, URLResolver):
            ns = f"{namespace}{p.namespace}:" if p.namespace else namespace
            yield from walk(p.url_patterns, prefix + piece, merged, ns)
        elif isinstance(p, URLPattern):
            yield Route(prefix + piece, merged, f"{namespace}{p.name or ''}")


def seller_id_routes() -> list[Route]:
    routes = []
    for route in walk():
        if route.route.startswith(SKIP_PREFIXES) or route.route in NOT_SELLER_URLS:
            continue
        if any(_takes_an_id(n, c) for n, c in route.converters.items()):
            routes.append(route)
    return routes


ROUTES = seller_id_routes()


def _shop_path(model) -> str | None:
    """How ``model`` reaches Shop: "shop", or one hop through an FK that has a shop."""
    field_names = {f.name for f in model._meta.get_fields()}
    if "shop" in field_names:
        return "shop"
    for f in model._meta.get_fields():
        if isinstance(f, models.ForeignKey | models.OneToOneField) and not f.auto_created:
            related = {g.name for g in f.related_model._meta.get_fields()}
            if "shop" in related:
                return f"{f.name}__shop"
    return None


def id_in_shop_a(kwarg: str, personas: Personas, route: Route):
    if kwarg in ID_MAKERS:
        return ID_MAKERS[kwarg](personas)
    stem = kwarg.removesuffix("_id").replace("_", "")
    candidates = [m for m in apps.get_models() if m._meta.model_name == stem]
    for model in candidates:
        path = _shop_path(model)
        if path is None:
            continue
        obj = model._default_manager.filter(**{path: personas.shop_a}).order_by("pk").first()
        if obj is not None:
            return obj.pk
    found = ", ".join(m._meta.label for m in candidates) or "no model of that name"
    pytest.fail(
        f"{route} takes <{kwarg}> and tests/test_urls_404.py cannot find an object of shop A "
        f"for it ({found}). Add an entry to ID_MAKERS: "
        f'"{kwarg}": lambda p: <create one in p.shop_a through your services>.pk'
    )


def build_url(route: Route, personas: Personas) -> str:
    def replace(match):
        name = match.group("name")
        converter = route.converters[name]
        return converter.to_url(id_in_shop_a(name, personas, route))

    return "/" + _PARAM.sub(replace, route.route)


@pytest.fixture
def personas(shop_a, product_a, sku_a, buyer):
    order = make_order(shop_a, buyer, status="shipped", sku=sku_a)
    buyer_a = make_buyer()
    make_order(shop_a, buyer_a, status="paid", sku=sku_a)
    return Personas(shop_a=shop_a, product_a=product_a, sku_a=sku_a, order_a=order, buyer_a=buyer_a)


def _request(client, url):
    response = client.get(url)
    if response.status_code == 405:  # a POST-only action: the lookup must still 404
        response = client.post(url, {})
    return response


def test_the_walk_finds_the_seller_id_urls():
    # then: never vacuous; the order and product pages are among them
    routes = {r.route for r in ROUTES}
    assert ROUTES, "no seller URL takes an id: the 404 test would pass vacuously"
    assert "orders/<int:order_id>/" in routes
    assert "shops/products/<int:product_id>/" in routes


@pytest.mark.parametrize("route", ROUTES, ids=str)
def test_another_shops_object_answers_404(route, personas, other_client, owner_client):
    # given
    url = build_url(route, personas)

    # when: shop B's owner asks for shop A's object
    foreign = _request(other_client, url)

    # then: 404 for B; and the URL is right, because A's owner does not get a 404
    assert foreign.status_code == 404, f"{url} answered {foreign.status_code} to shop B's owner"
    own = _request(owner_client, url)
    assert own.status_code != 404, f"{url} is 404 for shop A's owner too: the id mapping is wrong"
    assert own.status_code < 500
