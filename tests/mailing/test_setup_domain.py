"""Sender domains (SPEC M-2 a, M-10): the default domain, an own subdomain verified by real DNS
look-ups against the test's authoritative server — records missing, then wrong, then fixed —
and the periodic re-verification."""

from datetime import timedelta

import pytest
import time_machine
from mailkit import publish

from core import clock
from core.errors import DomainError
from mailing import rules
from mailing.models import DomainKind, DomainStatus, MailingAccount, SenderDomain
from mailing.selectors import SenderDomainNotVerified, sending_identity
from mailing.services import setup
from shops.models import Notification

OWN = "promo.brand-a.com"


def _problems(domain):
    return {r["code"]: r["problem"] for r in domain.last_results}


# --- default domain -------------------------------------------------------------------------------


def test_m2_default_domain_is_shop_dot_mail_dot_platform(enabled_a, shop_a, settings):
    # given
    domain = SenderDomain.objects.get(shop=shop_a)
    # then
    assert domain.kind == DomainKind.DEFAULT
    assert domain.domain == f"shop-a.mail.{settings.SC_MAILING_PLATFORM_DOMAIN}"
    assert domain.is_verified
    from_address, identity = sending_identity(shop_a)
    assert from_address == f"Shop A <news@{domain.domain}>"
    assert identity == domain


def test_m2_default_domain_label_from_an_unusual_marketplace_id(m1_met):
    from factories import make_shop

    shop = make_shop(external_id="___")
    setup.mailing_enable(shop=shop)
    assert shop.sender_domains.get().domain.startswith(f"shop{shop.pk}.mail.")


def test_m2_two_ids_alike_get_distinct_default_domains(m1_met):
    from factories import make_shop

    one, two = make_shop(external_id="Shop.X"), make_shop(external_id="shop-x")
    setup.mailing_enable(shop=one)
    setup.mailing_enable(shop=two)
    assert one.sender_domains.get().domain != two.sender_domains.get().domain


# --- own subdomain: input -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("brand-a.com", "domain_not_subdomain"),
        ("https://promo.brand-a.com/", "domain_invalid"),
        ("news@promo.brand-a.com", "domain_invalid"),
        ("promo..brand-a.com", "domain_invalid"),
        ("-promo.brand-a.com", "domain_invalid"),
        ("x." * 130 + "com", "domain_invalid"),
        ("a.shop-a.mail.sellercenter.example", "domain_platform"),
        ("1.2.3.4", "domain_invalid"),
    ],
)
def test_m2_own_domain_input_is_checked(enabled_a, shop_a, value, code):
    with pytest.raises(DomainError) as exc:
        setup.own_domain_set(shop=shop_a, domain=value)
    assert exc.value.code == code
    assert not SenderDomain.objects.filter(kind=DomainKind.OWN).exists()


def test_m2_own_domain_is_normalised(enabled_a, shop_a):
    domain = setup.own_domain_set(shop=shop_a, domain=" Promo.Brand-A.COM. ")
    assert domain.domain == OWN


def test_m2_a_domain_used_by_another_shop_is_refused(enabled_a, enabled_b, shop_a, shop_b):
    setup.own_domain_set(shop=shop_a, domain=OWN)
    with pytest.raises(DomainError) as exc:
        setup.own_domain_set(shop=shop_b, domain=OWN)
    assert exc.value.code == "domain_taken"


def test_m2_changing_the_subdomain_issues_a_new_token_and_key(enabled_a, shop_a):
    first = setup.own_domain_set(shop=shop_a, domain=OWN)
    same = setup.own_domain_set(shop=shop_a, domain=OWN)
    other = setup.own_domain_set(shop=shop_a, domain="mail.brand-a.com")
    assert same.pk == first.pk
    assert other.verification_token != first.verification_token
    assert other.dkim_public_key != first.dkim_public_key
    assert SenderDomain.objects.filter(shop=shop_a, kind=DomainKind.OWN).count() == 1


def test_m2_verification_tokens_are_random_per_shop(enabled_a, enabled_b, shop_a, shop_b):
    a = setup.own_domain_set(shop=shop_a, domain=OWN)
    b = setup.own_domain_set(shop=shop_b, domain="promo.brand-b.com")
    assert len(a.verification_token) == 32
    assert a.verification_token != b.verification_token


def test_m2_set_up_needs_the_account_first(shop_a):
    with pytest.raises(DomainError) as exc:
        setup.own_domain_set(shop=shop_a, domain=OWN)
    assert exc.value.code == "mailing_not_enabled"


# --- own subdomain: missing → wrong → fixed -------------------------------------------------


def test_m2_records_missing_then_wrong_then_fixed(enabled_a, shop_a, dns_server):
    # given: the seller entered a subdomain and published nothing yet
    domain = setup.own_domain_set(shop=shop_a, domain=OWN)
    with pytest.raises(SenderDomainNotVerified) as exc:
        sending_identity(shop_a)
    assert exc.value.code == "401"

    # when: missing
    domain = setup.domain_verify(domain=domain)
    # then
    assert domain.status == DomainStatus.FAILED
    assert _problems(domain) == {
        "verification": "missing",
        "spf": "spf_missing",
        "dkim": "missing",
        "dmarc": "missing",
    }
    with pytest.raises(SenderDomainNotVerified):
        sending_identity(shop_a)

    # when: wrong values everywhere
    publish(
        dns_server,
        domain,
        override={
            "verification": ["sellercenter-verification=0000"],
            "spf": ["v=spf1 include:_spf.google.com ~all"],
            "dkim": ["v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAwrong"],
            "dmarc": ["v=DMARC1; rua=mailto:x@brand-a.com"],
        },
    )
    domain = setup.domain_verify(domain=domain)
    # then
    assert domain.status == DomainStatus.FAILED
    assert _problems(domain) == {
        "verification": "token_mismatch",
        "spf": "spf_include_missing",
        "dkim": "dkim_key_mismatch",
        "dmarc": "dmarc_policy_invalid",
    }
    found = {r["code"]: r["found"] for r in domain.last_results}
    assert found["spf"] == ["v=spf1 include:_spf.google.com ~all"]

    # when: fixed
    publish(dns_server, domain)
    domain = setup.domain_verify(domain=domain)
    # then
    assert domain.status == DomainStatus.VERIFIED
    assert set(_problems(domain).values()) == {""}
    assert domain.failing_since is None
    from_address, identity = sending_identity(shop_a)
    assert from_address == f"Shop A <news@{OWN}>"
    assert identity.kind == DomainKind.OWN


def test_m2_two_spf_records_are_an_error(enabled_a, shop_a, dns_server):
    domain = setup.own_domain_set(shop=shop_a, domain=OWN)
    publish(dns_server, domain)
    dns_server.zone[OWN] = ["v=spf1 include:_spf.sellercenter.example ~all", "v=spf1 -all"]
    assert _problems(setup.domain_verify(domain=domain))["spf"] == "spf_multiple"


def test_m2_spf_among_other_txt_records_and_long_dkim_value(enabled_a, shop_a, dns_server):
    # given: other TXT records beside SPF; the DKIM key split in 255-byte strings by the server
    domain = setup.own_domain_set(shop=shop_a, domain=OWN)
    publish(dns_server, domain)
    dns_server.zone[OWN] = [
        "google-site-verification=abc",
        "v=spf1 ip4:192.0.2.1 include:_spf.sellercenter.example -all",
    ]
    # then
    assert setup.domain_verify(domain=domain).is_verified


def test_m2_dmarc_at_the_parent_domain_counts(enabled_a, shop_a, dns_server):
    domain = setup.own_domain_set(shop=shop_a, domain=OWN)
    publish(dns_server, domain, skip=("dmarc",))
    dns_server.zone["_dmarc.brand-a.com"] = ["v=DMARC1; p=quarantine; sp=none"]
    domain = setup.domain_verify(domain=domain)
    assert domain.is_verified
    dmarc = next(r for r in domain.last_results if r["code"] == "dmarc")
    assert dmarc["where"] == "_dmarc.brand-a.com"


def test_m2_two_dmarc_records_are_an_error(enabled_a, shop_a, dns_server):
    domain = setup.own_domain_set(shop=shop_a, domain=OWN)
    publish(dns_server, domain, override={"dmarc": ["v=DMARC1; p=none", "v=DMARC1; p=reject"]})
    assert _problems(setup.domain_verify(domain=domain))["dmarc"] == "dmarc_multiple"


def test_m2_a_failing_dns_server_is_a_dns_error_not_a_crash(enabled_a, shop_a, dns_server):
    domain = setup.own_domain_set(shop=shop_a, domain=OWN)
    dns_server.fail = True
    domain = setup.domain_verify(domain=domain)
    assert domain.status == DomainStatus.FAILED
    assert set(_problems(domain).values()) == {"dns_error"}


def test_m2_choosing_back_the_default_domain_sends_again(enabled_a, shop_a):
    setup.own_domain_set(shop=shop_a, domain=OWN)
    with pytest.raises(SenderDomainNotVerified):
        sending_identity(shop_a)
    setup.sender_kind_set(shop=shop_a, kind=DomainKind.DEFAULT)
    assert sending_identity(shop_a)[1].kind == DomainKind.DEFAULT


def test_m10_not_enabled_is_401(shop_a, db):
    with pytest.raises(SenderDomainNotVerified) as exc:
        sending_identity(shop_a)
    assert exc.value.code == "401"
    assert exc.value.send_code == 401


def test_m10_sender_name_cannot_inject_headers(enabled_a, shop_a):
    # given: a name with a line break stored by some other path than the form
    brand = shop_a.mailing_brand
    brand.sender_name = "Shop\r\nBcc: everyone@example.org"
    brand.save()
    # when
    from_address, _domain = sending_identity(shop_a)
    # then
    assert "\r" not in from_address
    assert "\n" not in from_address
    assert from_address.endswith("<news@shop-a.mail.sellercenter.example>")


def test_m10_a_non_ascii_sender_name_is_encoded(enabled_a, shop_a):
    brand = shop_a.mailing_brand
    brand.sender_name = "莲花家居"
    brand.save()
    from_address, _domain = sending_identity(shop_a)
    assert from_address.startswith("=?utf-8?")


# --- periodic re-verification ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "last", "failing", "due"),
    [
        ("pending", None, None, True),
        ("verified", 23.99, None, False),
        ("verified", 24, None, True),
        ("failed", 0.25, 47.99, True),
        ("failed", 0.25, 48, False),
        ("failed", 24, 72, True),
    ],
)
def test_m2_recheck_due_at_its_boundaries(db, status, last, failing, due):
    assert (
        rules.domain_recheck_due(status=status, last_checked_hours=last, failing_hours=failing)
        is due
    )


def test_m2_reverification_catches_a_removed_record_and_tells_the_owner(
    enabled_a, shop_a, owner, dns_server
):
    # given: verified now
    domain = setup.own_domain_set(shop=shop_a, domain=OWN)
    publish(dns_server, domain)
    start = clock.now()
    domain = setup.domain_verify(domain=domain, at=start)
    assert domain.is_verified
    del dns_server.zone[domain.dkim_record_name]
    # when: the beat runs just before and at the recheck period
    hours = rules.dns_recheck_hours()
    with time_machine.travel(start + timedelta(hours=hours) - timedelta(seconds=1), tick=False):
        checked_early = setup.domains_reverify()
    with time_machine.travel(start + timedelta(hours=hours), tick=False):
        checked = setup.domains_reverify()
    # then
    assert checked_early == 0
    assert checked == 1
    domain.refresh_from_db()
    assert domain.status == DomainStatus.FAILED
    assert _problems(domain)["dkim"] == "missing"
    note = Notification.objects.get(shop=shop_a, recipient=owner)
    assert OWN in note.title
    assert note.link == "/mailing/setup/domain/"
    with pytest.raises(SenderDomainNotVerified):
        sending_identity(shop_a)


def test_m2_the_beat_task_verifies_a_fixed_domain(enabled_a, shop_a, dns_server):
    from mailing.tasks import sender_domains_reverify_task

    domain = setup.own_domain_set(shop=shop_a, domain=OWN)
    setup.domain_verify(domain=domain)  # failed: nothing published
    publish(dns_server, domain)
    # when: within the propagation window, the next run checks again
    with time_machine.travel(clock.now() + timedelta(minutes=15), tick=False):
        assert sender_domains_reverify_task.delay().get() == 1
    # then
    domain.refresh_from_db()
    assert domain.is_verified
    assert not Notification.objects.filter(shop=shop_a).exists()


def test_m2_default_domains_are_not_looked_up(enabled_a, shop_a, dns_server):
    assert setup.domains_reverify() == 0
    assert dns_server.queries == []
    assert MailingAccount.objects.get(shop=shop_a).sender_kind == DomainKind.DEFAULT
