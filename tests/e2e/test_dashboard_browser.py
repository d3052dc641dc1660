"""The home dashboard in a real browser (Playwright driving Debian's Chromium, headless), at a
desktop (1440 px) and a phone (390 px) width, in English and in Simplified Chinese.

Screenshots are kept in tests/artifacts/dashboard-<width>-<language>.png. The browser, the demo
marketplace and the logged-in pages are the shared fixtures of tests/e2e/conftest.py.
"""

import re

from .conftest import ARTIFACTS, log_in_page, new_page


def _open_dashboard(chromium, live_server, demo, *, viewport, language):
    context, page = new_page(chromium, live_server, viewport, language)
    log_in_page(page, demo.username, demo.password)
    page.goto(f"{live_server.url}/")
    page.wait_for_selector("canvas[data-dash-chart=gmv]")
    page.wait_for_load_state("networkidle")
    return context, page


def _charts_drawn(page) -> bool:
    """Every dashboard chart canvas was taken over by Chart.js (it sets an inline size)."""
    return page.evaluate(
        "() => [...document.querySelectorAll('canvas[data-dash-chart]')]"
        ".every(c => window.Chart && window.Chart.getChart(c) !== undefined)"
    )


VIEWS = [("1440", "en"), ("390", "en"), ("1440", "zh-hans"), ("390", "zh-hans")]


def test_dashboard_renders_as_a_briefing_at_both_widths_in_both_languages(
    chromium, live_server, demo_marketplace
):
    # One demo marketplace for the four views (seeding it is the slow part).
    ARTIFACTS.mkdir(exist_ok=True)
    for viewport, language in VIEWS:
        _check_dashboard(chromium, live_server, demo_marketplace, viewport, language)


def _check_dashboard(chromium, live_server, demo, viewport, language):
    # when: demo opens its dashboard at this width, in this language
    context, page = _open_dashboard(
        chromium, live_server, demo, viewport=viewport, language=language
    )
    width = int(viewport)
    errors = page.console_errors
    short = "zh" if language == "zh-hans" else "en"
    page.screenshot(path=str(ARTIFACTS / f"dashboard-{width}-{short}.png"), full_page=True)

    # then: the page is in that language, the charts are drawn, and nothing failed
    assert page.get_attribute("html", "lang") == language
    assert _charts_drawn(page)
    assert errors == []
    # and every KPI shows its change against the previous 30 days, as text (not colour only)
    for key in ("gmv", "orders", "cancel", "positive"):
        figure = page.inner_text(f"#kpi-{key}-change .fw-semibold").strip()
        assert re.fullmatch(r"[+−][\d,.]+(%| pts?| 个百分点)|—|0%|new|新增", figure), figure
        assert page.locator(f"#kpi-{key}-change .visually-hidden").text_content().strip()
    # and the KPIs: four across on a desktop, a 2x2 grid on a phone
    boxes = [page.locator(".sc-kpi-grid > .sc-kpi").nth(i).bounding_box() for i in range(4)]
    columns = {round(b["x"]) for b in boxes}
    rows = {round(b["y"]) for b in boxes}
    assert (len(columns), len(rows)) == ((4, 1) if width >= 1200 else (2, 2))
    assert all(b["x"] + b["width"] <= width for b in boxes)  # nothing runs off the screen
    # and today is marked as a partial day, in the chart labels and in the tables behind them
    labels = page.evaluate(
        "() => JSON.parse(document.getElementById('dashboard-chart').textContent).labels"
    )
    assert labels[-1].endswith("(so far)" if short == "en" else "（截至目前）")
    page.click(
        "#orders-chart-title ~ * summary, section[aria-labelledby=orders-chart-title] summary"
    )
    assert page.locator("#orders-table tbody tr").count() == 30
    # and the needs-attention panel and one tile per marketing module
    assert page.locator("#attention").is_visible()
    assert page.locator("#module-tiles > .sc-tile").count() == 5
    # and the page does not scroll sideways
    assert page.evaluate("() => document.documentElement.scrollWidth") <= width
    context.close()
