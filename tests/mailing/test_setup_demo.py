"""The set-up part of mailing's demo hook (SPEC M-1, M-2)."""

from random import Random

from core import clock
from mailing import demo
from mailing.models import BrandProfile, DomainKind, MailingAccount, MailTemplate, SenderDomain
from mailing.selectors import setup_checks


def test_m1_demo_enables_eligible_shops_with_a_complete_set_up(m1_met, shop_a, shop_b):
    from factories import make_shop

    # given: one shop that fails M-1 (rating 4.5)
    low = make_shop(store_rating="4.50")
    # when
    demo.seed(shops=[low, shop_a, shop_b], rng=Random(1), now=clock.now())
    # then
    assert set(MailingAccount.objects.values_list("shop_id", flat=True)) == {shop_a.pk, shop_b.pk}
    a = MailingAccount.objects.get(shop=shop_a)
    assert (clock.now() - a.enabled_at).days == demo.ENABLED_DAYS_AGO[0]
    b = MailingAccount.objects.get(shop=shop_b)
    assert (clock.now() - b.enabled_at).days == demo.ENABLED_DAYS_AGO[1]
    assert all(c.passed for c in setup_checks(shop=shop_a))
    assert BrandProfile.objects.get(shop=shop_b).footer_complete
    assert MailTemplate.objects.filter(shop=shop_a).count() == 2
    # the last one enabled has entered an own subdomain, not yet verified
    own = SenderDomain.objects.get(kind=DomainKind.OWN)
    assert own.shop == shop_b
    assert not own.is_verified


def test_m1_demo_enables_a_shop_at_the_first_time_it_was_eligible(m1_met):
    from datetime import timedelta

    from factories import make_shop

    # given: a shop open 100 days: 90 days old only from 10 days ago
    shop = make_shop(opened_at=clock.now() - timedelta(days=100))
    # when
    demo.seed(shops=[shop], rng=Random(1), now=clock.now())
    # then: enabled 5 days ago (35 and 20 days ago it was too young)
    account = MailingAccount.objects.get(shop=shop)
    assert (clock.now() - account.enabled_at).days == 5
