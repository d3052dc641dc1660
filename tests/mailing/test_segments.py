"""SPEC M-3 consent and M-4 segments: counts and recipients, set-based."""

from datetime import timedelta

import pytest
import time_machine
from audiencekit import confirm, grant, person, subscriber
from factories import first_sku, make_order, make_product

from core import clock
from mailing import rules, segments, sites
from mailing.models import SuppressionReason
from mailing.segments import SegmentDefinition
from mailing.selectors import is_suppressed
from mailing.services import audience

pytestmark = pytest.mark.django_db


def emails(shop, definition=segments.ALL):
    return sorted(r.email for r in segments.recipients(definition, shop=shop))


def test_m3_all_consenting_counts_opted_in_buyers_only(shop_a, shop_b):
    # given
    yes = subscriber(shop_a)
    subscriber(shop_a, opt_in=False)
    subscriber(shop_b)  # another shop's buyer
    # then
    assert segments.count(segments.ALL, shop=shop_a) == 1
    assert emails(shop_a) == [yes.email]


def test_m3_eu_buyer_needs_confirmed_double_opt_in(shop_a):
    # given: an EU buyer who opted in but has not confirmed for this shop
    fr = subscriber(shop_a, country="FR")
    assert segments.count(segments.ALL, shop=shop_a) == 0
    # when
    confirm(shop_a, fr)
    # then
    assert emails(shop_a) == [fr.email]


def test_m3_pending_double_opt_in_is_not_consent(shop_a):
    fr = subscriber(shop_a, country="DE")
    audience.double_opt_in_request(shop=shop_a, email=fr.email, buyer_id=fr.pk)
    assert segments.count(segments.ALL, shop=shop_a) == 0


def test_m3_unsubscribe_is_honoured_at_once_and_for_ever(shop_a):
    b = subscriber(shop_a)
    audience.suppress(shop=shop_a, email=b.email.upper(), reason=SuppressionReason.UNSUBSCRIBE)
    assert segments.count(segments.ALL, shop=shop_a) == 0
    assert is_suppressed(shop_a, b.email, at=clock.now() + timedelta(days=3650))


def test_m3_hard_bounce_quarantine_ends_after_exactly_30_days(shop_a):
    b = subscriber(shop_a)
    now = clock.now()
    row = audience.suppress(
        shop=shop_a, email=b.email, reason=SuppressionReason.HARD_BOUNCE, at=now
    )
    assert row.expires_at == now + timedelta(days=30)
    assert is_suppressed(shop_a, b.email, at=now + timedelta(days=30) - timedelta(seconds=1))
    assert not is_suppressed(shop_a, b.email, at=now + timedelta(days=30))
    assert segments.count(segments.ALL, shop=shop_a, at=now + timedelta(days=30)) == 1


def test_m3_bounce_never_shortens_an_unsubscribe(shop_a):
    b = subscriber(shop_a)
    audience.suppress(shop=shop_a, email=b.email, reason=SuppressionReason.UNSUBSCRIBE)
    row = audience.suppress(shop=shop_a, email=b.email, reason=SuppressionReason.HARD_BOUNCE)
    assert row.reason == SuppressionReason.UNSUBSCRIBE
    assert row.expires_at is None


def test_m3_suppression_is_per_shop(shop_a, shop_b):
    b = subscriber(shop_a)
    audience.suppress(shop=shop_b, email=b.email, reason=SuppressionReason.COMPLAINT)
    assert segments.count(segments.ALL, shop=shop_a) == 1


@time_machine.travel("2026-06-01 12:00:00Z", tick=False)
def test_m4_repurchase_cycle_boundaries_are_inclusive(shop_a):
    now = clock.now()
    b30 = subscriber(shop_a, days_ago=30)
    subscriber(shop_a, days_ago=29)
    b60 = subscriber(shop_a, days_ago=60)
    subscriber(shop_a, days_ago=61)
    d = SegmentDefinition(last_order_min_days=30, last_order_max_days=60)
    assert segments.count(d, shop=shop_a, at=now) == 2
    assert sorted(r.email for r in segments.recipients(d, shop=shop_a, at=now)) == sorted(
        [b30.email, b60.email]
    )


def test_m4_spend_tier_at_its_bounds(shop_a):
    sku = first_sku(make_product(shop_a, price_minor=50_00))
    low, high = person(), person()
    make_order(shop_a, low, sku=sku)
    make_order(shop_a, high, sku=sku)
    make_order(shop_a, high, sku=sku)
    assert segments.count(SegmentDefinition(spend_min_minor=100_00), shop=shop_a) == 1
    assert segments.count(SegmentDefinition(spend_max_minor=50_00), shop=shop_a) == 1
    assert segments.count(SegmentDefinition(spend_min_minor=100_01), shop=shop_a) == 0


def test_m4_fulfilment_delivered_in_the_last_7_days(shop_a):
    now = clock.now()
    b = person()
    make_order(shop_a, b, status="delivered", placed_at=now - timedelta(days=7))
    old = person()
    make_order(shop_a, old, status="delivered", placed_at=now - timedelta(days=7, seconds=1))
    d = SegmentDefinition(fulfilment="delivered", fulfilment_days=7)
    assert [r.email for r in segments.recipients(d, shop=shop_a, at=now)] == [b.email]


def test_m4_abandoned_cart_no_order_since_activity(shop_a):
    from orders.services import cart_update

    now = clock.now()
    sku = first_sku(make_product(shop_a))
    abandoned = subscriber(shop_a, days_ago=10)
    cart_update(shop=shop_a, buyer=abandoned, items=[(sku, 1)], at=now - timedelta(days=3))
    ordered_since = subscriber(shop_a, days_ago=10)
    cart_update(shop=shop_a, buyer=ordered_since, items=[(sku, 1)], at=now - timedelta(days=4))
    make_order(shop_a, ordered_since, placed_at=now - timedelta(days=2))
    too_recent = subscriber(shop_a, days_ago=10)
    just_after = now - timedelta(days=3) + timedelta(seconds=1)
    cart_update(shop=shop_a, buyer=too_recent, items=[(sku, 1)], at=just_after)
    d = SegmentDefinition(abandoned_cart_days=3)
    assert [r.email for r in segments.recipients(d, shop=shop_a, at=now)] == [abandoned.email]


def test_m4_coins_expiring_soon_through_the_coins_selector(shop_a):
    from coinkit import coin_shop, give

    coin_shop(shop_a)
    holder = person()
    give(shop_a, holder, 100)
    subscriber(shop_a)
    lot_expiry = holder.coin_wallets.get().lots.get().expires_at
    now = clock.now()
    days = (lot_expiry - now).days + 1
    assert segments.count(SegmentDefinition(coins_expiring_days=days), shop=shop_a) == 1
    assert segments.count(SegmentDefinition(coins_expiring_days=days - 2), shop=shop_a) == 0


def test_m4_country_and_site_reach_imported_contacts(shop_a):
    subscriber(shop_a, country="US")
    from factories import make_user

    from mailing.models import ContactImport, ImportedContact

    imp = ContactImport.objects.create(
        shop=shop_a, created_by=make_user(), created_at=clock.now(), file_name="a.csv"
    )
    ImportedContact.objects.create(
        shop=shop_a,
        email="ext@example.com",
        country="US",
        contact_import=imp,
        created_at=clock.now(),
    )
    grant(shop_a, "ext@example.com")
    assert segments.count(SegmentDefinition(countries=("US",)), shop=shop_a) == 2
    assert segments.count(SegmentDefinition(repeat=False), shop=shop_a) == 1
    found = {r.email: r for r in segments.recipients(segments.ALL, shop=shop_a)}
    assert found["ext@example.com"].buyer_id is None


def test_m5_recipient_site_follows_the_address_domain(shop_a):
    b = subscriber(shop_a, email="marie@orange.fr")
    (r,) = segments.recipients(segments.ALL, shop=shop_a)
    assert (r.buyer_id, r.site, r.language, r.time_zone) == (b.pk, "fr", "fr", "Europe/Paris")


def test_m4_count_is_one_query(shop_a, django_assert_num_queries):
    # one counting query, plus the check of how many consent records the shop has (which
    # form of the consent condition the count takes; it stops at HASHED_CONSENTS_MAX + 1)
    for _ in range(3):
        subscriber(shop_a)
    d = SegmentDefinition(last_order_max_days=30, spend_min_minor=1, rfm_groups=("new",))
    numbers = rules.audience_numbers()
    with django_assert_num_queries(2):
        assert segments.count(d, shop=shop_a, numbers=numbers) == 3
    with django_assert_num_queries(2):
        assert segments.count(segments.ALL, shop=shop_a, numbers=numbers) == 3
    with django_assert_num_queries(3):  # and the registry's numbers, in one read
        assert segments.count(d, shop=shop_a) == 3


def test_all_consenting_segment_is_one_per_shop(shop_a):
    s1 = segments.all_consenting(shop=shop_a)
    s2 = segments.all_consenting(shop=shop_a)
    assert s1.pk == s2.pk
    assert s1.builtin


def _rfm(shop, at):
    return {r["buyer_id"]: r["rfm"] for r in segments.audience(shop=shop, at=at)}


@time_machine.travel("2026-06-01 12:00:00Z", tick=False)
def test_b8_rfm_groups_at_their_boundaries(shop_a):
    now = clock.now()
    sku = first_sku(make_product(shop_a))

    def buyer_with(*days_ago, status="paid"):
        b = person()
        for d in days_ago:
            make_order(shop_a, b, sku=sku, status=status, placed_at=now - timedelta(days=d))
        return b

    champion = buyer_with(40, 35, 30)
    slipped = buyer_with(40, 35, 30.00001)
    new = buyer_with(30)
    active = buyer_with(50, 10)
    one_time = buyer_with(180)
    lapsed = buyer_with(180.00001)
    prospect = buyer_with(1, status="pending_payment")
    # then
    groups = _rfm(shop_a, now)
    assert groups[champion.pk] == segments.RFM_CHAMPION
    assert groups[slipped.pk] == segments.RFM_AT_RISK
    assert groups[new.pk] == segments.RFM_NEW
    assert groups[active.pk] == segments.RFM_ACTIVE
    assert groups[one_time.pk] == segments.RFM_ONE_TIME
    assert groups[lapsed.pk] == segments.RFM_LAPSED
    assert groups[prospect.pk] == segments.RFM_PROSPECT
    # and a segment by group counts the same buyers (all opted in, none in the EU)
    d = SegmentDefinition(rfm_groups=(segments.RFM_CHAMPION, segments.RFM_LAPSED))
    assert segments.count(d, shop=shop_a, at=now) == 2


@time_machine.travel("2026-06-01 12:00:00Z", tick=False)
def test_b8_rfm_thresholds_are_rule_numbers(shop_a):
    from constance import config

    now = clock.now()
    b = person()
    sku = first_sku(make_product(shop_a))
    for d in (20, 15, 12):
        make_order(shop_a, b, sku=sku, placed_at=now - timedelta(days=d))
    assert _rfm(shop_a, now)[b.pk] == segments.RFM_CHAMPION
    config.MAILING_RFM_RECENT_DAYS = 11
    assert _rfm(shop_a, now)[b.pk] == segments.RFM_AT_RISK
    config.MAILING_RFM_FREQUENT_ORDERS = 4
    config.MAILING_RFM_RECENT_DAYS = 30
    assert _rfm(shop_a, now)[b.pk] == segments.RFM_ACTIVE


def test_m3_double_opt_in_countries_are_a_rule_number(shop_a):
    from constance import config

    us = subscriber(shop_a, country="US")
    assert [r.email for r in segments.recipients(segments.ALL, shop=shop_a)] == [us.email]
    config.MAILING_DOUBLE_OPT_IN_COUNTRIES = "US, fr"
    assert segments.count(segments.ALL, shop=shop_a) == 0
    assert rules.double_opt_in_countries() == {"US", "FR"}


def test_m3_m4_defaults_are_the_spec_numbers(db):
    numbers = rules.audience_numbers()
    assert rules.hard_bounce_quarantine_days() == 30
    assert rules.confirmation_link_days() == 7
    assert rules.import_max_rows() == 50_000
    assert (numbers.rfm_recent_days, numbers.rfm_lapsed_days, numbers.rfm_frequent_orders) == (
        30,
        180,
        3,
    )
    assert {"FR", "DE", "IE", "NO"} <= numbers.double_opt_in_countries
    assert "US" not in numbers.double_opt_in_countries
    assert "GB" not in numbers.double_opt_in_countries


def test_m3_consent_looked_up_per_row_reaches_the_same_recipients(shop_a, monkeypatch):
    # given: every kind of consent and its absence, buyers and an imported contact
    from factories import make_user

    from mailing.models import ContactImport, ImportedContact

    opted = subscriber(shop_a)
    subscriber(shop_a, opt_in=False)  # no consent
    granted = subscriber(shop_a, opt_in=False)
    grant(shop_a, granted.email)
    confirmed = subscriber(shop_a, country="FR")
    confirm(shop_a, confirmed)
    subscriber(shop_a, country="DE")  # EU, not confirmed
    gone = subscriber(shop_a)
    audience.suppress(shop=shop_a, email=gone.email, reason=SuppressionReason.UNSUBSCRIBE)
    imp = ContactImport.objects.create(
        shop=shop_a, created_by=make_user(), created_at=clock.now(), file_name="a.csv"
    )
    for address in ("ext@example.com", "nope@example.com"):
        ImportedContact.objects.create(
            shop=shop_a, email=address, country="US", contact_import=imp, created_at=clock.now()
        )
    grant(shop_a, "ext@example.com")
    hashed = emails(shop_a)

    # when: the shop counts as one with more consent records than are hashed
    monkeypatch.setattr(segments, "HASHED_CONSENTS_MAX", 0)
    probed = emails(shop_a)

    # then
    expected = sorted([opted.email, granted.email, confirmed.email, "ext@example.com"])
    assert hashed == expected
    assert probed == expected


@pytest.mark.parametrize(("hashed_max", "probed"), [(2, True), (3, False)])
def test_m4_live_count_checklist_and_materialised_recipients_agree_either_side_of_the_limit(
    brand_a, shop_a, hashed_max, probed
):
    """The live count, the pre-send checklist's count and the campaign's materialised
    recipients give the same addresses whether the shop's consent records are hashed (at most
    ``HASHED_CONSENTS_MAX``) or looked up per row (more) — the three take the form from one
    place. The limit is lowered to just below / at this shop's 3 consent records."""
    import dispatchkit as kit
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from factories import make_user

    from mailing.models import Consent, ContactImport, ImportedContact, Message
    from mailing.services import campaigns

    # given: buyers with and without consent, an EU buyer confirmed and one not, a suppressed
    # buyer, imported contacts with and without a consent record
    opted = subscriber(shop_a)
    subscriber(shop_a, opt_in=False)
    granted = subscriber(shop_a, opt_in=False)
    grant(shop_a, granted.email)
    confirmed = subscriber(shop_a, country="FR")
    confirm(shop_a, confirmed)
    subscriber(shop_a, country="DE")
    gone = subscriber(shop_a)
    audience.suppress(shop=shop_a, email=gone.email, reason=SuppressionReason.UNSUBSCRIBE)
    imp = ContactImport.objects.create(
        shop=shop_a, created_by=make_user(), created_at=clock.now(), file_name="a.csv"
    )
    for address in ("ext@example.com", "nope@example.com"):
        ImportedContact.objects.create(
            shop=shop_a, email=address, country="US", contact_import=imp, created_at=clock.now()
        )
    grant(shop_a, "ext@example.com")
    assert Consent.objects.filter(shop=shop_a).count() == 3
    assert segments.probes_consents(shop_a, hashed_max=hashed_max) is probed
    expected = sorted([opted.email, granted.email, confirmed.email, "ext@example.com"])
    campaign = kit.campaign(shop_a)

    # when: the limit at hashed_max (as a setting of the module: the checklist and the
    # materialisation read it there)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(segments, "HASHED_CONSENTS_MAX", hashed_max)
        with CaptureQueriesContext(connection) as queries:
            live = segments.count(campaign.segment, shop=shop_a)
        checklist = campaigns.checklist(campaign=campaign).recipients
        kit.start(campaign)
        passed = segments.count(campaign.segment, shop=shop_a, hashed_max=hashed_max)

    # then: the same number everywhere, the same addresses materialised, and the count in the
    # form the consent records' number calls for
    materialised = sorted(Message.objects.filter(campaign=campaign).values_list("email", flat=True))
    assert materialised == expected
    assert live == checklist == passed == len(expected)
    (count_sql,) = [q["sql"] for q in queries.captured_queries if "COUNT(*)" in q["sql"]]
    assert ("EXISTS" in count_sql) is probed


# --- SPEC M-3: withdrawing with the buyer's own preference ------------------------------------


@pytest.mark.parametrize("hashed", [True, False])
def test_m3_switching_the_marketing_preference_off_withdraws_the_consent(
    shop_a, monkeypatch, hashed
):
    from buyers.services import buyer_marketing_set
    from mailing.models import ConsentSource, ConsentStatus
    from mailing.selectors_audience import get_buyer_for_shop

    if not hashed:
        monkeypatch.setattr(segments, "HASHED_CONSENTS_MAX", 0)
    # given: an EU buyer who opted in and confirmed for this shop, a US buyer who opted in
    # with a shop consent on record, and one whose shop consent was given with the
    # preference already off
    fr = subscriber(shop_a, country="FR")
    confirm(shop_a, fr)
    us = subscriber(shop_a)
    audience.consent_record(
        shop=shop_a,
        email=us.email,
        status=ConsentStatus.GRANTED,
        source=ConsentSource.BUYER_PREFERENCE,
        buyer_id=us.pk,
    )
    own = subscriber(shop_a, opt_in=False)
    grant(shop_a, own.email)
    assert emails(shop_a) == sorted([fr.email, us.email, own.email])

    # when: the first two switch their marketing preference off
    buyer_marketing_set(buyer=fr, opt_in=False)
    buyer_marketing_set(buyer=us, opt_in=False)

    # then: their consent is withdrawn everywhere; the third's consent stands on its evidence
    assert emails(shop_a) == [own.email]
    assert segments.count(segments.ALL, shop=shop_a) == 1
    for b in (fr, us):
        state = get_buyer_for_shop(shop=shop_a, buyer_id=b.pk)["consent_state"]
        assert state == segments.CONSENT_NOT_SUBSCRIBED
    assert (
        get_buyer_for_shop(shop=shop_a, buyer_id=own.pk)["consent_state"]
        == segments.CONSENT_SUBSCRIBED
    )

    # and switching it on again restores it
    buyer_marketing_set(buyer=fr, opt_in=True)
    assert emails(shop_a) == sorted([fr.email, own.email])


# --- SPEC M-3: no country recorded → the site's, else double opt-in ---------------------------


@pytest.mark.parametrize("hashed", [True, False])
def test_m3_a_contact_without_a_country_is_judged_by_its_site_else_needs_double_opt_in(
    shop_a, monkeypatch, hashed
):
    from factories import make_user

    from mailing.models import ContactImport, ImportedContact

    if not hashed:
        monkeypatch.setattr(segments, "HASHED_CONSENTS_MAX", 0)
    imp = ContactImport.objects.create(
        shop=shop_a, created_by=make_user(), created_at=clock.now(), file_name="a.csv"
    )
    contacts = {
        # address, site column: needs double opt-in?
        ("marie@orange.fr", "fr"): True,  # France by both
        ("jean@example.com", "fr"): True,  # France by the site
        ("hans@example.de", "us"): True,  # the address's domain first: Germany
        ("pat@gmail.com", "us"): False,  # United States
        ("ivan@mail.ru", ""): False,  # Russia by the domain
        ("who@example.com", ""): True,  # unknown
        ("glob@example.com", "global"): True,  # the global site has no country
    }
    for (address, site), _doi in contacts.items():
        ImportedContact.objects.create(
            shop=shop_a,
            email=address,
            country="",
            site=site,
            contact_import=imp,
            created_at=clock.now(),
        )
        grant(shop_a, address)
    # a recorded country still decides (an EU address domain does not override it)
    ImportedContact.objects.create(
        shop=shop_a,
        email="kim@orange.fr",
        country="US",
        site="fr",
        contact_import=imp,
        created_at=clock.now(),
    )
    grant(shop_a, "kim@orange.fr")

    # then: the attestation alone reaches only those known to be outside the EU
    free = sorted(a for (a, _s), doi in contacts.items() if not doi)
    assert emails(shop_a) == sorted([*free, "kim@orange.fr"])
    assert segments.count(segments.ALL, shop=shop_a) == len(free) + 1
    for (address, site), doi in contacts.items():
        assert (
            sites.needs_double_opt_in(
                country="",
                email=address,
                site=site,
                countries=rules.double_opt_in_countries(),
            )
            is doi
        )

    # and a confirmed double opt-in reaches the French one
    req = audience.double_opt_in_request(shop=shop_a, email="marie@orange.fr")
    audience.double_opt_in_confirm(token=req.token, ip="203.0.113.9")
    assert "marie@orange.fr" in emails(shop_a)
