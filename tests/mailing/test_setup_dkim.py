"""DKIM (SPEC M-2 a, M-11): a key pair per domain, the private key stored encrypted, and every
message signed so that a receiver (dkimpy, asking the test's DNS server) verifies it — with
List-Unsubscribe and List-Unsubscribe-Post covered."""

from email.message import EmailMessage

import dkim as dkimpy
import pytest
from mailkit import publish

from integrations.services import decrypt_secret
from mailing import dkim
from mailing.dns import txt_records
from mailing.selectors import sending_identity
from mailing.services import setup


def _message(from_address: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = from_address
    msg["To"] = "buyer@example.org"
    msg["Subject"] = "Spring sale"
    msg["Message-ID"] = "<1@sc.example>"
    msg["List-Unsubscribe"] = "<https://sc.example/u/tok>"
    msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg.set_content("Hello\n")
    return msg.as_bytes()


def _dnsfunc(name, timeout=5):
    _outcome, values = txt_records(name.decode().rstrip("."))
    return values[0].encode() if values else None


@pytest.fixture
def own_verified(enabled_a, shop_a, dns_server):
    own = setup.own_domain_set(shop=shop_a, domain="promo.brand-a.com")
    publish(dns_server, own)
    return setup.domain_verify(domain=own)


def test_m2_signed_message_verifies_against_the_published_key(own_verified, shop_a):
    # given
    from_address, domain = sending_identity(shop_a)
    # when
    signed = dkim.sign(_message(from_address), domain=domain)
    # then
    assert dkimpy.verify(signed, dnsfunc=_dnsfunc)
    header = signed.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0].decode()
    signed_headers = header.split("h=", 1)[1].split(";", 1)[0].replace(" ", "").replace("\r\n", "")
    assert "list-unsubscribe:list-unsubscribe-post" in signed_headers.replace("\n", "").replace(
        "\t", ""
    )
    assert "d=promo.brand-a.com" in header


def test_m11_a_changed_list_unsubscribe_breaks_the_signature(own_verified, shop_a):
    # given
    from_address, domain = sending_identity(shop_a)
    signed = dkim.sign(_message(from_address), domain=domain)
    # when: someone on the way swaps the unsubscribe address
    tampered = signed.replace(b"https://sc.example/u/tok", b"https://evil.example/u/tok")
    # then
    assert not dkimpy.verify(tampered, dnsfunc=_dnsfunc)


def test_m2_another_published_key_does_not_verify(own_verified, shop_a, dns_server):
    # given: the DKIM record holds some other key
    _private, other_public = dkim.generate_key_pair()
    dns_server.zone[own_verified.dkim_record_name] = [dkim.dns_txt_value(other_public)]
    from_address, domain = sending_identity(shop_a)
    # when
    signed = dkim.sign(_message(from_address), domain=domain)
    # then
    assert not dkimpy.verify(signed, dnsfunc=_dnsfunc)


def test_m2_each_domain_has_its_own_key_stored_encrypted(enabled_a, enabled_b, shop_a, shop_b):
    # given
    a = shop_a.sender_domains.get()
    b = shop_b.sender_domains.get()
    # then
    assert a.dkim_public_key != b.dkim_public_key
    assert "PRIVATE KEY" not in a.dkim_private_key_encrypted
    assert decrypt_secret(a.dkim_private_key_encrypted).startswith("-----BEGIN RSA PRIVATE KEY")
