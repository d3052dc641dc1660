"""The home tile's reads (DESIGN §2: a tile runs at most two queries).

One query on the shop row answers everything but the eligibility GMV: whether marketing email
is enabled, the chosen sender domain's status, what the brand profile and templates still
miss (M-2), the campaigns sending, scheduled or paused, the open auto-pause (M-12), the
breach days of the last ``pause_after_days`` natural days, the last sent campaign's delivery
figures (M-12's formula: delivered of those that left or bounced), and the serious violations
the M-1 checks count. Before enabling, the second query is the M-1 GMV.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db.models import Count, Exists, IntegerField, OuterRef, Q, Subquery

from core import clock
from shops.models import Shop, Violation

from . import rules
from .models import (
    BrandProfile,
    Campaign,
    CampaignStatus,
    HealthDay,
    MailingAccount,
    MailTemplate,
    Message,
    SenderDomain,
    SendingPause,
)


@dataclass(frozen=True)
class TileState:
    enabled: bool
    violations: int  # serious violations in the M-1 window (for the eligibility checks)
    domain: str = ""
    domain_status: str = ""
    setup_missing: list[str] = field(default_factory=list)  # "domain", "brand", "template"
    sending: int = 0
    scheduled: int = 0
    paused: int = 0
    pause_started_at: datetime | None = None
    breach_days: int = 0  # of the last ``window`` natural days
    window: int = 0
    last_campaign_id: int | None = None
    last_campaign: str = ""
    last_attempted: int = 0
    last_bounced: int = 0

    @property
    def delivery_rate(self) -> Decimal | None:
        """The last sent campaign's delivery rate, percent (None: nothing left)."""
        return rules.rate(self.last_attempted - self.last_bounced, self.last_attempted)

    @property
    def delivery_below(self) -> bool:
        rate = self.delivery_rate
        return rate is not None and rate < rules.delivery_rate_min()


def _count(qs, column: str = "shop") -> Subquery:
    return Subquery(
        qs.order_by().values(column).annotate(n=Count("pk")).values("n")[:1],
        output_field=IntegerField(),
    )


def tile_state(*, shop: Shop, at: datetime | None = None) -> TileState:
    """The mailing tile's state in one query (see the module docstring)."""
    at = at or clock.now()
    today: date = clock.natural_day(at)
    window = rules.pause_after_days()
    campaigns = Campaign.objects.filter(shop=OuterRef("pk"))
    last = (
        Campaign.objects.filter(shop=OuterRef("pk"), status=CampaignStatus.SENT)
        .order_by("-finished_at", "-pk")
        .values("pk")[:1]
    )
    left = Message.objects.filter(campaign=OuterRef("last_id")).filter(
        Q(sent_at__isnull=False) | ~Q(bounce="")
    )
    account = MailingAccount.objects.filter(shop=OuterRef("pk"))
    brand = BrandProfile.objects.filter(shop=OuterRef("pk"))
    row = (
        Shop.objects.filter(pk=shop.pk)
        .annotate(
            account_kind=Subquery(account.values("sender_kind")[:1]),
            domain_name=Subquery(
                SenderDomain.objects.filter(
                    shop=OuterRef("pk"), kind=OuterRef("account_kind")
                ).values("domain")[:1]
            ),
            domain_status=Subquery(
                SenderDomain.objects.filter(
                    shop=OuterRef("pk"), kind=OuterRef("account_kind")
                ).values("status")[:1]
            ),
            brand_ok=Exists(
                brand.exclude(physical_address="")
                .exclude(service_phone="")
                .filter(logo__isnull=False)
            ),
            has_template=Exists(MailTemplate.objects.filter(shop=OuterRef("pk"))),
            n_sending=_count(campaigns.filter(status=CampaignStatus.SENDING)),
            n_scheduled=_count(campaigns.filter(status=CampaignStatus.SCHEDULED)),
            n_paused=_count(campaigns.filter(status=CampaignStatus.PAUSED)),
            pause_at=Subquery(
                SendingPause.objects.filter(shop=OuterRef("pk"), ended_at__isnull=True).values(
                    "started_at"
                )[:1]
            ),
            breach_days=_count(
                HealthDay.objects.filter(
                    shop=OuterRef("pk"),
                    day__gte=today - timedelta(days=window),
                    day__lt=today,
                ).exclude(breaches=[])
            ),
            last_id=Subquery(last),
            last_name=Subquery(Campaign.objects.filter(pk=OuterRef("last_id")).values("name")[:1]),
            last_attempted=_count(left, "campaign"),
            last_bounced=_count(left.exclude(bounce=""), "campaign"),
            serious=_count(
                Violation.objects.filter(
                    shop=OuterRef("pk"),
                    serious=True,
                    occurred_at__gt=at - timedelta(days=rules.violation_window_days()),
                    occurred_at__lte=at,
                )
            ),
        )
        .values(
            "account_kind",
            "domain_name",
            "domain_status",
            "brand_ok",
            "has_template",
            "n_sending",
            "n_scheduled",
            "n_paused",
            "pause_at",
            "breach_days",
            "last_id",
            "last_name",
            "last_attempted",
            "last_bounced",
            "serious",
        )
        .get()
    )
    violations = int(row["serious"] or 0)
    if row["account_kind"] is None:
        return TileState(enabled=False, violations=violations)
    missing = []
    if row["domain_status"] != "verified":
        missing.append("domain")
    if not row["brand_ok"]:
        missing.append("brand")
    if not row["has_template"]:
        missing.append("template")
    return TileState(
        enabled=True,
        violations=violations,
        domain=row["domain_name"] or "",
        domain_status=row["domain_status"] or "",
        setup_missing=missing,
        sending=int(row["n_sending"] or 0),
        scheduled=int(row["n_scheduled"] or 0),
        paused=int(row["n_paused"] or 0),
        pause_started_at=row["pause_at"],
        breach_days=int(row["breach_days"] or 0),
        window=window,
        last_campaign_id=row["last_id"],
        last_campaign=row["last_name"] or "",
        last_attempted=int(row["last_attempted"] or 0),
        last_bounced=int(row["last_bounced"] or 0),
    )


__all__ = ["TileState", "tile_state"]
