"""The monthly coin-activity grade (SPEC C-10): the pure formula at each threshold, what lifts
the grade, the monthly task storing it per shop and month, and the grade page."""

from datetime import date, datetime
from decimal import Decimal

import pytest
import time_machine
from coinkit import coin_order, coin_product, coin_shop, give
from django.urls import reverse
from factories import make_buyer

from coins import rules, services, tasks
from coins.models import CoinGrade
from core import clock

N = rules.GradeNumbers(
    volume_full_coins=200_000,
    volume_points=Decimal(50),
    redemption_full_percent=Decimal("63.5"),
    redemption_points=Decimal(35),
    participation_full=2,
    participation_points=Decimal(15),
    a_min=Decimal(80),
    b_min=Decimal(60),
    c_min=Decimal(40),
    a_exposure_factor=Decimal("1.8"),
    a_search_boost_percent=Decimal(12),
)


def grade(issued, redeemed=0, participation=0, numbers=N):
    return rules.grade_for(
        issued_coins=issued, redeemed_coins=redeemed, participation=participation, numbers=numbers
    )


def test_c10_defaults_are_in_the_registry(db):
    from dataclasses import replace

    n = rules.grade_numbers()
    # the tests below pin the formula with a 200,000-coin full volume; the default is 50,000
    assert n == replace(N, volume_full_coins=50_000)
    assert rules.industry_redemption_percent() == Decimal("63.5")


@pytest.mark.parametrize(
    ("issued", "expected_score", "letter"),
    [
        # volume alone: 50 points at 200,000 coins; each coin 0.00025 points
        (160_000, Decimal("40.00"), "C"),  # exactly at C
        (159_999, Decimal("39.99"), "D"),  # one coin under
        (0, Decimal("0.00"), "D"),
    ],
)
def test_c10_volume_points_and_the_c_threshold(issued, expected_score, letter):
    result = grade(issued)
    assert (result.score, result.grade) == (expected_score, letter)


def test_c10_b_threshold_exactly_and_just_under():
    # 50 volume + redemption 10 points: rate 10/35 × 63.5 = 18.142857…% → 18.15% gives 10.00
    at = grade(200_000, redeemed=36_300)  # 18.15%
    assert at.redemption_percent == Decimal("18.15")
    assert (at.score, at.grade) == (Decimal("60.00"), "B")
    under = grade(200_000, redeemed=36_280)  # 18.14% → 9.99 points
    assert (under.score, under.grade) == (Decimal("59.99"), "C")


def test_c10_a_threshold_exactly_and_just_under():
    # 50 + 30 = 80: rate 30/35 × 63.5 = 54.428…% → 54.43% gives 30.00
    at = grade(200_000, redeemed=108_860)  # 54.43%
    assert (at.score, at.grade) == (Decimal("80.00"), "A")
    under = grade(200_000, redeemed=108_840)  # 54.42% → 29.99
    assert (under.score, under.grade) == (Decimal("79.99"), "B")


def test_c10_every_share_is_capped_and_participation_counts():
    full = grade(10**9, redeemed=10**9, participation=99)
    assert full.score == Decimal("100.00")
    assert full.redemption_percent == Decimal("100")
    one = grade(0, participation=1)
    assert one.participation_points == Decimal("7.50")


def test_c10_registry_moves_the_thresholds():
    strict = rules.GradeNumbers(**{**N.__dict__, "c_min": Decimal("40.01")})
    assert grade(160_000, numbers=strict).grade == "D"


@pytest.mark.parametrize(
    ("issued", "redeemed"),
    [(10_000, 0), (100_000, 20_000), (200_000, 36_280), (150_000, 90_000), (0, 0)],
)
def test_c10_what_lifts_the_grade_is_a_gap_that_really_reaches_the_next_grade(issued, redeemed):
    result = grade(issued, redeemed)
    gap = rules.grade_gap(result, N, issued_coins=issued)
    assert gap is not None
    assert gap.points > 0
    order = "DCBA"
    assert order.index(gap.next_grade) == order.index(result.grade) + 1
    if gap.more_coins:
        # issuing that many more at the same redemption rate reaches the next grade …
        total = issued + gap.more_coins
        lifted = grade(total, redeemed * total // issued if issued else 0)
        assert order.index(lifted.grade) >= order.index(gap.next_grade)
        # … and one coin fewer does not (it is the concrete gap, not a guess)
        if gap.more_coins > 1 and redeemed == 0:
            assert grade(total - 1).grade == result.grade
    if gap.redemption_percent_needed:
        needed = issued * gap.redemption_percent_needed / 100
        lifted = grade(issued, int(needed) + 1)
        assert order.index(lifted.grade) >= order.index(gap.next_grade)
    assert gap.more_coins or gap.redemption_percent_needed


def test_c10_grade_a_has_no_gap():
    assert rules.grade_gap(grade(10**6, 10**6), N, issued_coins=10**6) is None


@pytest.mark.django_db
def test_c10_monthly_task_stores_last_months_grade_per_shop_once(shop_a, shop_b):
    # given: in November shop A issues 40,000 coins and redeems some; shop B has no account
    nov = datetime(2026, 11, 10, 12, tzinfo=clock.platform_tz())
    with time_machine.travel(nov, tick=False):
        coin_shop(shop_a, fund=1_000_000)
        buyer = make_buyer()
        give(shop_a, buyer, 40_000)
        coin_order(shop_a, buyer, coin_product(shop_a), 100)
    # when: the task runs on 1 December (twice: at-least-once delivery)
    with time_machine.travel(datetime(2026, 12, 1, 10, 10, tzinfo=clock.platform_tz()), tick=False):
        assert tasks.coins_grade_task.delay().get() == 1
        assert tasks.coins_grade_task.delay().get() == 1
    # then: one row for shop A, November, with its inputs
    g = CoinGrade.objects.get()
    assert (g.shop_id, g.month) == (shop_a.pk, date(2026, 11, 1))
    assert (g.issued_coins, g.redeemed_coins, g.participation) == (40_000, 100, 0)
    assert g.grade == "C"  # 40 volume points (0.25% redeemed: 0.13 more)


@pytest.mark.django_db
def test_c10_grade_page_shows_grade_inputs_benefit_and_gap(
    shop_a, analyst_client, django_assert_max_num_queries
):
    coin_shop(shop_a, fund=1_000_000)
    give(shop_a, make_buyer(), 25_000)
    services.grade_compute(shop=shop_a, month=date(2026, 1, 1))
    with django_assert_max_num_queries(20):
        response = analyst_client.get(reverse("coins:grade"))
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="grade-letter">D<' in body  # the stored month (no coins in January)
    assert 'id="live-grade">D<' in body  # 25,000 of the 50,000-coin volume: 25 points
    assert "×1.8" in body
    assert "+12%" in body
    # the gap to C: 15 points = 15,000 more coins
    assert "Issue 15,000 more coins" in body
    assert "C-10" not in body


@pytest.mark.django_db
def test_c10_grade_page_without_an_account_says_how_to_open_it(shop_a, owner_client):
    response = owner_client.get(reverse("coins:grade"))
    assert response.status_code == 200
    assert "open it" in response.content.decode()


@pytest.mark.django_db
def test_c10_raising_the_redemption_rate_links_to_the_coin_products(shop_a, analyst_client):
    # given: 25,000 coins issued this month, none redeemed (grade D, C in reach)
    coin_shop(shop_a, fund=1_000_000)
    give(shop_a, make_buyer(), 25_000)
    # when
    body = analyst_client.get(reverse("coins:grade")).content.decode()
    # then: the redemption lever points to where coin deduction is switched on
    gap = body.split('id="grade-gap"', 1)[1].split("</ul>", 1)[0]
    assert "Raise the redemption rate" in gap
    assert f'<a href="{reverse("coins:products")}">' in gap
    assert f'<a href="{reverse("coins:index")}">' not in gap


def test_c10_gap_names_the_exact_points_coins_and_rate_to_the_next_grade():
    # 100,000 coins (25.00) + one activity (7.50) = 32.50, D: 7.50 points to C. By volume alone
    # C needs 40 - 7.50 = 32.50 volume points = 130,000 coins (30,000 more); by redemption alone
    # 40 - 25 - 7.50 = 7.50 points = 7.50 / 35 × 63.5% = 13.607…% → 13.61% (rounded up)
    result = grade(100_000, participation=1)
    assert rules.grade_gap(result, N, issued_coins=100_000) == rules.GradeGap(
        "C", Decimal("7.50"), 30_000, Decimal("13.61")
    )


def test_c10_gap_has_no_volume_lever_when_volume_alone_cannot_reach_the_next_grade():
    # 200,000 coins: 50.00, C; B needs 60 > the 50 volume points → only the redemption rate
    result = grade(200_000)
    gap = rules.grade_gap(result, N, issued_coins=200_000)
    assert gap == rules.GradeGap("B", Decimal("10.00"), None, Decimal("18.15"))
    assert gap.more_coins is None


@pytest.mark.parametrize(
    ("issued", "redeemed", "participation", "expected"),
    [
        # volume needed exactly the volume points (50): still a volume lever
        (120_000, 21_780, 0, ("B", "20.00", 80_000, "54.43")),
        # redemption needed exactly the redemption points (35): the full 63.5%
        (20_000, 0, 0, ("C", "35.00", 140_000, "63.50")),
        # under one point of volume needed (0.48 → 1,920 coins in all)
        (1_000, 581, 1, ("C", "0.23", 920, "58.52")),
        # under one point of redemption needed (0.75 → 1.37%)
        (127_000, 0, 1, ("C", "0.75", 3_000, "1.37")),
        # one coin short of C: exactly one more coin
        (159_999, 0, 0, ("C", "0.01", 1, "0.02")),
        # no coins issued: no rate can be asked for; one coin issued: it can
        (0, 0, 1, ("C", "32.50", 130_000, None)),
        (1, 0, 1, ("C", "32.50", 129_999, "58.97")),
    ],
)
def test_c10_gap_at_the_edges_of_each_lever(issued, redeemed, participation, expected):
    result = grade(issued, redeemed, participation)
    nxt, points, coins, rate = expected
    assert rules.grade_gap(result, N, issued_coins=issued) == rules.GradeGap(
        nxt, Decimal(points), coins, None if rate is None else Decimal(rate)
    )


@pytest.mark.parametrize("full_coins", [33_333, 70_001, 200_000])
@pytest.mark.parametrize(("issued", "participation"), [(1_000, 1), (20_000, 0), (12_345, 2)])
def test_c10_more_coins_is_exactly_enough_for_the_next_grade(full_coins, issued, participation):
    # a registry volume that does not divide into whole coins per cent of a point: the volume
    # lever names the fewest coins that reach the next grade, never one short
    from dataclasses import replace

    numbers = replace(N, volume_full_coins=full_coins)
    result = grade(issued, participation=participation, numbers=numbers)
    gap = rules.grade_gap(result, numbers, issued_coins=issued)
    assert gap is not None
    assert gap.more_coins is not None
    reached = grade(issued + gap.more_coins, participation=participation, numbers=numbers)
    short = grade(issued + gap.more_coins - 1, participation=participation, numbers=numbers)
    assert reached.grade == gap.next_grade
    assert short.grade == result.grade


def test_c10_redemption_rate_edges():
    assert rules.redemption_percent(issued=1, redeemed=1) == Decimal(100)  # one coin issued
    assert rules.redemption_percent(issued=3, redeemed=2) == Decimal("66.66")  # rounded down
    assert rules.redemption_percent(issued=200, redeemed=202) == Decimal(100)  # capped at 100
    assert rules.redemption_percent(issued=0, redeemed=5) == Decimal(0)


def test_c10_a_full_mark_of_zero_gives_every_point_and_of_one_needs_one():
    from dataclasses import replace

    assert grade(0, numbers=replace(N, volume_full_coins=0)).volume_points == Decimal(50)
    assert grade(0, numbers=replace(N, volume_full_coins=1)).volume_points == Decimal(0)
    assert grade(-5, numbers=replace(N, volume_full_coins=1)).volume_points == Decimal(0)
    one = replace(N, participation_full=1)
    assert grade(0, participation=0, numbers=one).participation_points == Decimal(0)
    assert grade(0, participation=1, numbers=one).participation_points == Decimal(15)
