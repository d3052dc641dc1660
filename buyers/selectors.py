"""Buyer reads for the platform admin: the risk signals of a buyer (SPEC B-4, B-5, velocity) and
the registration-abuse monitor (registrations and code sends per hour by country, IP prefix and
device, with spikes marked)."""

from __future__ import annotations

import ipaddress
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from core import clock

from . import rules
from .models import Buyer, RiskStatus, VerificationCode

# The monitor reads at most this many rows per source (newest first): a flood beyond it is
# already a spike, and the page stays fast.
MONITOR_ROW_CAP = 50_000
SPIKE_MIN = 10  # fewer events in the last hour are never a spike
SPIKE_FACTOR = 3  # … else a spike when over 3× the bucket's hourly mean of the previous 23 h


def ip_prefix(ip: str | None) -> str:
    """/24 for IPv4, /48 for IPv6: the unit an abuser rotates addresses within."""
    if not ip:
        return "—"
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return "—"
    bits = 24 if addr.version == 4 else 48
    return str(ipaddress.ip_network(f"{addr}/{bits}", strict=False))


def review_queue() -> QuerySet[Buyer]:
    """Buyers in risk review or flagged (suspected fraud, low activity), with the device reuse
    count of the B-5 window annotated (one subquery, served by ``buyer_device_registered``)."""
    since = clock.now() - rules.device_window()
    same_device = (
        Buyer.objects.filter(device_id=OuterRef("device_id"), registered_at__gt=since)
        .exclude(device_id="")
        .order_by()
        .values("device_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return (
        Buyer.objects.filter(
            Q(risk_status__in=[RiskStatus.RISK_REVIEW, RiskStatus.SUSPECTED_FRAUD])
            | Q(low_activity=True)
        )
        .annotate(device_registrations=Coalesce(Subquery(same_device[:1]), 0))
        .order_by("-registered_at")
    )


def velocity(*, buyer: Buyer, window: timedelta = timedelta(hours=1)) -> dict[str, int]:
    """Registrations around this buyer's: from the same IP prefix and the same device within
    ``window`` either side of its registration."""
    start, end = buyer.registered_at - window, buyer.registered_at + window
    around = Buyer.objects.filter(registered_at__range=(start, end), source=buyer.source)
    prefix = ip_prefix(str(buyer.registration_ip) if buyer.registration_ip else None)
    same_prefix = 0
    if prefix != "—":
        network = ipaddress.ip_network(prefix)
        for ip in around.exclude(registration_ip=None).values_list("registration_ip", flat=True)[
            :MONITOR_ROW_CAP
        ]:
            if ip and ipaddress.ip_address(ip) in network:
                same_prefix += 1
    same_device = around.filter(device_id=buyer.device_id).count() if buyer.device_id else 0
    return {"same_ip_prefix": same_prefix, "same_device": same_device}


@dataclass
class Bucket:
    key: str
    last_hour: int
    previous_mean: float
    spike: bool


@dataclass
class MonitorTable:
    title: str
    rows: list[Bucket] = field(default_factory=list)


@dataclass
class Monitor:
    hours: list[datetime]
    registrations_per_hour: list[int]
    codes_per_hour: list[int]
    tables: list[MonitorTable]


def _hour(at: datetime) -> datetime:
    return at.replace(minute=0, second=0, microsecond=0)


def _buckets(events: list[tuple[datetime, str]], *, now: datetime) -> list[Bucket]:
    recent: Counter[str] = Counter()
    earlier: Counter[str] = Counter()
    cut = now - timedelta(hours=1)
    for at, key in events:
        (recent if at >= cut else earlier)[key] += 1
    out = []
    for key in set(recent) | set(earlier):
        mean = earlier[key] / 23
        n = recent[key]
        out.append(
            Bucket(
                key=key,
                last_hour=n,
                previous_mean=round(mean, 1),
                spike=n >= SPIKE_MIN and n > SPIKE_FACTOR * mean,
            )
        )
    out.sort(key=lambda b: (not b.spike, -b.last_hour, -b.previous_mean, b.key))
    return out[:20]


def abuse_monitor(*, now: datetime | None = None) -> Monitor:
    """The last 24 hours of registrations and code sends, per hour and by country, IP prefix and
    device; a bucket whose last hour is far above its usual rate is a spike."""
    now = now or clock.now()
    since = now - timedelta(hours=24)
    regs = list(
        Buyer.objects.filter(registered_at__gt=since, source="signup")
        .order_by("-registered_at")
        .values_list("registered_at", "ip_country", "country", "registration_ip", "device_id")[
            :MONITOR_ROW_CAP
        ]
    )
    codes = list(
        VerificationCode.objects.filter(created_at__gt=since)
        .order_by("-created_at")
        .values_list("created_at", "country", "ip", "device_id", "channel")[:MONITOR_ROW_CAP]
    )
    hours = [_hour(now) - timedelta(hours=h) for h in range(23, -1, -1)]
    per_hour_regs: dict[datetime, int] = defaultdict(int)
    per_hour_codes: dict[datetime, int] = defaultdict(int)
    for reg in regs:
        per_hour_regs[_hour(reg[0])] += 1
    for code in codes:
        per_hour_codes[_hour(code[0])] += 1
    tables = [
        MonitorTable(
            _("registrations by country (IP, else declared)"),
            _buckets([(r[0], r[1] or r[2]) for r in regs], now=now),
        ),
        MonitorTable(
            _("registrations by IP prefix"),
            _buckets([(r[0], ip_prefix(r[3] and str(r[3]))) for r in regs], now=now),
        ),
        MonitorTable(
            _("registrations by device"),
            _buckets([(r[0], r[4] or "—") for r in regs], now=now),
        ),
        MonitorTable(
            _("code sends by country"), _buckets([(c[0], c[1] or "—") for c in codes], now=now)
        ),
        MonitorTable(
            _("code sends by IP prefix"),
            _buckets([(c[0], ip_prefix(c[2] and str(c[2]))) for c in codes], now=now),
        ),
        MonitorTable(
            _("code sends by device"), _buckets([(c[0], c[3] or "—") for c in codes], now=now)
        ),
        MonitorTable(_("code sends by channel"), _buckets([(c[0], c[4]) for c in codes], now=now)),
    ]
    return Monitor(
        hours=hours,
        registrations_per_hour=[per_hour_regs[h] for h in hours],
        codes_per_hour=[per_hour_codes[h] for h in hours],
        tables=tables,
    )


@dataclass(frozen=True)
class CustomersToWatch:
    customers: int  # buyers who ordered from the shop in the window
    in_review: int  # … of them in risk review or suspected of fraud (SPEC B-4, B-5)
    low_activity: int  # … of them flagged low activity (SPEC B-6)


def customers_to_watch(*, shop, days: int = 30, now: datetime | None = None) -> CustomersToWatch:
    """The shop's customers of the last ``days`` days that the buyer checks flagged (one query).

    Read through ``Buyer``'s reverse relation to the orders that reference it (``buyers`` does
    not import ``orders``, DESIGN §1)."""
    since = (now or clock.now()) - timedelta(days=days)
    ordered = Buyer.objects.filter(orders__shop=shop, orders__placed_at__gte=since).values("pk")
    row = Buyer.objects.filter(pk__in=ordered).aggregate(
        customers=Count("pk"),
        in_review=Count("pk", filter=~Q(risk_status=RiskStatus.OK)),
        low_activity=Count("pk", filter=Q(low_activity=True)),
    )
    return CustomersToWatch(**row)


def same_person(*, buyer_id: int, email: str) -> str | None:
    """Whether the buyer ``buyer_id`` is the holder of ``email`` (someone else's contact, e.g. an
    affiliate promoter's): ``"account"`` when it is that buyer account, ``"device"`` when it
    registered on the device of that account, else None. Two queries at most; no contact leaves
    this module."""
    email = (email or "").strip().casefold()
    if not email:
        return None
    own = Buyer.objects.filter(email=email).values_list("pk", "device_id").first()
    if own is None:
        return None
    if own[0] == buyer_id:
        return "account"
    if own[1] and Buyer.objects.filter(pk=buyer_id, device_id=own[1]).exists():
        return "device"
    return None
