"""Buyer identity: contact normalisation and SPEC B-3 (one contact, one account), enforced by
the database, through ``buyer_upsert`` and under concurrent registration."""

import threading
from datetime import timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from factories import make_buyer

from buyers.models import Buyer
from buyers.services import (
    ContactTaken,
    InvalidContact,
    buyer_upsert,
    normalize_email,
    normalize_phone,
)
from core import clock
from core.errors import DomainError

# --- normalisation ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("Buyer@Example.com", "buyer@example.com"),
        ("  MiXeD.Case+tag@Mail.Example.ORG ", "mixed.case+tag@mail.example.org"),
        ("STRASSE@example.de", "strasse@example.de"),
        ("Straße@example.de", "strasse@example.de"),  # case-fold, not lower(): ß -> ss
        (None, None),
        ("", None),
        ("   ", None),
    ],
)
def test_b3_normalize_email_case_folds(raw, normalised):
    # when / then
    assert normalize_email(raw) == normalised


@pytest.mark.parametrize("raw", ["no-at-sign", "a@localhost", "@example.com", "a b@example.com"])
def test_b1_normalize_email_refuses_what_is_not_an_address(raw):
    # when / then
    with pytest.raises(InvalidContact):
        normalize_email(raw)


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("+86 138 0013 8000", "+8613800138000"),
        ("+86-138-0013-8000", "+8613800138000"),
        ("+1 (415) 555-2671", "+14155552671"),
        ("+7 912 345-67-89", "+79123456789"),
        ("+44 20 7946 0958", "+442079460958"),
        (None, None),
        ("", None),
    ],
)
def test_b1_normalize_phone_to_e164(raw, e164):
    # when / then
    assert normalize_phone(raw) == e164


@pytest.mark.parametrize("raw", ["13800138000", "+86 1", "phone", "+999 123456", "++86138"])
def test_b1_normalize_phone_refuses_numbers_not_in_international_form(raw):
    # when / then
    with pytest.raises(InvalidContact):
        normalize_phone(raw)


# --- buyer_upsert ----------------------------------------------------------------------------


def test_b3_buyer_upsert_stores_normalised_contacts(db):
    # when
    buyer = make_buyer(email="New.Buyer@Example.COM", phone="+7 912 345-67-89", country="ru")

    # then
    buyer.refresh_from_db()
    assert (buyer.email, buyer.phone, buyer.country) == (
        "new.buyer@example.com",
        "+79123456789",
        "RU",
    )


def test_b3_buyer_upsert_refuses_an_email_of_another_buyer_whatever_its_case(db):
    # given
    make_buyer(external_id="first", email="taken@example.com")

    # when / then
    with pytest.raises(ContactTaken):
        make_buyer(external_id="second", email="TAKEN@Example.com")
    assert not Buyer.objects.filter(external_id="second").exists()


def test_b3_buyer_upsert_refuses_a_phone_of_another_buyer_whatever_its_format(db):
    # given
    make_buyer(external_id="first", email=None, phone="+8613800138000")

    # when / then
    with pytest.raises(ContactTaken):
        make_buyer(external_id="second", email=None, phone="+86 138-0013-8000")
    assert Buyer.objects.count() == 1


def test_b3_buyers_without_an_email_do_not_collide(db):
    # when: NULL is not a value, the partial unique index ignores it
    a = make_buyer(email=None, phone="+14155552671")
    b = make_buyer(email=None, phone="+14155552672")

    # then
    assert a.pk != b.pk
    assert Buyer.objects.filter(email__isnull=True).count() == 2


def test_b3_buyer_upsert_updates_the_same_buyer_by_external_id(db):
    # given
    buyer = make_buyer(external_id="b-1", email="old@example.com")

    # when
    updated = make_buyer(external_id="b-1", email="new@example.com", country="FR", site="fr")

    # then
    assert updated.pk == buyer.pk
    assert Buyer.objects.get(pk=buyer.pk).email == "new@example.com"


def test_b3_buyer_upsert_keeps_a_buyers_own_contact_on_update(db):
    # given
    make_buyer(external_id="b-1", email="me@example.com")

    # when: the marketplace resends the same buyer
    again = make_buyer(external_id="b-1", email="ME@example.com")

    # then
    assert again.email == "me@example.com"
    assert Buyer.objects.count() == 1


def test_b3_a_refused_upsert_leaves_the_outer_transaction_usable(db):
    # given
    make_buyer(external_id="first", email="taken@example.com")

    # when
    with transaction.atomic():
        with pytest.raises(ContactTaken):
            make_buyer(external_id="second", email="taken@example.com")
        # then: the savepoint rolled back only the failed insert
        third = make_buyer(external_id="third", email="free@example.com")

    assert Buyer.objects.filter(pk=third.pk).exists()


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"email": None, "phone": None}, InvalidContact),
        ({"email": "", "phone": "  "}, InvalidContact),
        ({"site": "mars"}, DomainError),
        ({"country": "USA"}, DomainError),
        ({"country": "1A"}, DomainError),
    ],
)
def test_b1_buyer_upsert_refuses_invalid_input(db, overrides, error):
    # when / then
    with pytest.raises(error):
        make_buyer(**overrides)
    assert not Buyer.objects.exists()


# --- the database backstop -------------------------------------------------------------------


def _raw(**fields) -> Buyer:
    defaults = {"country": "US", "registered_at": clock.now()}
    return Buyer.objects.create(**{**defaults, **fields})


def test_b3_the_database_refuses_a_duplicate_email(db):
    # given
    _raw(external_id="a", email="dup@example.com")

    # when / then
    with pytest.raises(IntegrityError, match="buyer_email_unique"):
        _raw(external_id="b", email="dup@example.com")


def test_b3_the_database_refuses_a_duplicate_phone(db):
    # given
    _raw(external_id="a", phone="+8613800138000")

    # when / then
    with pytest.raises(IntegrityError, match="buyer_phone_unique"):
        _raw(external_id="b", phone="+8613800138000")


def test_b3_the_database_refuses_a_buyer_without_contact(db):
    # when / then
    with pytest.raises(IntegrityError, match="buyer_has_contact"):
        _raw(external_id="a")


# --- concurrent registration -----------------------------------------------------------------


def _race(contact: dict, rounds_tag: str) -> list:
    """Two threads upsert two different buyers with the same contact at the same moment."""
    barrier = threading.Barrier(2)
    results: list = [None, None]

    def register(i: int) -> None:
        try:
            barrier.wait(timeout=10)
            results[i] = buyer_upsert(
                external_id=f"{rounds_tag}-{i}",
                country="CN",
                registered_at=clock.now() - timedelta(minutes=1),
                **contact,
            )
        except Exception as exc:
            results[i] = exc
        finally:
            connection.close()  # each thread has its own connection

    threads = [threading.Thread(target=register, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return results


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "contact",
    [
        {"email": "race@example.com"},
        {"email": None, "phone": "+7 912 345-67-89"},
    ],
    ids=["email", "phone"],
)
def test_b3_concurrent_registrations_with_one_contact_make_one_account(contact):
    for round_no in range(5):
        # given: a fresh contact each round
        Buyer.objects.all().delete()

        # when
        results = _race(contact, f"r{round_no}")

        # then: exactly one buyer; the loser got ContactTaken, never an IntegrityError
        buyers = [r for r in results if isinstance(r, Buyer)]
        errors = [r for r in results if not isinstance(r, Buyer)]
        assert len(buyers) == 1, results
        assert len(errors) == 1, results
        assert isinstance(errors[0], ContactTaken), results
        assert Buyer.objects.count() == 1
