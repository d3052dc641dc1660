"""The one clock of the product. Tests travel with time-machine; code calls ``now()``."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone


def now() -> datetime:
    return timezone.now()


def platform_tz() -> ZoneInfo:
    return ZoneInfo(settings.PLATFORM_TIME_ZONE)


def natural_day(at: datetime | None = None) -> date:
    """The calendar day of ``at`` in the platform time zone (SPEC §0 "natural day")."""
    return (at or now()).astimezone(platform_tz()).date()


def day_start(day: date) -> datetime:
    """The UTC instant at which a natural day begins."""
    return datetime.combine(day, time.min, tzinfo=platform_tz())


def day_range(day: date) -> tuple[datetime, datetime]:
    start = day_start(day)
    return start, day_start(day + timedelta(days=1))
