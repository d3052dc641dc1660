"""Admin views of the set-up (SPEC M-2): view-only, the DKIM private key never shown, a DNS
re-check action for own domains."""

from django.urls import reverse
from mailkit import publish

from mailing.models import SenderDomain
from mailing.services import setup


def test_m2_admin_lists_domains_without_the_private_key(enabled_a, shop_a, admin_client):
    # given
    domain = SenderDomain.objects.get(shop=shop_a)
    # when
    listing = admin_client.get(reverse("admin:mailing_senderdomain_changelist"))
    page = admin_client.get(reverse("admin:mailing_senderdomain_change", args=[domain.pk]))
    # then
    assert listing.status_code == 200
    assert domain.domain in listing.content.decode()
    content = page.content.decode()
    assert domain.dkim_public_key in content
    assert domain.dkim_private_key_encrypted not in content
    for name in ("mailingaccount", "brandprofile", "mailtemplate"):
        assert admin_client.get(reverse(f"admin:mailing_{name}_changelist")).status_code == 200


def test_m2_admin_action_checks_own_domains(enabled_a, shop_a, admin_client, dns_server):
    own = setup.own_domain_set(shop=shop_a, domain="promo.brand-a.com")
    publish(dns_server, own)
    response = admin_client.post(
        reverse("admin:mailing_senderdomain_changelist"),
        {"action": "verify_now", "_selected_action": [own.pk]},
        follow=True,
    )
    assert "1 checked, 1 verified." in response.content.decode()
    own.refresh_from_db()
    assert own.is_verified
