"""Segments (SPEC M-4) and the audience query they share with the CRM pages (SPEC B-8).

The audience of a shop is its buyers (one row per buyer with an order there: the orders
module's ``buyer_summaries`` GROUP BY) plus the contacts it imported (M-13). A segment is a
``SegmentDefinition``; every condition becomes SQL on that one query, so a count is one query
however many buyers match (after a bounded check of how many consent records the shop has),
and recipients stream from a server-side cursor.

Public names other parts of mailing rely on (keep them stable):

- ``SegmentDefinition`` and ``definition_of(segment)``;
- ``audience(shop=…, definition=…, at=…)``: the buyers' values queryset, annotated;
- ``count(definition, *, shop)``: how many consenting recipients, one counting query (the
  live count and the pre-send checklist);
- ``recipients(segment, *, shop)``: an iterator of ``Recipient``, streamed;
- ``all_consenting(shop=…)``: the built-in "all consenting contacts" segment.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timedelta
from typing import Any

from django.db import connection
from django.db.models import Case, CharField, Exists, F, OuterRef, Q, QuerySet, Value, When
from django.utils.translation import gettext_lazy as _

from coins.selectors import buyers_with_coins_expiring
from core import clock
from orders.selectors import buyer_summaries, cart_activity
from shops.models import Shop

from . import rules, sites
from .models import ConsentStatus, ImportedContact, Segment

# --- RFM groups (SPEC B-8; Decision: SPEC names the column, not the groups) ---------------------
RFM_PROSPECT = "prospect"
RFM_CHAMPION = "champion"
RFM_NEW = "new"
RFM_ACTIVE = "active"
RFM_AT_RISK = "at_risk"
RFM_ONE_TIME = "one_time"
RFM_LAPSED = "lapsed"
RFM_GROUPS = {
    RFM_CHAMPION: _("Champions"),
    RFM_ACTIVE: _("Active"),
    RFM_NEW: _("New"),
    RFM_AT_RISK: _("At risk"),
    RFM_ONE_TIME: _("One-time"),
    RFM_LAPSED: _("Lapsed"),
    RFM_PROSPECT: _("No paid order yet"),
}

# --- consent states (SPEC M-3) -------------------------------------------------------------------
CONSENT_SUBSCRIBED = "subscribed"
CONSENT_AWAITING = "awaiting"
CONSENT_NOT_SUBSCRIBED = "not_subscribed"
CONSENT_SUPPRESSED = "suppressed"
CONSENT_NO_EMAIL = "no_email"
CONSENT_STATES = {
    CONSENT_SUBSCRIBED: _("Subscribed"),
    CONSENT_AWAITING: _("Awaiting double opt-in"),
    CONSENT_NOT_SUBSCRIBED: _("Not subscribed"),
    CONSENT_SUPPRESSED: _("Suppressed"),
    CONSENT_NO_EMAIL: _("No email address"),
}

FULFILMENT_DELIVERED = "delivered"
FULFILMENT_SHIPPED = "shipped"


@dataclass(frozen=True)
class SegmentDefinition:
    """The conditions of a segment (SPEC M-4); every one is optional (empty: everyone).

    Days count back from now: ``last_order_min_days=30, last_order_max_days=60`` is "last paid
    order 30 to 60 days ago", both ends included. Spend is in minor units of the shop's currency.
    """

    # abandoned cart: cart activity at least N days ago and no order placed since
    abandoned_cart_days: int | None = None
    # fulfilment status: the buyer's last delivery (or shipment) within the last N days
    fulfilment: str = ""
    fulfilment_days: int | None = None
    # repurchase cycle: last paid order X–Y days ago
    last_order_min_days: int | None = None
    last_order_max_days: int | None = None
    # spend tier (paid less refunded)
    spend_min_minor: int | None = None
    spend_max_minor: int | None = None
    countries: tuple[str, ...] = field(default_factory=tuple)
    sites: tuple[str, ...] = field(default_factory=tuple)
    # coins of the shop expiring within N days
    coins_expiring_days: int | None = None
    rfm_groups: tuple[str, ...] = field(default_factory=tuple)
    repeat: bool | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> SegmentDefinition:
        data = data or {}
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        for name in ("countries", "sites", "rfm_groups"):
            values[name] = tuple(values.get(name) or ())
        return cls(**values)

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        for name in ("countries", "sites", "rfm_groups"):
            out[name] = list(out[name])
        return {k: v for k, v in out.items() if v not in (None, "", [])}

    @property
    def behavioural(self) -> bool:
        """Whether a condition needs the buyer's orders, carts or coins (imported contacts,
        who have none, never match those)."""
        return any(
            (
                self.abandoned_cart_days is not None,
                self.fulfilment,
                self.last_order_min_days is not None,
                self.last_order_max_days is not None,
                self.spend_min_minor is not None,
                self.spend_max_minor is not None,
                self.coins_expiring_days is not None,
                self.rfm_groups,
                self.repeat is not None,
            )
        )


ALL = SegmentDefinition()


def definition_of(segment: Segment | SegmentDefinition | dict | None) -> SegmentDefinition:
    if isinstance(segment, SegmentDefinition):
        return segment
    if isinstance(segment, Segment):
        return SegmentDefinition.from_json(segment.definition)
    return SegmentDefinition.from_json(segment)


# --- consent, as uncorrelated IN-subqueries (PostgreSQL hashes them once per query) ------------


def _suppressed_emails(shop: Shop, at: datetime) -> QuerySet:
    from .models import Suppression

    return (
        Suppression.objects.filter(shop=shop)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=at))
        .values("email")
    )


def _consent_emails(shop: Shop, *statuses: str, untied: bool = False) -> QuerySet:
    """The addresses with a consent record of ``statuses``; ``untied``: only the records that
    do not rest on the buyer's own preference (``Consent.buyer_preference_on`` not true)."""
    return _consents(shop, *statuses, untied=untied).values("email")


def _consents(shop: Shop, *statuses: str, untied: bool = False) -> QuerySet:
    from .models import Consent

    qs = Consent.objects.filter(shop=shop, status__in=statuses)
    return qs.exclude(buyer_preference_on=True) if untied else qs


def _suffix_regex(site_codes) -> str:
    """A regular expression matching the addresses whose domain names one of ``site_codes``
    (``sites.domain_site``), for SQL (PostgreSQL's ``~``, Django's REGEXP on SQLite)."""
    import re

    suffixes = sorted({x for site in site_codes for x in sites.domain_suffixes(site)})
    return "(" + "|".join(re.escape(x) for x in suffixes) + ")$" if suffixes else ""


def doi_exempt_q(*, email: str, country: str, site: str | None, countries) -> Q:
    """SPEC M-3 as a condition: the rows whose recipient does not need double opt-in — a
    recorded country outside ``countries``; with no recorded country, a known site outside
    them (``sites.country_for``: the address's domain, else the ``site`` column). A recipient
    whose country is still unknown needs double opt-in (Decision: the safe side)."""
    if not countries:  # nobody needs it (the rows have an address: consenting_q's first test)
        return Q(**{f"{email}__isnull": False})
    free = sorted(s for s, c in sites.SITE_COUNTRIES.items() if c not in countries)
    recorded = Q(**{f"{country}__gt": ""}) & ~Q(**{f"{country}__in": sorted(countries)})
    if not free:
        return recorded
    by_domain = Q(**{f"{email}__regex": _suffix_regex(free)})
    derived = by_domain
    if site is not None:
        any_domain = Q(**{f"{email}__regex": _suffix_regex(sites.SITE_COUNTRIES)})
        derived |= ~any_domain & Q(**{f"{site}__in": free})
    blank = Q(**{country: ""}) | Q(**{f"{country}__isnull": True})
    return recorded | (blank & derived)


# Above this many consent records a shop's consent is looked up per row (``EXISTS`` on the
# (shop, email) index) instead of hashed once per query (``IN``), by the live count, the
# pre-send checklist and the recipients alike (``probes_consents``): PostgreSQL hashes an
# ``IN`` sub-query inside an ``OR`` only when it fits in its hash memory (work_mem; about this
# many addresses at the default 4 MB) and otherwise scans it again for every row — for a
# million imported contacts a count or a materialisation would never end. Below it the hashed
# form stays: one hash per query beats an index probe per row (the ``segment`` benchmark).
HASHED_CONSENTS_MAX = 40_000


def probes_consents(shop: Shop, *, hashed_max: int | None = None) -> bool:
    """Whether ``shop`` has more than ``hashed_max`` (default ``HASHED_CONSENTS_MAX``) consent
    records, so that its audience queries look consent up per row (``consenting_q``'s
    ``probe``). One index-only query that stops at the limit. Every path that counts or lists
    recipients decides here, so the count, the checklist and the materialisation agree."""
    from .models import Consent

    limit = HASHED_CONSENTS_MAX if hashed_max is None else hashed_max
    return Consent.objects.filter(shop=shop).order_by()[limit : limit + 1].exists()


def consenting_q(
    *,
    shop: Shop,
    at: datetime,
    email: str,
    country: str,
    opt_in: str | None,
    numbers: rules.AudienceNumbers,
    probe: bool = False,
    site: str | None = None,
) -> Q:
    """SPEC M-3 as a condition on a queryset's ``email``/``country``/``site``/``opt_in``
    columns: an address, not suppressed, and consent — confirmed double opt-in, or (outside the
    double opt-in countries: ``doi_exempt_q``) the buyer's marketing preference or a shop
    consent record. A consent recorded while the buyer's own preference was on counts only
    while it stays on: switching it off withdraws it (``Consent.buyer_preference_on``).
    ``probe``: the consent records looked up per row (``EXISTS``) rather than hashed (``IN``)."""

    def records(*statuses: str, untied: bool = False) -> Q:
        if probe:
            matching = _consents(shop, *statuses, untied=untied).filter(email=OuterRef(email))
            return Q(Exists(matching))
        return Q(**{f"{email}__in": _consent_emails(shop, *statuses, untied=untied)})

    if opt_in is None:  # imported contacts: no buyer preference to withdraw with
        confirmed = records(ConsentStatus.CONFIRMED)
        single = records(ConsentStatus.GRANTED)
    else:
        preference_on = Q(**{opt_in: True})
        confirmed = records(ConsentStatus.CONFIRMED, untied=True) | (
            preference_on & records(ConsentStatus.CONFIRMED)
        )
        single = records(ConsentStatus.GRANTED, untied=True) | preference_on
    exempt = doi_exempt_q(
        email=email, country=country, site=site, countries=numbers.double_opt_in_countries
    )
    return (
        Q(**{f"{email}__isnull": False})
        & ~Q(**{f"{email}__in": _suppressed_emails(shop, at)})
        & (confirmed | (exempt & single))
    )


def consent_state(*, shop: Shop, at: datetime, numbers: rules.AudienceNumbers) -> Case:
    """The consent state of an audience row (``CONSENT_STATES``), for display and filters (the
    same rules as ``consenting_q``)."""
    preference_on = Q(buyer_opt_in=True)
    exempt = doi_exempt_q(
        email="buyer_email",
        country="buyer_country",
        site="buyer_site",
        countries=numbers.double_opt_in_countries,
    )

    def held(*statuses: str) -> Q:
        """A consent record of ``statuses`` not withdrawn with the buyer's preference."""
        return Q(buyer_email__in=_consent_emails(shop, *statuses, untied=True)) | (
            preference_on & Q(buyer_email__in=_consent_emails(shop, *statuses))
        )

    return Case(
        When(buyer_email__isnull=True, then=Value(CONSENT_NO_EMAIL)),
        When(buyer_email__in=_suppressed_emails(shop, at), then=Value(CONSENT_SUPPRESSED)),
        When(held(ConsentStatus.CONFIRMED), then=Value(CONSENT_SUBSCRIBED)),
        When(
            ~exempt & (preference_on | held(ConsentStatus.GRANTED, ConsentStatus.PENDING)),
            then=Value(CONSENT_AWAITING),
        ),
        When(
            exempt & (preference_on | held(ConsentStatus.GRANTED)),
            then=Value(CONSENT_SUBSCRIBED),
        ),
        default=Value(CONSENT_NOT_SUBSCRIBED),
        output_field=CharField(),
    )


def rfm_group(at: datetime, numbers: rules.AudienceNumbers) -> Case:
    """SPEC B-8 RFM group (Decision: recency of the last paid order, frequency of paid orders;
    the thresholds are rule numbers). Boundaries: "recent" includes exactly N days ago,
    "lapsed" starts after exactly M days."""
    recent = at - timedelta(days=numbers.rfm_recent_days)
    lapsed = at - timedelta(days=numbers.rfm_lapsed_days)
    frequent = numbers.rfm_frequent_orders
    return Case(
        When(orders=0, then=Value(RFM_PROSPECT)),
        When(last_order_at__gte=recent, orders__gte=frequent, then=Value(RFM_CHAMPION)),
        When(last_order_at__gte=recent, orders=1, then=Value(RFM_NEW)),
        When(last_order_at__gte=recent, then=Value(RFM_ACTIVE)),
        When(last_order_at__lt=lapsed, then=Value(RFM_LAPSED)),
        When(orders__gte=2, then=Value(RFM_AT_RISK)),
        default=Value(RFM_ONE_TIME),
        output_field=CharField(),
    )


def columns(lean: bool) -> dict[str, str]:
    """Where an audience query finds the buyer's columns: annotations on the full query,
    ``buyer__…`` lookups on a lean one (kept out of the GROUP BY)."""
    if lean:
        return {
            "email": "buyer__email",
            "country": "buyer__country",
            "site": "buyer__site",
            "opt_in": "buyer__marketing_email_opt_in",
        }
    return {
        "email": "buyer_email",
        "country": "buyer_country",
        "site": "buyer_site",
        "opt_in": "buyer_opt_in",
    }


def audience(
    *,
    shop: Shop,
    definition: SegmentDefinition = ALL,
    at: datetime | None = None,
    numbers: rules.AudienceNumbers | None = None,
    lean: bool = False,
) -> QuerySet:
    """The shop's buyers matching ``definition`` (consent not applied): the orders module's
    per-buyer GROUP BY with each condition as WHERE/HAVING. Annotated with ``rfm`` unless
    ``lean`` (a count: no column it does not filter on)."""
    at = at or clock.now()
    numbers = numbers or rules.audience_numbers()
    d = definition
    col = columns(lean)
    qs = buyer_summaries(shop=shop, lean=lean)
    if not lean or d.rfm_groups:
        qs = qs.annotate(rfm=rfm_group(at, numbers))
    if d.countries:
        qs = qs.filter(**{f"{col['country']}__in": [c.upper() for c in d.countries]})
    if d.sites:
        qs = qs.filter(**{f"{col['site']}__in": list(d.sites)})
    if d.coins_expiring_days is not None:
        until = at + timedelta(days=d.coins_expiring_days)
        qs = qs.filter(buyer_id__in=buyers_with_coins_expiring(shop=shop, at=at, until=until))
    if d.abandoned_cart_days is not None:
        # SPEC M-4: cart activity at least N days ago and no order placed since that activity.
        qs = qs.annotate(cart_at=cart_activity(shop=shop, buyer_ref=OuterRef("buyer_id"))).filter(
            cart_at__lte=at - timedelta(days=d.abandoned_cart_days),
            last_placed_at__lt=F("cart_at"),
        )
    if d.fulfilment:
        column = "last_delivered_at" if d.fulfilment == FULFILMENT_DELIVERED else "last_shipped_at"
        days = d.fulfilment_days if d.fulfilment_days is not None else 7
        qs = qs.filter(**{f"{column}__gte": at - timedelta(days=days)})
    if d.last_order_min_days is not None:
        qs = qs.filter(last_order_at__lte=at - timedelta(days=d.last_order_min_days))
    if d.last_order_max_days is not None:
        qs = qs.filter(last_order_at__gte=at - timedelta(days=d.last_order_max_days))
    if d.spend_min_minor is not None:
        qs = qs.filter(spend_minor__gte=d.spend_min_minor)
    if d.spend_max_minor is not None:
        qs = qs.filter(spend_minor__lte=d.spend_max_minor)
    if d.rfm_groups:
        qs = qs.filter(rfm__in=list(d.rfm_groups))
    if d.repeat is not None:
        qs = qs.filter(orders__gte=2) if d.repeat else qs.filter(orders__lt=2)
    return qs


def consenting_buyers(
    *,
    shop: Shop,
    definition: SegmentDefinition = ALL,
    at: datetime | None = None,
    numbers: rules.AudienceNumbers | None = None,
    lean: bool = False,
    probe: bool = False,
) -> QuerySet:
    at = at or clock.now()
    numbers = numbers or rules.audience_numbers()
    col = columns(lean)
    return audience(shop=shop, definition=definition, at=at, numbers=numbers, lean=lean).filter(
        consenting_q(
            shop=shop,
            at=at,
            email=col["email"],
            country=col["country"],
            site=col["site"],
            opt_in=col["opt_in"],
            numbers=numbers,
            probe=probe,
        )
    )


def consenting_imported(
    *,
    shop: Shop,
    definition: SegmentDefinition = ALL,
    at: datetime | None = None,
    numbers: rules.AudienceNumbers | None = None,
    probe: bool = False,
) -> QuerySet:
    """Imported contacts (M-13) matching a non-behavioural definition, with consent, and not
    already reached as a buyer of the shop (one address, one message)."""
    at = at or clock.now()
    numbers = numbers or rules.audience_numbers()
    d = definition
    if d.behavioural:
        return ImportedContact.objects.none()
    qs = ImportedContact.objects.filter(shop=shop)
    if d.countries:
        qs = qs.filter(country__in=[c.upper() for c in d.countries])
    if d.sites:
        qs = qs.filter(site__in=list(d.sites))
    buyer_emails = buyer_summaries(shop=shop, lean=True).values("buyer__email")
    return qs.filter(
        consenting_q(
            shop=shop,
            at=at,
            email="email",
            country="country",
            site="site",
            opt_in=None,
            numbers=numbers,
            probe=probe,
        )
    ).exclude(email__in=buyer_emails)


def count(
    segment_definition: SegmentDefinition | Segment | dict | None,
    *,
    shop: Shop,
    at: datetime | None = None,
    numbers: rules.AudienceNumbers | None = None,
    hashed_max: int | None = None,
) -> int:
    """How many consenting, unsuppressed recipients a segment reaches now (SPEC M-4 live
    count, and the M-8 checklist's): one query, set-based, whatever the audience's size (plus
    the consent-size check of ``probes_consents``, and one registry read unless ``numbers`` is
    given). The same consent form as ``recipients``, so both give the same number."""
    at = at or clock.now()
    numbers = numbers or rules.audience_numbers()
    d = definition_of(segment_definition)
    probe = probes_consents(shop, hashed_max=hashed_max)
    buyers = consenting_buyers(shop=shop, definition=d, at=at, numbers=numbers, probe=probe).values(
        "buyer_id"
    )
    if d.behavioural:
        return buyers.count()
    imported = consenting_imported(
        shop=shop, definition=d, at=at, numbers=numbers, probe=probe
    ).values("id")
    b_sql, b_params = buyers.query.sql_with_params()
    i_sql, i_params = imported.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT (SELECT COUNT(*) FROM ({b_sql}) b) + (SELECT COUNT(*) FROM ({i_sql}) i)",  # noqa: S608 - both parts are Django-compiled, parameters bound
            (*b_params, *i_params),
        )
        return int(cursor.fetchone()[0])


@dataclass(frozen=True)
class Recipient:
    """One address a campaign may send to (SPEC M-3 consent checked, M-5 site/language/zone).
    ``buyer_id`` is None for an imported contact (M-13)."""

    buyer_id: int | None
    email: str
    language: str
    site: str
    time_zone: str


def _recipient(buyer_id: int | None, email: str, site: str, language: str = "") -> Recipient:
    site = sites.site_for(email, site)
    return Recipient(
        buyer_id=buyer_id,
        email=email,
        language=language or sites.language_for(site),
        site=site,
        time_zone=sites.time_zone_for(site),
    )


def recipients(
    segment: Segment | SegmentDefinition | dict | None,
    *,
    shop: Shop,
    at: datetime | None = None,
    chunk_size: int = 2000,
    hashed_max: int | None = None,
) -> Iterator[Recipient]:
    """The recipients of ``segment`` now, buyers first (by id) then imported contacts,
    excluding suppressed and non-consenting addresses (SPEC M-3). Streamed: rows come from a
    server-side cursor ``chunk_size`` at a time, never all loaded. A shop with more than
    ``HASHED_CONSENTS_MAX`` consent records has them looked up per row (``probes_consents``)."""
    at = at or clock.now()
    numbers = rules.audience_numbers()
    d = definition_of(segment)
    probe = probes_consents(shop, hashed_max=hashed_max)
    buyers = (
        consenting_buyers(shop=shop, definition=d, at=at, numbers=numbers, lean=True, probe=probe)
        .values_list("buyer_id", "buyer__email", "buyer__site")
        .order_by("buyer_id")
    )
    for buyer_id, email, site in buyers.iterator(chunk_size=chunk_size):
        yield _recipient(buyer_id, email, site)
    imported = (
        consenting_imported(shop=shop, definition=d, at=at, numbers=numbers, probe=probe)
        .values_list("email", "site", "language")
        .order_by("id")
    )
    for email, site, language in imported.iterator(chunk_size=chunk_size):
        yield _recipient(None, email, site, language)


def all_consenting(*, shop: Shop) -> Segment:
    """The shop's built-in "all consenting contacts" segment (no condition), created on first
    use; at most one per shop (a partial unique index)."""
    from django.db import IntegrityError, transaction

    existing = Segment.objects.filter(shop=shop, builtin=True).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return Segment.objects.create(
                shop=shop, name=str(_("All consenting contacts")), definition={}, builtin=True
            )
    except IntegrityError:  # created meanwhile (or the name is taken by the shop's own)
        existing = Segment.objects.filter(shop=shop, builtin=True).first()
        if existing is not None:
            return existing
        return Segment.objects.create(
            shop=shop,
            name=f"{_('All consenting contacts')} ({shop.pk})",
            definition={},
            builtin=True,
        )


def memberships(*, shop: Shop, buyer_id: int, saved: list[Segment], at: datetime | None = None):
    """The saved segments whose conditions ``buyer_id`` meets now (consent aside), as one
    statement: ``SELECT EXISTS(…), EXISTS(…), …`` — one sub-select per segment."""
    if not saved:
        return []
    at = at or clock.now()
    numbers = rules.audience_numbers()
    parts: list[str] = []
    params: list = []
    for s in saved:
        qs = audience(shop=shop, definition=definition_of(s), at=at, numbers=numbers, lean=True)
        sql, p = qs.filter(buyer_id=buyer_id).values("buyer_id").query.sql_with_params()
        parts.append(f"EXISTS ({sql})")
        params.extend(p)
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts), params)
        flags = cursor.fetchone()
    return [s for s, yes in zip(saved, flags, strict=True) if yes]
