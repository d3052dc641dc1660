"""core.clock: natural days in the platform time zone (SPEC §0, Asia/Shanghai)."""

from datetime import UTC, date, datetime

import time_machine
from django.test import override_settings

from core import clock


def test_an_instant_at_17_utc_is_the_next_day_in_shanghai():
    # given: 17:00 UTC on 1 March is 01:00 on 2 March in Asia/Shanghai (UTC+8)
    instant = datetime(2025, 3, 1, 17, 0, tzinfo=UTC)

    # when
    day = clock.natural_day(instant)

    # then
    assert day == date(2025, 3, 2)


def test_an_instant_at_15_59_utc_is_still_the_same_day_in_shanghai():
    # then: 23:59 in Shanghai
    assert clock.natural_day(datetime(2025, 3, 1, 15, 59, tzinfo=UTC)) == date(2025, 3, 1)
    assert clock.natural_day(datetime(2025, 3, 1, 16, 0, tzinfo=UTC)) == date(2025, 3, 2)


def test_natural_day_defaults_to_now_and_travels_with_time_machine():
    # given
    with time_machine.travel(datetime(2025, 12, 31, 17, 0, tzinfo=UTC), tick=False):
        # when
        today = clock.natural_day()
        now = clock.now()

    # then: New Year in Shanghai while it is still 31 December in UTC
    assert today == date(2026, 1, 1)
    assert now == datetime(2025, 12, 31, 17, 0, tzinfo=UTC)


def test_day_start_and_range_are_shanghai_midnights():
    # when
    start, end = clock.day_range(date(2025, 3, 2))

    # then: 00:00 Shanghai = 16:00 UTC the previous day
    assert start == datetime(2025, 3, 1, 16, 0, tzinfo=UTC)
    assert end == datetime(2025, 3, 2, 16, 0, tzinfo=UTC)
    assert clock.natural_day(start) == date(2025, 3, 2)
    assert clock.natural_day(end) == date(2025, 3, 3)


@override_settings(PLATFORM_TIME_ZONE="America/New_York")
def test_the_platform_time_zone_is_a_setting():
    # given: 03:00 UTC on 2 March is 22:00 on 1 March in New York (UTC-5)
    instant = datetime(2025, 3, 2, 3, 0, tzinfo=UTC)

    # then
    assert clock.natural_day(instant) == date(2025, 3, 1)
