"""Django admin in the browser at 1440 px (issue 7 item 10): branded, big tables readable."""

import pytest

ADMIN_USER, ADMIN_PASSWORD = "admin", "admin"  # seed_demo's documented superuser

BIG_LISTS = [
    ("orders", "/admin/orders/order/"),
    ("order-lines", "/admin/orders/orderline/"),
    ("shipments", "/admin/orders/shipment/"),
    ("shops", "/admin/shops/shop/"),
]


@pytest.mark.parametrize("viewport", ["1440"])
def test_admin_is_branded_and_its_big_tables_are_readable_at_1440(
    anonymous_page, demo_marketplace, screenshot
):
    # given: the platform admin signs in
    page = anonymous_page
    page.goto(page.base_url + "/admin/login/")
    assert "Seller Center administration" in page.inner_text("#site-name")
    page.fill("input[name=username]", ADMIN_USER)
    page.fill("input[name=password]", ADMIN_PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/")
    # then: the branded index
    assert page.title() == "Platform administration | Seller Center admin"
    icon = page.get_attribute("link[rel=icon]", "href")
    assert icon.endswith("img/favicon.svg")
    assert page.request.get(page.base_url + icon).ok
    screenshot(page, "admin-index")
    for name, path in BIG_LISTS:
        # when
        page.goto(page.base_url + path)
        screenshot(page, f"admin-{name}", full_page=False)
        # then: the page never scrolls sideways (a wide table scrolls in its own box), column
        # headers stay on one line, and rows are compact (one line each)
        assert page.evaluate("document.scrollingElement.scrollWidth") <= 1440, name
        header_heights = page.eval_on_selector_all(
            "#result_list thead th", "ths => ths.map(th => th.getBoundingClientRect().height)"
        )
        assert max(header_heights) < 48, (name, header_heights)
        row_heights = page.eval_on_selector_all(
            "#result_list tbody tr", "trs => trs.map(tr => tr.getBoundingClientRect().height)"
        )
        assert row_heights, name
        assert max(row_heights) < 48, (name, max(row_heights))
