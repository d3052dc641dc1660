"""The affiliate rules (SPEC A-2 … A-8): pure guards and the one commission arithmetic,
table-driven at each boundary."""

from datetime import UTC, datetime, timedelta

import pytest

from affiliate import rules
from core.errors import DomainError

HOSTS = {"www.aliexpress.com", "aliexpress.com"}


@pytest.mark.parametrize(
    ("level", "minimum", "ok"), [(3, 3, True), (2, 3, False), (5, 3, True), (3, 4, False)]
)
def test_a2_store_level_boundary_and_refusal_names_the_level(level, minimum, ok):
    if ok:
        rules.check_store_level(level=level, min_level=minimum)
        return
    with pytest.raises(DomainError) as exc:
        rules.check_store_level(level=level, min_level=minimum)
    assert exc.value.code == "affiliate_store_level"
    assert f"L{minimum}" in exc.value.message
    assert f"L{level}" in exc.value.message


@pytest.mark.parametrize(
    ("rate", "ok"),
    [(49, False), (50, True), (51, True), (1999, True), (2000, True), (2001, False), (0, False)],
)
def test_a2_rate_between_half_percent_and_twenty_percent(rate, ok):
    if ok:
        assert rules.check_rate_bp(rate, min_bp=50, max_bp=2000) == rate
    else:
        with pytest.raises(DomainError, match=r"between 0\.5% and 20%"):
            rules.check_rate_bp(rate, min_bp=50, max_bp=2000)


@pytest.mark.parametrize("bad", [True, 1.5, "100", None])
def test_a2_rate_must_be_whole_basis_points(bad):
    with pytest.raises(DomainError) as exc:
        rules.check_rate_bp(bad, min_bp=50, max_bp=2000)
    assert exc.value.code == "affiliate_invalid_rate"


@pytest.mark.parametrize(("amount", "ok"), [(0, True), (3000, True), (-1, False), (True, False)])
def test_a2_minimum_order_amount(amount, ok):
    if ok:
        assert rules.check_min_order_minor(amount) == amount
    else:
        with pytest.raises(DomainError):
            rules.check_min_order_minor(amount)


@pytest.mark.parametrize(
    ("order", "minimum", "earns"), [(2850, 3000, False), (3000, 3000, True), (2999, 3000, False)]
)
def test_a2_commission_from_thirty_dollars(order, minimum, earns):
    assert rules.meets_minimum(order_minor=order, min_order_minor=minimum) is earns


@pytest.mark.parametrize(
    ("trial", "existing", "ok"), [(True, 0, True), (True, 1, False), (False, 5, True)]
)
def test_a1_trial_promoter_has_one_pid(trial, existing, ok):
    if ok:
        rules.check_pid_count(trial=trial, existing=existing)
    else:
        with pytest.raises(DomainError) as exc:
            rules.check_pid_count(trial=trial, existing=existing)
        assert exc.value.code == "affiliate_trial_one_pid"


@pytest.mark.parametrize(
    "url",
    [
        "https://www.aliexpress.com/item/1.html",
        "https://aliexpress.com/store/9?x=1",
        "https://WWW.AliExpress.com/item/1.html",
    ],
)
def test_a4_destination_on_allowed_host(url):
    assert rules.check_destination(url, hosts=HOSTS).startswith("https://")


@pytest.mark.parametrize(
    "url",
    [
        "//evil.com",
        "///evil.com",
        "https://evil.com/",
        "https://www.aliexpress.com@evil.com/",
        "https://evil.com@www.aliexpress.com/",
        "https://www.aliexpress.com.evil.com/",
        "javascript:alert(1)",
        "JavaScript://www.aliexpress.com/%0aalert(1)",
        "data:text/html,<script>",
        "http://www.aliexpress.com/",
        "https:\\\\evil.com",
        "https://www.aliexpress.com\\@evil.com",
        "https://www.aliexpress.com%2F@evil.com",
        "https://www.aliexpress.com%252F%2540evil.com",
        "https://www.aliexpress.com/%5C%5Cevil.com",
        "https://www.aliexpress.com/%0d%0aLocation:%20https://evil.com",
        "https://www.aliexpress.com:8443/",
        " https://www.aliexpress.com/",
        "https://www.aliexpress.com/ item",
        "/t/relative",
        "",
        None,
        "https://" + "a" * 1000,
    ],
)
def test_a4_open_redirect_attempts_fail(url):
    with pytest.raises(DomainError) as exc:
        rules.check_destination(url, hosts=HOSTS)
    assert exc.value.code == "affiliate_bad_destination"


def _base(**kw):
    args = {
        "paid_minor": 100_00,
        "platform_subsidy_minor": 0,
        "cashback_red_packet_minor": 0,
        "shipping_fee_minor": 10_00,
        "logistics_service": "aliexpress_standard",
        "platform_fee_bp": 500,
    }
    args.update(kw)
    return rules.commission_base_minor(**args)


@pytest.mark.parametrize(
    ("kw", "base"),
    [
        ({}, 95_00),  # 100 − 5% fee; the standard line keeps the full base
        ({"logistics_service": ""}, 95_00),  # not shipped yet: counts as standard
        ({"logistics_service": "aliexpress_saver"}, 85_00),  # other lines deduct freight
        ({"logistics_service": "dhl"}, 85_00),
        ({"platform_subsidy_minor": 3_00}, 92_00),
        ({"cashback_red_packet_minor": 2_00}, 93_00),
        ({"platform_fee_bp": 0}, 100_00),
        ({"paid_minor": 99}, 95),  # the fee rounds down: 4.95 → 4
        ({"paid_minor": 5_00, "logistics_service": "dhl"}, 0),  # never below zero
    ],
)
def test_a7_commission_base(kw, base):
    assert _base(**kw) == base


@pytest.mark.parametrize(
    ("base", "lines", "cent", "amount"),
    [
        (95_00, [(100, 1000)], False, 9_50),  # 10% of ¥95
        (95_00, [(50, 1000), (50, 2000)], False, 14_25),  # half at 10%, half at 20%
        (100_00, [(30, 50), (70, 2000)], False, 14_15),  # 0.15 + 14.00
        (99, [(1, 1000)], False, 10),  # 9.9 → 10: exactly the floor, kept
        (94, [(1, 1000)], False, 0),  # 9.4 → 9: under $0.10 → 0
        (94, [(1, 1000)], True, 9),  # the "$0.01 minimum" switch keeps it
        (5, [(1, 1000)], True, 1),  # 0.5 rounds half up to 1
        (4, [(1, 1000)], True, 0),  # 0.4 → 0 even with the switch
        (0, [(1, 1000)], True, 0),
        (100, [], True, 0),
    ],
)
def test_a7_a8_commission_and_rounding(base, lines, cent, amount):
    assert (
        rules.commission_minor(base_minor=base, lines=lines, cent_minimum=cent, floor_minor=10)
        == amount
    )


@pytest.mark.parametrize(
    ("amount", "refunded", "paid", "target"),
    [
        (10_00, 0, 100_00, 0),
        (10_00, 50_00, 100_00, 5_00),  # half refunded → half reversed
        (10_00, 33_33, 100_00, 3_34),  # rounded up: what stays never exceeds its share
        (10_00, 100_00, 100_00, 10_00),
        (10_00, 150_00, 100_00, 10_00),  # never more than issued
        (0, 50_00, 100_00, 0),
    ],
)
def test_a6_proportional_reversal(amount, refunded, paid, target):
    assert (
        rules.reversal_target_minor(amount_minor=amount, refunded_minor=refunded, paid_minor=paid)
        == target
    )


T0 = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("placed", "ok"),
    [
        (T0, True),
        (T0 + timedelta(days=7), True),
        (T0 + timedelta(days=7, seconds=1), False),
        (T0 - timedelta(seconds=1), False),
    ],
)
def test_a5_attribution_window(placed, ok):
    assert rules.within_window(clicked_at=T0, placed_at=placed, window=timedelta(days=7)) is ok


@pytest.mark.parametrize(
    ("idle_days", "state"),
    [(22, "active"), (23, "warn"), (29, "warn"), (30, "freeze"), (40, "freeze")],
)
def test_a3_freeze_state(idle_days, state):
    assert (
        rules.freeze_state(
            last_activity=T0,
            now=T0 + timedelta(days=idle_days),
            warn_after=timedelta(days=23),
            freeze_after=timedelta(days=30),
        )
        == state
    )


def test_a2_a7_registry_defaults(db):
    assert rules.rate_min_bp() == 50
    assert rules.rate_max_bp() == 2000
    assert rules.pid_freeze_after() == timedelta(days=30)
    assert rules.pid_warn_after() == timedelta(days=23)
    assert rules.attribution_window() == timedelta(days=7)
    assert rules.rounding_floor_minor() == 10
    assert rules.platform_fee_bp() == 500
    assert rules.return_window() == timedelta(days=15)
    assert rules.min_store_level() == 3


def test_a8_s0_the_ten_cent_floor_is_converted_to_the_orders_currency(db):
    # given: 7.1 yuan and 1,380 won per dollar from June 1st
    from datetime import date
    from decimal import Decimal

    from core.models import FxRate

    FxRate.objects.create(currency="CNY", day=date(2026, 6, 1), units_per_usd=Decimal("7.1"))
    FxRate.objects.create(currency="KRW", day=date(2026, 6, 1), units_per_usd=Decimal("1380"))
    on = date(2026, 6, 2)
    # then: $0.10 = ¥0.71 = ₩138; US dollars need no rate
    assert rules.rounding_floor_minor("USD", on=on) == 10
    assert rules.rounding_floor_minor("CNY", on=on) == 71
    assert rules.rounding_floor_minor("KRW", on=on) == 138
    # ¥0.70 is under the floor, ¥0.71 is not; with the promoter's switch ¥0.70 is kept
    floor = rules.rounding_floor_minor("CNY", on=on)
    assert (
        rules.commission_minor(
            base_minor=700, lines=[(1, 1000)], cent_minimum=False, floor_minor=floor
        )
        == 0
    )
    assert (
        rules.commission_minor(
            base_minor=710, lines=[(1, 1000)], cent_minimum=False, floor_minor=floor
        )
        == 71
    )
    assert (
        rules.commission_minor(
            base_minor=700, lines=[(1, 1000)], cent_minimum=True, floor_minor=floor
        )
        == 70
    )
    # before any rate applies, the currency's own ten minor units (logged, not guessed)
    assert rules.rounding_floor_minor("CNY", on=date(2026, 5, 31)) == 10
