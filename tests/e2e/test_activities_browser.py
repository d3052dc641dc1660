"""Marketing activities in a real browser (issue 12, SPEC E-1 to E-8): a seller enrols SKUs in
a running Flash Deal (one refused by the pre-check, with its fix), watches the live monitor,
is exited by the late shipments of five days of simulated orders, files the post-mortem from
the form pre-filled with the exit's orders, SKUs and logistics lines, and reads the
re-enrolment conditions; the platform rejects it with a reason in the admin.

The order history is the simulator's (``demo.simulator.World``, the generator behind
``manage.py simulate``), sent through the same in-process ingestion as ``simulate``, event by
event at their own times (time-machine): 30 orders placed five days ago, most shipped and
scanned the next day, eight shipped only after their 72-hour deadline. The hourly evaluation
runs at yesterday's last hour and now, as beat would.

At 1440 px in English; the post-mortem and the self-check again at 390 px in Chinese.
Screenshots go to tests/artifacts/activities-<step>-<viewport>-<language>.png.
"""

import re
from datetime import timedelta

import pytest
import time_machine
from factories import PASSWORD, make_buyer, make_member, make_product, make_shop

from activities import services
from activities.models import ActivityExit, Enrolment, PostMortem
from core import clock
from demo.simulator import DELIVERED, PAID, PENDING, SHIPPED, InProcessSender, SimShop, World
from shops.services import logistics_set

from .conftest import ARTIFACTS, log_in_page, new_page
from .test_accessibility import blocking_violations

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
H = timedelta(hours=1)
D = timedelta(days=1)
LATE = 8  # orders shipped after their deadline, of 30
ENROL = "form[action$='/enrol/'] button.btn-primary"


def _top(page):
    page.evaluate("window.scrollTo(0, 0)")
    return page


def _fits(page, width: int) -> None:
    assert page.evaluate("document.scrollingElement.scrollWidth") <= width


def _advance_to(world, sender, order, stage, at) -> None:
    """The simulator moves ``order`` on, one event at a time at ``at`` (+1 s each), until it
    reaches ``stage`` (or the simulator closes it: a cancellation, a refund)."""
    order_stages = [PENDING, PAID, SHIPPED, DELIVERED]
    step = 0
    while order.stage in order_stages and order_stages.index(order.stage) < order_stages.index(
        stage
    ):
        with time_machine.travel(at + step * timedelta(seconds=1), tick=False):
            event = world._advance(order)
            world.settle([event], sender.send([event]), _stats())
        step += 1


def _stats():
    from demo.simulator import Stats

    return Stats()


@pytest.fixture
def late_shipper(transactional_db, settings, tmp_path):
    """A certified shop with three SKUs and five days of simulated orders, eight of them
    shipped after 72 h; the evaluation of yesterday's last hour already saw the breach."""
    settings.STORAGES = {
        **settings.STORAGES,
        "private": {
            "BACKEND": "core.storage.PrivateFileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "private")},
        },
    }
    now = clock.now()
    shop = make_shop(name="Harbor Lights Trading", external_id="harbor-lights")
    user = make_member(shop, username="harbor")
    logistics_set(shop=shop, carrier="aliexpress_standard", enabled=True, certified=True)
    product = make_product(
        shop,
        title="Harbor lantern",
        skus=[
            {"code": "LANTERN-S", "price_minor": 30_00, "stock": 600},
            {"code": "LANTERN-M", "price_minor": 45_00, "stock": 600},
            {"code": "LANTERN-L", "price_minor": 60_00, "stock": 40},
        ],
    )
    skus = {s.code: s for s in product.skus.all()}
    activity = services.activity_create(
        services.ActivityInput(
            kind="flash_deal",
            name="Winter Lights Flash Deal",
            starts_at=now - 2 * D,
            ends_at=now + 12 * D,
            enrol_until=now + 5 * D,
        )
    )
    buyers = [make_buyer().external_id for _ in range(12)]
    world = World(
        shops=[SimShop(shop.external_id, shop.currency, [("LANTERN-S", 30_00)])],
        buyers=buyers,
        seed=12,
    )
    sender = InProcessSender()
    t0 = now - 5 * D
    orders = []
    for i in range(30):
        with time_machine.travel(t0 + i * timedelta(minutes=3), tick=False):
            event = world._new_order()
            world.settle([event], sender.send([event]), _stats())
            orders.append(world.orders[event["data"]["order_number"]])
    on_time, late = orders[:-LATE], orders[-LATE:]
    for o in orders:
        _advance_to(world, sender, o, PAID, t0 + 2 * H)
    for o in on_time:  # shipped and scanned the next day, delivered two days on
        _advance_to(world, sender, o, SHIPPED, t0 + 20 * H)
        _advance_to(world, sender, o, DELIVERED, t0 + 60 * H)
    for o in late:  # shipped only after the 72-hour deadline
        _advance_to(world, sender, o, SHIPPED, t0 + 80 * H)
        _advance_to(world, sender, o, DELIVERED, t0 + 90 * H)
    # the evaluation at yesterday's last hour (20:00 China Standard Time): over the limit
    yesterday = clock.day_start(clock.natural_day(now)) - 4 * H
    first = services.metrics_evaluate(now=yesterday)
    snapshot = first.evaluation.snapshots.get(shop=shop)
    assert "late_shipment" in snapshot.breaches, snapshot.metrics
    return {"shop": shop, "user": user, "skus": skus, "activity": activity}


@pytest.mark.filterwarnings("ignore:Synchronous access to Constance")  # Playwright's loop
@pytest.mark.parametrize("viewport", ["1440"])
def test_e1_e2_e6_e5_e7_e8_enrol_watch_get_exited_file_the_postmortem_see_the_conditions(
    late_shipper, chromium, live_server, screenshot, admin_user
):
    shop, user, skus, activity = (late_shipper[k] for k in ("shop", "user", "skus", "activity"))
    context, page = new_page(chromium, live_server, "1440", "en")
    log_in_page(page, user.username, PASSWORD)
    base = page.base_url

    # when: the seller opens the activity and enrols the small lantern
    page.goto(base + "/activities/")
    page.click(f"a[href='/activities/{activity.pk}/']")
    page.select_option("#id_sku", str(skus["LANTERN-S"].pk))
    page.fill("#id_price", "25.00")
    page.fill("#id_stock", "100")
    with page.expect_navigation():
        page.click(ENROL)
    page.wait_for_selector(".alert-success")
    # then
    assert Enrolment.objects.get(shop=shop, sku=skus["LANTERN-S"]).status == "enrolled"

    # when: the large lantern, with more stock committed than 40 on hand covers, is pre-checked
    page.select_option("#id_sku", str(skus["LANTERN-L"].pk))
    page.fill("#id_price", "50.00")
    page.fill("#id_stock", "60")
    page.click("button:has-text('Run the pre-check')")
    page.wait_for_selector("#precheck .sc-check-fail")
    # then: it fails with its reason and how to fix it; enrolling anyway is refused
    failed = page.inner_text("#precheck .sc-check-fail")
    assert "Restock this SKU or commit at most 33 units" in failed
    assert blocking_violations(page) == []
    screenshot(_top(page), "activities-precheck")
    with page.expect_navigation():
        page.click(ENROL)
    page.wait_for_selector(".alert-danger")
    assert not Enrolment.objects.filter(sku=skus["LANTERN-L"]).exists()
    # and the medium lantern goes in
    page.select_option("#id_sku", str(skus["LANTERN-M"].pk))
    page.fill("#id_price", "40.00")
    page.fill("#id_stock", "200")
    with page.expect_navigation():
        page.click(ENROL)
    page.wait_for_selector(".alert-success")
    assert Enrolment.objects.filter(shop=shop, status="enrolled").count() == 2

    # when: the live monitor opens (the last evaluation: yesterday's last hour)
    page.goto(base + "/activities/monitor/")
    # then: the late-shipment rate is over its limit, the others under theirs
    body = page.inner_text("main")
    assert "Late-shipment rate" in body
    assert "Above the limit now." in body
    assert blocking_violations(page) == []
    screenshot(_top(page), "activities-monitor")

    # when: the hourly evaluation runs now: the same rate over its limit a second day
    [exit_] = services.metrics_evaluate().exits
    # then: both SKUs left the activity, with the late orders as evidence
    assert exit_.shop == shop
    assert exit_.metrics == ["late_shipment"]
    assert exit_.enrolments_removed == 2
    late_orders = exit_.evidence["metrics"]["late_shipment"]["orders"]
    assert len(late_orders) >= 1

    # when: the seller comes back to activities
    page.goto(base + "/activities/")
    # then: the removal is announced, with the way to the post-mortem
    assert "Your shop was removed from every running activity" in page.inner_text("main")
    page.click("a:has-text('See why')")
    page.wait_for_url(re.compile(rf".*/activities/exits/{exit_.pk}/$"))
    assert "File the post-mortem by" in page.inner_text("main")
    assert late_orders[0] in page.inner_text("main")
    screenshot(_top(page), "activities-exit")

    # when: the post-mortem form opens
    page.click("a:has-text('File it now')")
    page.wait_for_url(re.compile(rf".*/activities/exits/{exit_.pk}/postmortem/$"))
    # then: pre-filled with the late orders, their SKU, carrier and tracking; the countdown
    assert "h " in page.inner_text("#pm-state")
    assert "left" in page.inner_text("#pm-state")
    affected = page.input_value("#id_affected_orders")
    for number in late_orders:
        assert number in affected
    assert "LANTERN-S" in affected
    assert "shipped" in affected
    assert "Late-shipment rate" in page.input_value("#id_timeline")
    assert "LANTERN-M" in page.input_value("#id_stock_notes")
    assert blocking_violations(page) == []
    screenshot(_top(page), "activities-postmortem-form")

    # when: filed without the required fields and files: form errors, nothing saved
    page.fill("#id_root_cause", "")
    with page.expect_navigation():
        page.click("form[enctype] button[type=submit]")
    page.wait_for_selector(".invalid-feedback")
    assert not PostMortem.objects.exists()
    assert blocking_violations(page) == []

    # when: the seller completes it and attaches the carrier's statement
    page.fill(
        "#id_root_cause",
        "Our ERP stopped pushing tracking numbers for two days after an update.",
    )
    page.select_option("#id_erp_sync_status", "broken")
    page.fill("#id_corrective_actions", "Rolled the connector back; re-pushed every number.")
    page.fill("#id_owner", "Chen Jie, operations")
    page.fill("#id_prevention", "An alert when an order is 24 h old without tracking.")
    page.fill("#id_expected_fix_date", (clock.natural_day() + 7 * D).isoformat())
    page.select_option("#id_stock_status", "in_stock")
    page.set_input_files(
        "#id_evidence",
        files=[{"name": "carrier-statement.pdf", "mimeType": "application/pdf", "buffer": PDF}],
    )
    with page.expect_navigation():
        page.click("form[enctype] button[type=submit]")
    page.wait_for_selector(".alert-success")
    # then: filed, under review, with what was sent
    pm = PostMortem.objects.get(exit=exit_)
    assert (pm.status, pm.erp_sync_status, pm.owner) == (
        "submitted",
        "broken",
        "Chen Jie, operations",
    )
    assert "Under review" in page.inner_text("#pm-state")
    assert "carrier-statement.pdf" in page.inner_text("main")
    screenshot(_top(page), "activities-postmortem-filed")

    # when: the re-enrolment self-check opens
    page.goto(base + "/activities/reenrol/")
    # then: each condition with its state; the recovery and the post-mortem with their dates
    checks = {
        page.locator("[data-check]").nth(i).get_attribute("data-check"): page.locator(
            "[data-check]"
        ).nth(i)
        for i in range(page.locator("[data-check]").count())
    }
    assert set(checks) >= {
        "e8_late_shipment_recovered",
        "e8_postmortem_approved",
        "e8_dsr_item_as_described",
    }
    assert "under review" in checks["e8_postmortem_approved"].inner_text()
    assert "0 days so far" in checks["e8_late_shipment_recovered"].inner_text()
    assert page.locator("text=Earliest pass").count() >= 2
    assert "Some conditions do not pass yet." in page.inner_text("main")
    assert blocking_violations(page) == []
    screenshot(_top(page), "activities-reenrol")

    # when: the appeals list opens
    page.goto(base + "/activities/appeals/")
    assert "Under review" in page.inner_text("main")
    assert blocking_violations(page) == []
    # the two refused forms answered 400 on purpose; nothing else went wrong in the console
    assert [e for e in page.console_errors if "status of 400" not in e] == []
    assert len(page.console_errors) == 2
    context.close()

    # when: the platform rejects it in the admin, with a reason
    admin_ctx, admin = new_page(chromium, live_server, "1440", "en")
    admin.goto(base + "/admin/login/?next=/admin/activities/postmortem/")
    admin.fill("input[name=username]", admin_user.username)
    admin.fill("input[name=password]", "password")
    with admin.expect_navigation():
        admin.click("input[type=submit], button[type=submit]")
    admin.check(f"input[name=_selected_action][value='{pm.pk}']")
    admin.select_option("select[name=action]", "reject")
    admin.click("button[name=index]")
    admin.fill("textarea[name=reason]", "Attach the carrier's scan history for the eight orders.")
    admin.click("input[name=apply]")
    admin.wait_for_selector(".messagelist")
    pm.refresh_from_db()
    assert (pm.status, pm.decision_reason) == (
        "rejected",
        "Attach the carrier's scan history for the eight orders.",
    )
    admin_ctx.close()

    # and on a phone, in Chinese: the rejection and its reason, the form open again for 48 h
    context, phone = new_page(chromium, live_server, "390", "zh-hans")
    log_in_page(phone, user.username, PASSWORD)
    for step, path in (
        ("postmortem", f"/activities/exits/{exit_.pk}/postmortem/"),
        ("reenrol", "/activities/reenrol/"),
        ("appeal", f"/activities/exits/{exit_.pk}/appeal/"),
    ):
        phone.goto(base + path)
        phone.wait_for_load_state("networkidle")
        _fits(phone, 390)
        assert phone.evaluate("document.documentElement.lang").lower() == "zh-hans"
        assert blocking_violations(phone) == []
        ARTIFACTS.mkdir(exist_ok=True)
        phone.screenshot(path=str(ARTIFACTS / f"activities-{step}-390-zh-hans.png"), full_page=True)
        if step == "postmortem":
            body = phone.inner_text("main")
            assert "已驳回：请提交修订版" in body
            assert "Attach the carrier's scan history" in body
            assert phone.locator("#id_root_cause").input_value().startswith("Our ERP")
            fix_day = (clock.natural_day() + 7 * D).isoformat()
            assert phone.locator("#id_expected_fix_date").input_value() == fix_day
    assert phone.console_errors == []
    context.close()
    assert ActivityExit.objects.filter(shop=shop).count() == 1


@pytest.fixture
def checked_seller(transactional_db):
    """A shop with a final review report of an activity that ended four days ago, and a
    finding of the 15-minute check on an order of the running one (sold above its price)."""
    from orders import eventlog
    from orders import services as orders
    from orders.inputs import LineInput, OrderInput
    from orders.models import OrderEvent

    now = clock.now()
    shop = make_shop(name="Quay Street Ceramics", external_id="quay-ceramics")
    user = make_member(shop, username="quay")
    logistics_set(shop=shop, carrier="aliexpress_standard", enabled=True, certified=True)
    sku = make_product(
        shop,
        title="Glazed bowl",
        skus=[{"code": "BOWL-BLUE", "price_minor": 50_00, "stock": 500}],
    ).skus.get()
    buyer = make_buyer()
    ended = services.activity_create(
        services.ActivityInput(
            kind="flash_deal",
            name="Autumn Ceramics Flash Deal",
            starts_at=now - 10 * D,
            ends_at=now - 4 * D,
            enrol_until=now - 9 * D,
        )
    )
    running = services.activity_create(
        services.ActivityInput(
            kind="flash_deal",
            name="Winter Kitchen Flash Deal",
            starts_at=now - D,
            ends_at=now + 10 * D,
            enrol_until=now + 5 * D,
        )
    )
    for activity, at in ((ended, now - 11 * D), (running, now - 2 * D)):
        services.enrolment_create(
            shop=shop, activity=activity, sku=sku, activity_price_minor=40_00, stock=100, now=at
        )

    def order(number, activity, at, price, quantity=1):
        placed = orders.order_create(
            OrderInput(
                shop=shop,
                buyer=buyer,
                number=number,
                lines=[LineInput(sku=sku, quantity=quantity, unit_price_minor=price)],
                placed_at=at,
                payment_method="card",
                activity_id=activity.pk,
            )
        )
        return orders.order_pay(
            order=placed,
            payment_id=f"P-{number}",
            amount_minor=price * quantity,
            method="card",
            paid_at=at + H,
        )

    for i in range(4):
        order(f"QC-{i + 1:03d}", ended, now - 8 * D + i * H, 40_00, quantity=1 + i % 2)
    order("QC-900", running, now - 3 * H, 45_00)
    eventlog.deliver(list(OrderEvent.objects.order_by("pk").values_list("pk", flat=True)))
    assert services.consistency_check_all(now=now).issues == 1
    assert services.reports_generate(now=now) == 1
    return {"shop": shop, "user": user, "ended": ended}


@pytest.mark.filterwarnings("ignore:Synchronous access to Constance")  # Playwright's loop
def test_e6_checks_and_review_reports_pages_1440_english_and_390_chinese(
    checked_seller, chromium, live_server
):
    user, ended = checked_seller["user"], checked_seller["ended"]
    for width, language in (("1440", "en"), ("390", "zh-hans")):
        context, page = new_page(chromium, live_server, width, language)
        log_in_page(page, user.username, PASSWORD)
        for step, path in (("checks", "/activities/checks/"), ("reports", "/activities/reports/")):
            # when
            response = page.goto(page.base_url + path)
            page.wait_for_load_state("networkidle")
            # then: the page in its language, fitting the screen, axe-clean
            assert response.status == 200
            assert page.evaluate("document.documentElement.lang").lower() == language
            _fits(page, int(width))
            assert blocking_violations(page) == []
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(
                path=str(ARTIFACTS / f"activities-{step}-{width}-{language}.png"), full_page=True
            )
            body = page.inner_text("main")
            if step == "checks":  # the finding: the order, what differs, expected and found
                assert "QC-900" in body
                assert "QC-001" not in body
                assert ("Price differs from the activity price" in body) == (language == "en")
            else:  # the report of the ended activity: final, with its sales
                assert ended.name in body
                assert ("Final" in body) == (language == "en")
        assert page.console_errors == []
        context.close()
