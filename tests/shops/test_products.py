"""The products pages: thumbnails (placeholder, CSP-allowed hosts), 30-day units and GMV per
product and per SKU (paid, not cancelled or refunded, last 30 natural days), sorting, cards at
phone width, and constant query counts."""

import importlib
import os
import subprocess
import sys
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core import clock
from core.errors import DomainError
from orders.models import OrderStatus
from shops.selectors import product_sales_30d, sku_sales_30d
from shops.services import product_upsert
from tests.factories import first_sku, make_buyer, make_order, make_product

URL = "/shops/products/"


def _sell(shop, product, *, quantity, price, status=OrderStatus.PAID, days_ago=1, sku=None):
    return make_order(
        shop,
        buyer=make_buyer(),
        sku=sku or first_sku(product),
        quantity=quantity,
        unit_price_minor=price,
        status=status,
        placed_at=clock.now() - timedelta(days=days_ago),
    )


# --- 30-day figures ----------------------------------------------------------------------------


def test_30_day_units_and_gmv_count_paid_orders_not_cancelled_or_refunded(shop_a):
    # given a product sold in paid, shipped and completed orders in the window …
    product = make_product(shop_a, title="Lamp", price_minor=10_00)
    _sell(shop_a, product, quantity=2, price=10_00)
    _sell(shop_a, product, quantity=1, price=12_00, status=OrderStatus.SHIPPED)
    _sell(shop_a, product, quantity=3, price=10_00, status=OrderStatus.COMPLETED, days_ago=29)
    # … and in orders that do not count: unpaid, cancelled, fully refunded, paid 31 days ago
    _sell(shop_a, product, quantity=50, price=10_00, status=OrderStatus.PENDING_PAYMENT)
    _sell(shop_a, product, quantity=50, price=10_00, status=OrderStatus.CANCELLED)
    _sell(shop_a, product, quantity=50, price=10_00, status=OrderStatus.REFUNDED)
    _sell(shop_a, product, quantity=50, price=10_00, days_ago=31)
    # when
    sales = product_sales_30d(shop=shop_a)
    # then
    assert sales == {product.pk: (6, 2 * 10_00 + 12_00 + 3 * 10_00)}


def test_30_day_figures_are_per_product_and_zero_without_sales(shop_a, shop_b):
    sold, _unsold = make_product(shop_a, title="Sold"), make_product(shop_a, title="Unsold")
    other = make_product(shop_b, title="Other shop")
    _sell(shop_a, sold, quantity=4, price=5_00)
    _sell(shop_b, other, quantity=9, price=5_00)
    assert product_sales_30d(shop=shop_a) == {sold.pk: (4, 20_00)}
    assert product_sales_30d(shop=shop_a, product_ids=[_unsold.pk]) == {}
    assert product_sales_30d(shop=shop_b) == {other.pk: (9, 45_00)}


def test_products_sort_by_units_gmv_title_and_newest(owner_client, shop_a):
    # given: B sells most units, C the most GMV, A nothing; C is the newest
    a = make_product(shop_a, title="A product")
    b = make_product(shop_a, title="B product")
    c = make_product(shop_a, title="C product")
    _sell(shop_a, b, quantity=10, price=1_00)
    _sell(shop_a, c, quantity=2, price=100_00)

    def titles(sort):
        response = owner_client.get(URL, {"sort": sort})
        assert response.status_code == 200
        return [p.title for p in response.context["page_obj"]]

    assert titles("units") == [b.title, c.title, a.title]
    assert titles("gmv") == [c.title, b.title, a.title]
    assert titles("title") == [a.title, b.title, c.title]
    assert titles("newest") == [c.title, b.title, a.title]
    # an unknown sort is dropped (title order) and said so, never a 500
    response = owner_client.get(URL, {"sort": "-gmv; DROP TABLE"})
    assert response.status_code == 200
    assert [p.title for p in response.context["page_obj"]] == [a.title, b.title, c.title]
    assert "Some filters were not applied" in response.content.decode()


def test_products_list_shows_units_and_gmv_in_table_and_cards(owner_client, shop_a):
    product = make_product(shop_a, title="Velvet cushion")
    _sell(shop_a, product, quantity=1234, price=1_00)
    html = owner_client.get(URL).content.decode()
    # the table's cell and the phone card both show the figures (thousands separators)
    assert html.count("1,234") >= 2
    assert html.count("¥1,234.00") >= 2 or html.count("CN¥1,234.00") >= 2
    assert 'class="sc-product-cards d-md-none"' in html


def test_product_detail_shows_30_day_figures_per_sku(owner_client, shop_a):
    product = make_product(shop_a, n_skus=2)
    s0, s1 = product.skus.order_by("code")
    _sell(shop_a, product, sku=s0, quantity=3, price=2_00)
    _sell(shop_a, product, sku=s0, quantity=1, price=2_00, status=OrderStatus.CANCELLED)
    assert sku_sales_30d(product=product) == {s0.pk: (3, 6_00)}
    response = owner_client.get(f"{URL}{product.pk}/")
    assert response.status_code == 200
    rows = {sku.code: (units, gmv.amount) for sku, units, gmv in response.context["rows"]}
    assert rows == {s0.code: (3, 6_00), s1.code: (0, 0)}
    assert response.context["units_30d"] == 3
    assert response.context["gmv_30d"].amount == 6_00


@pytest.mark.parametrize("sort", ["title", "newest", "units", "gmv"])
def test_products_list_query_count_does_not_grow_with_products_shown(owner_client, shop_a, sort):
    def count():
        with CaptureQueriesContext(connection) as ctx:
            response = owner_client.get(URL, {"sort": sort})
        assert response.status_code == 200
        assert all(hasattr(p, "units_30d") for p in response.context["page_obj"])
        return len(ctx.captured_queries)

    make_product(shop_a, title="first")
    count()  # warm-up
    few = count()
    for i in range(20):
        p = make_product(shop_a, title=f"P{i:02d}", n_skus=2)
        _sell(shop_a, p, quantity=1, price=1_00)
    assert count() == few


# --- thumbnails ----------------------------------------------------------------------------------


def test_thumbnail_has_size_lazy_loading_and_the_title_as_alt(owner_client, shop_a):
    make_product(shop_a, title="Solar lights", image_url="/static/img/products/home-lamp.svg")
    html = owner_client.get(URL).content.decode()
    assert 'src="/static/img/products/home-lamp.svg"' in html
    assert 'width="48" height="48" loading="lazy"' in html
    assert 'alt="Solar lights"' in html


def test_product_without_picture_shows_a_placeholder(owner_client, shop_a):
    make_product(shop_a, title="Bare")
    html = owner_client.get(URL).content.decode()
    assert "sc-thumb-empty" in html
    assert "<img" not in html.split('id="products-table"')[1]


def test_external_image_shows_only_when_its_host_is_allowed_in_the_csp(
    owner_client, shop_a, settings
):
    url = "https://ae01.alicdn.com/kf/x.jpg"
    make_product(shop_a, title="Hose", image_url=url)
    # by default (no allowed hosts) the CSP would block it: the placeholder instead
    settings.SC_PRODUCT_IMAGE_HOSTS = []
    assert url not in owner_client.get(URL).content.decode()
    # allowed by a wildcard host-source: shown
    settings.SC_PRODUCT_IMAGE_HOSTS = ["https://*.alicdn.com"]
    assert f'src="{url}"' in owner_client.get(URL).content.decode()
    # another host or scheme is not
    settings.SC_PRODUCT_IMAGE_HOSTS = ["https://img.example.com", "http://*.alicdn.com"]
    assert url not in owner_client.get(URL).content.decode()


def _settings_in_a_fresh_process(hosts: str) -> subprocess.CompletedProcess:
    code = "import sellercenter.settings as s; print(' '.join(s.SECURE_CSP['img-src']))"
    env = {**os.environ, "SC_PRODUCT_IMAGE_HOSTS": hosts}
    return subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False
    )


def test_csp_img_src_lists_the_configured_image_hosts_and_refuses_junk():
    ok = _settings_in_a_fresh_process("https://ae01.alicdn.com,https://*.alicdn.com")
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.split() == [
        "'self'",
        "data:",
        "https://ae01.alicdn.com",
        "https://*.alicdn.com",
    ]
    bad = _settings_in_a_fresh_process("https://x.com; script-src *")
    assert bad.returncode != 0
    assert "SC_PRODUCT_IMAGE_HOSTS" in bad.stderr


@pytest.mark.parametrize("bad", ["javascript:alert(1)", 'https://x.com/a"b', "/static/"])
def test_product_upsert_refuses_a_bad_image_url_and_writes_nothing(shop_a, bad):
    with pytest.raises(DomainError) as err:
        product_upsert(
            shop=shop_a,
            external_id="X-1",
            title="X",
            category="toys",
            skus=[{"code": "X-1-1", "price_minor": 1}],
            image_url=bad,
        )
    assert err.value.code == "invalid_image_url"
    assert not shop_a.products.filter(external_id="X-1").exists()


def test_demo_pictures_exist_for_every_category():
    from pathlib import Path

    from django.conf import settings

    from shops.models import Category

    catalog = importlib.import_module("demo.world.catalog")

    folder = Path(settings.BASE_DIR) / "static" / "img" / "products"
    assert set(catalog.PRODUCT_IMAGES) == set(Category.values)
    for pictures in catalog.PRODUCT_IMAGES.values():
        assert pictures[-1][1] == (), "the last picture of a category is its generic one"
        for name, _keywords in pictures:
            svg = (folder / f"{name}.svg").read_text()
            assert svg.startswith("<svg")
            assert "<script" not in svg


def test_products_sorted_by_a_figure_paginate(owner_client, shop_a, settings):
    # given three products, one sold per day of the window, two to a page
    settings.SC_PAGE_SIZE = 2
    names = ["Few", "Most", "None"]
    products = {n: make_product(shop_a, title=n) for n in names}
    _sell(shop_a, products["Most"], quantity=5, price=1_00)
    _sell(shop_a, products["Few"], quantity=1, price=1_00)
    # when
    first = owner_client.get(URL, {"sort": "units"}).context["page_obj"]
    second = owner_client.get(URL, {"sort": "units", "page": 2}).context["page_obj"]
    # then
    assert [p.title for p in first] == ["Most", "Few"]
    assert [(p.title, p.units_30d) for p in second] == [("None", 0)]
    assert first.paginator.count == 3
