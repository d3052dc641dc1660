"""The coin seller pages in a real browser (issue 8): a seller whose shop passes the opening
checks (SPEC C-1) but has no coin account yet opens it, tops up the fund (C-5), switches coin
deduction on for products in bulk (C-3/C-4), previews a rule's cost and creates it (C-7), sees
the dashboard's charts drawn (C-11) and a buyer's wallet with where its coins came from (C-6).

At 1440 px in English; the phone steps at 390 px in Chinese. Screenshots go to
tests/artifacts/coins-<step>-<viewport>-<language>.png.
"""

import re
from datetime import timedelta

import pytest
from factories import PASSWORD, make_buyer, make_feedback, make_member, make_order, make_product

from coins.models import CoinAccount, CoinGrant, CoinProductSetting, CoinRule, RuleKind
from core import clock
from core.money import Money
from shops.selectors import balance_for_shop
from shops.services import balance_credit

from .conftest import ARTIFACTS, log_in_page, new_page
from .test_accessibility import blocking_violations


def _settle(page) -> None:
    page.wait_for_load_state("networkidle")


def _fits(page) -> None:
    """No table of the page needs a sideways scroll box at this width (static/js/a11y.js marks
    the boxes that overflow)."""
    wide = page.locator(".table-responsive[data-sc-scrollable]")
    assert wide.count() == 0, [wide.nth(i).inner_text()[:80] for i in range(wide.count())]


def _top(page):
    """Back to the top before a full-page screenshot (the sticky top bar otherwise lands
    mid-picture after a click lower down)."""
    page.evaluate("window.scrollTo(0, 0)")
    return page


def _new_coin_seller(demo_marketplace):
    """A shop of the demo marketplace's world that passes every C-1 check but has no coin
    account: certified, mainland China, positive feedback, recent paid orders, a shop balance."""
    from factories import make_shop

    shop = make_shop(name="Lantern Goods")
    user = make_member(shop, username="lantern")
    products = [make_product(shop, title=f"Lantern {i}", price_minor=80_00) for i in range(3)]
    for i in range(4):  # paid orders of the last weeks: what a rule's cost preview reads
        order = make_order(
            shop,
            make_buyer(),
            status="delivered",
            placed_at=clock.now() - timedelta(days=3 + i),
        )
        make_feedback(order, kind="positive")
    balance_credit(
        shop=shop,
        amount=Money(2_000_00, shop.currency),
        reason="Marketplace settlement payout",
        idempotency_key="e2e-coins-payout",
    )
    assert not CoinAccount.objects.filter(shop=shop).exists()
    return shop, user, products


@pytest.mark.filterwarnings("ignore:Synchronous access to Constance")  # Playwright's loop
@pytest.mark.parametrize("viewport", ["1440"])
def test_c1_c5_c3_c7_c11_c6_new_coin_seller_opens_tops_up_sets_products_rules_and_reads_wallets(
    chromium, live_server, demo_marketplace, screenshot
):
    # given: a seller whose shop passes the opening checks, without a coin account
    shop, user, products = _new_coin_seller(demo_marketplace)
    context, page = new_page(chromium, live_server, "1440", "en")
    log_in_page(page, user.username, PASSWORD)
    base = page.base_url

    # when: the coin page opens
    page.goto(base + "/coins/")
    # then: every opening check passes and the open button is offered
    assert page.locator(".sc-check-fail, .sc-check-unknown").count() == 0
    assert page.locator("#coin-open-form button[type=submit]").is_visible()
    assert blocking_violations(page) == []  # the no-account state, not in the a11y page list
    screenshot(_top(page), "coins-open")

    # when: the account is opened
    page.click("#coin-open-form button[type=submit]")
    page.wait_for_selector("#coin-id")
    # then: the account exists with the coin ID the page shows
    account = CoinAccount.objects.get(shop=shop)
    assert page.inner_text("#coin-id").strip() == account.coin_id
    assert "SPEC " not in page.inner_text("body")
    screenshot(_top(page), "coins-account")

    # when: ¥500.00 is moved from the shop balance into the fund
    page.goto(base + "/coins/fund/")
    page.fill("#top-up-form input[name=amount]", "500")
    page.click("#top-up-form button[type=submit]")
    page.wait_for_selector(".alert-success, .alert.alert-success, [role=status]")
    # then: 50,000 coins available, the shop balance down by ¥500, one movement listed
    account.fund.refresh_from_db()
    assert account.fund.available == 500_00
    assert balance_for_shop(shop=shop) == Money(1_500_00, shop.currency)
    assert "500.00" in page.inner_text("#fund-available")
    assert page.locator("#fund-movements tbody tr").count() == 1
    _fits(page)
    screenshot(_top(page), "coins-fund")

    # when: two products get coin deduction on at 20 % in one go
    page.goto(base + "/coins/products/")
    for product in products[:2]:
        page.check(f"#coin-pick-{product.pk}")
    page.select_option("#coin-switch", "on")
    page.fill("#coin-ratio", "20")
    page.click("#coin-bulk-edit button[type=submit]")
    page.wait_for_selector(".alert-success")
    # then: both are on at 20 % (the third untouched), and the board says coins show on them
    settings = {s.product_id: s for s in CoinProductSetting.objects.filter(shop=shop)}
    for product in products[:2]:
        assert settings[product.pk].enabled
        assert settings[product.pk].max_ratio_bp == 2000
        row = page.locator(f"#coin-product-{product.pk}")
        assert "20" in row.locator("td.num").inner_text()
        assert row.locator(".text-success").is_visible()
    assert products[2].pk not in settings or not settings[products[2].pk].enabled
    assert page.locator(f"#coin-product-{products[2].pk} .sc-coin-reasons li").count() >= 1
    _fits(page)
    screenshot(_top(page), "coins-products")

    # when: a rule is filled in and its cost previewed (htmx: the page stays, nothing saved)
    page.goto(base + "/coins/rules/new/")
    page.fill("#id_name", "Thank-you cashback")
    page.select_option("#id_kind", RuleKind.INSTANT_CASHBACK)
    page.fill("#id_coins", "300")
    page.fill("#id_budget_coins", "30000")
    page.fill("#id_starts_on", clock.natural_day().isoformat())
    url = page.url
    page.click("button[name=preview]")
    page.wait_for_selector("#preview-coins")
    # then: what the rule would have cost on the 4 paid orders of the last 30 days
    assert page.url == url
    assert page.inner_text("#preview-orders").strip() == "4"
    assert page.inner_text("#preview-coins").strip() == "1,200"
    assert "12.00" in page.inner_text("#preview-value")
    assert not CoinRule.objects.filter(shop=shop).exists()
    assert blocking_violations(page) == []  # the preview swapped in
    screenshot(_top(page), "coins-rule-preview")

    # when: the rule is saved
    page.click("#rule-save")
    page.wait_for_url(re.compile(r".*/coins/rules/$"))
    # then: it is listed, active, with its budget
    rule = CoinRule.objects.get(shop=shop)
    assert (rule.name, rule.kind, rule.coins, rule.budget_coins) == (
        "Thank-you cashback",
        RuleKind.INSTANT_CASHBACK,
        300,
        30000,
    )
    assert "Thank-you cashback" in page.inner_text("main")
    # the list fits its column: the Stop button is not cut off behind a sideways scroll
    box = page.locator("#rules-table .table-responsive")
    assert box.evaluate("b => b.scrollWidth <= b.clientWidth + 1")
    assert page.locator("#rules-table button.btn-outline-danger").is_visible()
    _fits(page)
    screenshot(_top(page), "coins-rules")

    # when: a buyer pays an order in the shop (the rule grants through the order event log)
    buyer = make_buyer()
    order = make_order(shop, buyer, sku=products[0].skus.first(), status="paid")
    grant = CoinGrant.objects.get(rule=rule, order=order)
    assert grant.coins == 300

    # when: the dashboard opens
    page.goto(base + "/coins/dashboard/")
    _settle(page)
    # then: both charts are drawn by the chart library, and their figures are in tables
    drawn = page.evaluate(
        "Array.from(document.querySelectorAll('canvas[data-coin-chart]'))"
        ".map(c => !!(window.Chart && window.Chart.getChart(c)))"
    )
    assert drawn == [True, True]
    page.wait_for_timeout(600)  # the charts' 0.3 s animation, for the screenshot
    page.click("#coins-daily-table >> xpath=ancestor::details/summary")
    assert page.locator("#coins-daily-table").is_visible()
    assert blocking_violations(page) == []  # with the daily figures' table open
    assert page.inner_text("#kpi-outstanding").strip() == "300"
    assert page.locator("#coins-daily-table tbody tr").count() >= 1
    _fits(page)
    screenshot(_top(page), "coins-dashboard")

    # when: the buyers' list, then the buyer's wallet, open
    page.goto(base + "/coins/buyers/")
    page.click(f"a[href='/coins/buyers/{buyer.pk}/']")
    page.wait_for_url(re.compile(rf".*/coins/buyers/{buyer.pk}/$"))
    # then: 300 spendable coins, from the rule, for that order, not used yet
    assert "300" in page.inner_text("#wallet-balance")
    lot = page.locator("#coin-lots tbody tr").first
    assert "Thank-you cashback" in lot.inner_text()
    assert order.number in lot.inner_text()
    assert "Not used yet" in lot.inner_text()
    _fits(page)
    screenshot(_top(page), "coins-wallet")
    assert page.console_errors == []
    context.close()

    # and on a phone, in Chinese: the wallet and the fund are cards, never sideways scrolling
    context, phone = new_page(chromium, live_server, "390", "zh-hans")
    log_in_page(phone, user.username, PASSWORD)
    for step, path in (("wallet", f"/coins/buyers/{buyer.pk}/"), ("fund", "/coins/fund/")):
        phone.goto(base + path)
        _settle(phone)
        assert phone.evaluate("document.scrollingElement.scrollWidth") <= 390, path
        assert phone.locator("table.sc-table-cards thead").bounding_box()["height"] <= 1
        card = phone.locator("table.sc-table-cards tbody tr").first.bounding_box()
        assert card["width"] <= 390
        phone.screenshot(path=str(_artifact(step)), full_page=True)
        assert phone.evaluate("document.documentElement.lang").lower() == "zh-hans"
        assert blocking_violations(phone) == []
    assert phone.console_errors == []
    context.close()


def _artifact(step: str):
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS / f"coins-{step}-390-zh-hans.png"
