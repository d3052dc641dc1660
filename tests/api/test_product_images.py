"""product.upserted's optional image_url: http(s) URLs and /static/ paths only, length-capped,
published in the OpenAPI document; omitted keeps the stored picture, empty removes it."""

import pytest

from shops.models import Product

from .support import ev


def _product(shop, **extra) -> dict:
    return {
        "shop_id": shop.external_id,
        "product_id": "IMG-1",
        "title": "Garden hose",
        "category": "home_garden",
        "skus": [{"sku": "IMG-SKU-1", "price_minor": 50_00}],
        **extra,
    }


def test_s0_product_upserted_stores_image_url_and_omitted_keeps_it(sender, shop_a):
    # given a product sent with a picture
    url = "https://ae01.alicdn.com/kf/S1a2b3c/garden-hose.jpg"
    assert sender.one(ev("product.upserted", _product(shop_a, image_url=url)))["status"] == (
        "applied"
    )
    assert Product.objects.get(shop=shop_a, external_id="IMG-1").image_url == url
    # when it is sent again without image_url (an older sender): the picture stays
    assert sender.one(ev("product.upserted", _product(shop_a, title="Hose 2")))["status"] == (
        "applied"
    )
    product = Product.objects.get(shop=shop_a, external_id="IMG-1")
    assert (product.title, product.image_url) == ("Hose 2", url)
    # when it is sent with an empty image_url: the picture is removed
    sender.one(ev("product.upserted", _product(shop_a, image_url="")))
    assert Product.objects.get(shop=shop_a, external_id="IMG-1").image_url == ""


def test_s0_product_image_may_be_a_local_static_path(sender, shop_a):
    path = "/static/img/products/home-plant.svg"
    assert sender.one(ev("product.upserted", _product(shop_a, image_url=path)))["status"] == (
        "applied"
    )
    assert Product.objects.get(shop=shop_a, external_id="IMG-1").image_url == path


@pytest.mark.parametrize(
    "bad",
    [
        "javascript:alert(1)",
        "data:image/svg+xml;base64,PHN2Zz4=",
        "ftp://files.example.com/a.jpg",
        "//cdn.example.com/a.jpg",  # scheme-relative
        'https://cdn.example.com/a.jpg" onerror="alert(1)',
        "https://cdn.example.com/a b.jpg",
        "/media/private/x.jpg",  # local, but not a static file
        "/static/",
        "https://cdn.example.com/" + "a" * 480,  # 504 characters: over the 500 limit
        12,
    ],
)
def test_s0_product_image_url_refused_with_422_and_nothing_written(sender, shop_a, bad):
    # when
    response = sender.send([ev("product.upserted", _product(shop_a, image_url=bad))])
    # then the request is refused by the schema, naming the field, and no product is written
    assert response.status_code == 422
    assert "image_url" in response.content.decode()
    assert not Product.objects.filter(external_id="IMG-1").exists()


def test_s0_openapi_documents_image_url_with_its_pattern_and_length(client):
    doc = client.get("/api/v1/openapi.json").json()
    props = doc["components"]["schemas"]["ProductData"]["properties"]
    variants = props["image_url"]["anyOf"]
    url = next(v for v in variants if v.get("pattern"))
    assert url["maxLength"] == 500
    assert url["pattern"].startswith("^(https?://")
    assert "image_url" not in doc["components"]["schemas"]["ProductData"].get("required", [])
