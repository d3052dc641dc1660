"""The shop balance ledger (SPEC §0 "Shop balance", DESIGN §3): append-only entries with a cached
balance, idempotent credits and debits, never below zero — in the services, in the database's
constraints, and under concurrent transactions."""

import threading
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from factories import make_shop

from core.errors import DomainError
from core.money import Money
from shops.models import BalanceEntry, ShopBalance
from shops.selectors import balance_entries_for_shop, balance_for_shop
from shops.services import balance_credit, balance_debit, balance_debit_batch


def yuan(n: int) -> Money:
    return Money(n * 100, "CNY")


def _credit(shop, amount, key="k-credit", reason="Settlement payout"):
    return balance_credit(shop=shop, amount=amount, reason=reason, idempotency_key=key)


def _debit(shop, amount, key="k-debit", reason="Coin fund top-up"):
    return balance_debit(shop=shop, amount=amount, reason=reason, idempotency_key=key)


# --- the services --------------------------------------------------------------------------------


def test_credit_then_debit_moves_the_cached_balance_and_records_balance_after(db):
    # given
    shop = make_shop()

    # when
    credit = _credit(shop, yuan(100))
    debit = _debit(shop, yuan(30))

    # then
    assert balance_for_shop(shop=shop) == yuan(70)
    assert (credit.kind, credit.amount, credit.balance_after) == ("credit", yuan(100), yuan(100))
    assert (debit.kind, debit.amount, debit.balance_after) == ("debit", yuan(30), yuan(70))
    assert debit.signed_amount == -yuan(30)
    assert list(balance_entries_for_shop(shop=shop)) == [debit, credit]


def test_a_shop_with_no_entry_has_a_zero_balance(db):
    assert balance_for_shop(shop=make_shop()) == yuan(0)


def test_debit_the_balance_cannot_cover_is_refused_and_writes_nothing(db):
    # given
    shop = make_shop()
    _credit(shop, yuan(10))

    # when
    with pytest.raises(DomainError) as err:
        _debit(shop, Money(10_01, "CNY"))

    # then
    assert err.value.code == "insufficient_balance"
    assert "¥10.00" in err.value.message
    assert balance_for_shop(shop=shop) == yuan(10)
    assert BalanceEntry.objects.count() == 1


def test_debit_of_exactly_the_balance_leaves_zero(db):
    # given
    shop = make_shop()
    _credit(shop, yuan(10))
    # when
    entry = _debit(shop, yuan(10))
    # then
    assert entry.balance_after_minor == 0
    assert balance_for_shop(shop=shop) == yuan(0)


def test_debit_of_a_shop_that_never_had_a_balance_is_refused(db):
    # when
    with pytest.raises(DomainError) as err:
        _debit(make_shop(), Money(1, "CNY"))
    # then
    assert err.value.code == "insufficient_balance"
    assert not BalanceEntry.objects.exists()


@pytest.mark.parametrize(
    ("amount", "code"),
    [
        (Money(0, "CNY"), "invalid_amount"),
        (Money(-500, "CNY"), "invalid_amount"),
        (5.0, "invalid_amount"),
        (500, "invalid_amount"),
        (Decimal("5.00"), "invalid_amount"),
        (Money(500, "USD"), "currency_mismatch"),
    ],
)
@pytest.mark.parametrize("service", [balance_credit, balance_debit])
def test_bad_amounts_are_refused_and_write_nothing(db, service, amount, code):
    # given
    shop = make_shop()

    # when
    with pytest.raises(DomainError) as err:
        service(shop=shop, amount=amount, reason="x", idempotency_key="k")

    # then
    assert err.value.code == code
    assert not ShopBalance.objects.exists()
    assert not BalanceEntry.objects.exists()


@pytest.mark.parametrize(
    ("reason", "key", "code"),
    [
        ("", "k", "invalid_reason"),
        ("   ", "k", "invalid_reason"),
        ("r" * 201, "k", "invalid_reason"),
        ("ok", "", "invalid_idempotency_key"),
        ("ok", "k" * 201, "invalid_idempotency_key"),
        ("ok", None, "invalid_idempotency_key"),
    ],
)
def test_bad_reason_or_key_is_refused(db, reason, key, code):
    # given
    shop = make_shop()
    # when
    with pytest.raises(DomainError) as err:
        balance_credit(shop=shop, amount=yuan(1), reason=reason, idempotency_key=key)
    # then
    assert err.value.code == code
    assert not BalanceEntry.objects.exists()


# --- idempotency ---------------------------------------------------------------------------------


def test_same_key_returns_the_first_entry_and_moves_the_balance_once(db):
    # given
    shop = make_shop()
    first = _credit(shop, yuan(50), key="payout-1")

    # when
    again = _credit(shop, yuan(50), key="payout-1")

    # then
    assert again.pk == first.pk
    assert balance_for_shop(shop=shop) == yuan(50)
    assert BalanceEntry.objects.count() == 1


def test_debit_replay_is_not_refused_even_when_the_balance_no_longer_covers_it(db):
    # given: a debit that emptied the balance
    shop = make_shop()
    _credit(shop, yuan(10))
    first = _debit(shop, yuan(10), key="topup-1")

    # when: its replay
    again = _debit(shop, yuan(10), key="topup-1")

    # then: the first result, not insufficient_balance
    assert again.pk == first.pk
    assert balance_for_shop(shop=shop) == yuan(0)


@pytest.mark.parametrize("change", ["amount", "kind", "shop"])
def test_same_key_with_other_parameters_is_refused(db, change):
    # given
    shop, other = make_shop(), make_shop()
    _credit(shop, yuan(50), key="payout-1")

    again = {
        "amount": lambda: _credit(shop, yuan(51), key="payout-1"),
        "kind": lambda: _debit(shop, yuan(50), key="payout-1"),
        "shop": lambda: _credit(other, yuan(50), key="payout-1"),
    }[change]

    # when
    with pytest.raises(DomainError) as err:
        again()

    # then
    assert err.value.code == "idempotency_key_reused"
    assert balance_for_shop(shop=shop) == yuan(50)
    assert balance_for_shop(shop=other) == yuan(0)
    assert BalanceEntry.objects.count() == 1


# --- the batch path (set-based debits of one shop) --------------------------------------------


def _batch(shop, *debits):
    return balance_debit_batch(shop=shop, currency="CNY", debits=list(debits))


def test_debit_batch_debits_in_order_what_the_running_balance_covers(db):
    # given: 25 yuan
    shop = make_shop()
    _credit(shop, yuan(25))

    # when: 10 fits, 20 does not (15 left), 5 still fits
    out = _batch(shop, ("b-1", 10_00, "one"), ("b-2", 20_00, "two"), ("b-3", 5_00, "three"))

    # then: the same entries as three balance_debit calls, balance_after chained
    assert (out.debited, out.replayed, out.refused) == (["b-1", "b-3"], [], ["b-2"])
    assert balance_for_shop(shop=shop) == yuan(10)
    assert list(
        BalanceEntry.objects.filter(kind="debit")
        .order_by("pk")
        .values_list("idempotency_key", "amount_minor", "balance_after_minor", "reason")
    ) == [("b-1", 10_00, 15_00, "one"), ("b-3", 5_00, 10_00, "three")]


def test_debit_batch_replays_a_key_already_debited_without_moving_money(db):
    # given: b-1 debited one by one
    shop = make_shop()
    _credit(shop, yuan(20))
    _debit(shop, yuan(10), key="b-1")

    # when
    out = _batch(shop, ("b-1", 10_00, "one"), ("b-2", 10_00, "two"))
    again = _batch(shop, ("b-1", 10_00, "one"), ("b-2", 10_00, "two"))

    # then: each debit once
    assert (out.debited, out.replayed) == (["b-2"], ["b-1"])
    assert (again.debited, again.replayed, again.refused) == ([], ["b-1", "b-2"], [])
    assert balance_for_shop(shop=shop) == yuan(0)
    assert BalanceEntry.objects.filter(kind="debit").count() == 2


def test_debit_batch_refuses_a_key_used_for_another_amount_and_writes_nothing(db):
    shop = make_shop()
    _credit(shop, yuan(20))
    _debit(shop, yuan(10), key="b-1")

    with pytest.raises(DomainError) as err:
        _batch(shop, ("b-2", 1_00, "two"), ("b-1", 9_00, "one"))

    assert err.value.code == "idempotency_key_reused"
    assert balance_for_shop(shop=shop) == yuan(10)
    assert BalanceEntry.objects.count() == 2


@pytest.mark.parametrize(
    ("bad", "code"),
    [
        (("b-2", 0, "zero"), "invalid_amount"),
        (("b-2", -1_00, "negative"), "invalid_amount"),
        (("b-2", 1_00, "  "), "invalid_reason"),
        (("", 1_00, "no key"), "invalid_idempotency_key"),
        (("b-1", 1_00, "same key twice"), "invalid_batch"),
    ],
)
def test_debit_batch_with_one_bad_debit_is_refused_whole_and_writes_nothing(db, bad, code):
    shop = make_shop()
    _credit(shop, yuan(20))

    with pytest.raises(DomainError) as err:
        _batch(shop, ("b-1", 1_00, "one"), bad)

    assert err.value.code == code
    assert balance_for_shop(shop=shop) == yuan(20)
    assert BalanceEntry.objects.count() == 1


def test_debit_batch_in_another_currency_is_refused(db):
    shop = make_shop()
    _credit(shop, yuan(20))

    with pytest.raises(DomainError) as err:
        balance_debit_batch(shop=shop, currency="USD", debits=[("b-1", 1_00, "one")])

    assert err.value.code == "currency_mismatch"
    assert BalanceEntry.objects.count() == 1


def test_debit_batch_of_a_shop_without_a_balance_refuses_every_debit(db):
    shop = make_shop()

    out = _batch(shop, ("b-1", 1_00, "one"))

    assert (out.debited, out.refused) == ([], ["b-1"])
    assert not BalanceEntry.objects.exists()


# --- the database backstops ----------------------------------------------------------------------


@pytest.fixture
def entry(db):
    return _credit(make_shop(), yuan(20))


def test_db_refuses_a_negative_cached_balance(entry):
    with pytest.raises(IntegrityError), transaction.atomic():
        ShopBalance.objects.filter(pk=entry.balance_id).update(balance_minor=-1)


@pytest.mark.parametrize(
    ("field", "value"),
    [("amount_minor", 0), ("amount_minor", -1), ("balance_after_minor", -1), ("kind", "gift")],
)
def test_db_refuses_an_invalid_entry(entry, field, value):
    # given
    row = {
        "balance_id": entry.balance_id,
        "shop_id": entry.shop_id,
        "kind": "credit",
        "amount_minor": 1,
        "currency": "CNY",
        "balance_after_minor": 1,
        "reason": "x",
        "idempotency_key": "other",
        field: value,
    }
    # when / then
    with pytest.raises(IntegrityError), transaction.atomic():
        BalanceEntry.objects.create(**row)


def test_db_refuses_a_second_entry_with_the_same_key(entry):
    with pytest.raises(IntegrityError), transaction.atomic():
        BalanceEntry.objects.create(
            balance_id=entry.balance_id,
            shop_id=entry.shop_id,
            kind="credit",
            amount_minor=1,
            currency="CNY",
            balance_after_minor=1,
            reason="x",
            idempotency_key=entry.idempotency_key,
        )


def test_db_refuses_a_second_balance_row_for_the_same_shop_and_currency(entry):
    with pytest.raises(IntegrityError), transaction.atomic():
        ShopBalance.objects.create(shop_id=entry.shop_id, currency="CNY")


def test_db_refuses_update_of_a_ledger_entry(entry):
    # when / then: through the ORM
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        BalanceEntry.objects.filter(pk=entry.pk).update(reason="edited")
    # and in raw SQL
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cur:
        cur.execute("UPDATE shops_balanceentry SET amount_minor = 1 WHERE id = %s", [entry.pk])
    entry.refresh_from_db()
    assert (entry.reason, entry.amount_minor) == ("Settlement payout", 20_00)


def test_db_refuses_delete_of_a_ledger_entry(entry):
    # when / then
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        BalanceEntry.objects.filter(pk=entry.pk).delete()
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cur:
        cur.execute("DELETE FROM shops_balanceentry WHERE id = %s", [entry.pk])
    assert BalanceEntry.objects.filter(pk=entry.pk).exists()


# --- races: real transactions in threads -----------------------------------------------------


def _in_threads(n, work):
    """Run ``work(i)`` in ``n`` threads released together; return each result or exception."""
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def run(i):
        try:
            barrier.wait()
            results[i] = work(i)
        except Exception as exc:
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


@pytest.mark.django_db(transaction=True)
def test_concurrent_debits_that_together_exceed_the_balance_take_only_what_it_covers():
    # given: ¥100, and 8 debits of ¥30 at once (¥240)
    shop = make_shop()
    _credit(shop, yuan(100))

    # when
    results = _in_threads(8, lambda i: _debit(shop, yuan(30), key=f"topup-{i}"))

    # then: exactly three succeed, the others are refused; the balance is ¥10, never negative
    done = [r for r in results if isinstance(r, BalanceEntry)]
    refused = [r for r in results if isinstance(r, DomainError)]
    assert len(done) == 3
    assert len(refused) == 5
    assert {e.code for e in refused} == {"insufficient_balance"}
    assert balance_for_shop(shop=shop) == yuan(10)
    assert sorted(e.balance_after_minor for e in done) == [10_00, 40_00, 70_00]
    assert BalanceEntry.objects.filter(kind="debit").count() == 3


@pytest.mark.django_db(transaction=True)
def test_concurrent_replays_of_one_key_credit_once():
    # given
    shop = make_shop()

    # when: the same credit 8 times at once
    results = _in_threads(8, lambda i: _credit(shop, yuan(25), key="payout-42"))

    # then
    assert all(isinstance(r, BalanceEntry) for r in results), results
    assert len({r.pk for r in results}) == 1
    assert balance_for_shop(shop=shop) == yuan(25)


@pytest.mark.django_db(transaction=True)
def test_concurrent_use_of_one_key_for_two_shops_credits_one_of_them():
    # given
    a, b = make_shop(), make_shop()

    # when
    results = _in_threads(2, lambda i: _credit((a, b)[i], yuan(25), key="payout-7"))

    # then: one applied, the other refused as a reused key
    assert sorted(type(r).__name__ for r in results) == ["BalanceEntry", "IdempotencyKeyReused"]
    assert balance_for_shop(shop=a) + balance_for_shop(shop=b) == yuan(25)


# --- admin: view-only -------------------------------------------------------------------------


def test_admin_lists_balances_and_entries_view_only(admin_client, entry):
    # when
    entries = admin_client.get("/admin/shops/balanceentry/", {"q": entry.idempotency_key})
    filtered = admin_client.get("/admin/shops/balanceentry/", {"kind__exact": "debit"})
    balances = admin_client.get("/admin/shops/shopbalance/")
    shops = admin_client.get("/admin/shops/shop/")
    change = admin_client.post(f"/admin/shops/balanceentry/{entry.pk}/change/", {"reason": "x"})
    add = admin_client.get("/admin/shops/balanceentry/add/")

    # then
    assert entries.status_code == 200
    assert "Settlement payout" in entries.text
    assert "Settlement payout" not in filtered.text
    assert "¥20.00" in balances.text
    assert "¥20.00" in shops.text  # the shop list shows the cached balance
    assert change.status_code == 403
    assert add.status_code == 403
