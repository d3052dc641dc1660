"""core.pagination: keyset pages walk every row once, in order, both ways; junk cursors give the
first page; each page is one query (no OFFSET, no COUNT)."""

import base64
import json
from datetime import timedelta

import pytest
from factories import make_buyer, make_order, make_product

from core import clock
from core.pagination import InvalidCursor, KeysetPaginator, capped_count
from orders.models import Order
from orders.selectors import ORDER_SORTS, orders_for_shop


def _token(values) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


@pytest.fixture
def orders_with_ties(shop_a):
    """11 orders: placed at only 3 distinct instants and 3 distinct amounts (ties everywhere)."""
    buyer = make_buyer()
    sku = make_product(shop_a, price_minor=10_00).skus.first()
    base = clock.now() - timedelta(days=2)
    return [
        make_order(
            shop_a,
            buyer,
            sku=sku,
            quantity=1 + i % 3,
            placed_at=base + timedelta(hours=i % 3),
            number=f"K-{(i * 7) % 11:02d}",
        )
        for i in range(11)
    ]


def _walk_forward(paginator):
    pages, page = [], paginator.page()
    while True:
        pages.append([o.pk for o in page])
        if not page.has_next:
            return pages
        page = paginator.page(after=page.next_cursor)


@pytest.mark.parametrize("sort", sorted(ORDER_SORTS))
def test_pages_walk_every_row_once_in_order_both_ways(shop_a, orders_with_ties, sort):
    # given
    qs = orders_for_shop(shop=shop_a, sort=sort)
    expected = [o.pk for o in qs]
    paginator = KeysetPaginator(qs, per_page=4)
    # when: forward to the end
    pages = _walk_forward(paginator)
    # then
    assert [pk for p in pages for pk in p] == expected
    assert [len(p) for p in pages] == [4, 4, 3]
    # when: back from the last page, through previous_cursor
    last = paginator.page(after=paginator.page(after=paginator.page().next_cursor).next_cursor)
    back = [[o.pk for o in last]]
    page = last
    while page.has_previous and page.previous_cursor:
        page = paginator.page(before=page.previous_cursor)
        back.insert(0, [o.pk for o in page])
    # then
    assert back == pages
    assert page.has_previous is False


def test_first_page_flags(shop_a, orders_with_ties):
    # when
    paginator = KeysetPaginator(orders_for_shop(shop=shop_a), per_page=20)
    page = paginator.page()
    # then
    assert len(page) == 11
    assert (page.has_next, page.has_previous, page.has_other_pages) == (False, False, False)
    assert page.next_cursor is None


def test_a_page_exactly_full_has_no_next(shop_a, orders_with_ties):
    # when
    page = KeysetPaginator(orders_for_shop(shop=shop_a), per_page=11).page()
    # then
    assert len(page) == 11
    assert page.has_next is False


def test_each_page_is_one_query(shop_a, orders_with_ties, django_assert_num_queries):
    # given
    paginator = KeysetPaginator(orders_for_shop(shop=shop_a), per_page=4)
    cursor = paginator.page().next_cursor
    # then
    with django_assert_num_queries(1) as ctx:
        list(paginator.page(after=cursor))
    sql = ctx.captured_queries[0]["sql"].upper()
    assert "OFFSET" not in sql
    assert "COUNT(" not in sql
    with django_assert_num_queries(1):
        list(paginator.page(before=cursor))


def test_a_row_inserted_before_the_cursor_does_not_shift_the_next_page(shop_a, orders_with_ties):
    # given
    paginator = KeysetPaginator(orders_for_shop(shop=shop_a, sort="-placed"), per_page=4)
    first = paginator.page()
    second_before = [o.pk for o in paginator.page(after=first.next_cursor)]
    # when: a newer order lands on top (OFFSET would show one row twice)
    make_order(shop_a, make_buyer(), placed_at=clock.now())
    # then
    assert [o.pk for o in paginator.page(after=first.next_cursor)] == second_before


@pytest.mark.parametrize(
    "token",
    [
        "",
        "!!!",
        "not-base64-at-all~",
        "x" * 5000,
        _token([]),
        _token({"a": 1}),
        _token(["2025-01-01T00:00:00+00:00"]),  # one value for a two-column key
        _token(["2025-01-01T00:00:00+00:00", 2**80]),  # id beyond bigint
        _token(["2025-01-01T00:00:00+00:00", -(2**80)]),
        _token(["2025-01-01T00:00:00", 5]),  # naive datetime
        _token(["0000-00-00", 5]),
        _token(["2025-01-01T00:00:00+00:00", "1\x00"]),
        _token(["2025-01-01T00:00:00+00:00", None]),
        _token(["2025-01-01T00:00:00+00:00", 1.5]),
        _token(["2025-01-01T00:00:00+00:00", True]),
        _token(["2025-01-01T00:00:00+00:00", [1]]),
        base64.urlsafe_b64encode(b"\xff\xfe").decode(),
    ],
)
def test_a_junk_cursor_gives_the_first_page(shop_a, orders_with_ties, token):
    # given
    paginator = KeysetPaginator(orders_for_shop(shop=shop_a), per_page=4)
    first = [o.pk for o in paginator.page()]
    # when
    after, before = paginator.page(after=token), paginator.page(before=token)
    # then
    assert [o.pk for o in after] == first
    assert [o.pk for o in before] == first
    assert after.has_previous is False
    with pytest.raises(InvalidCursor):
        paginator.decode(token)


def test_a_cursor_of_amounts_is_checked_against_the_column_range(shop_a, orders_with_ties):
    # given
    paginator = KeysetPaginator(orders_for_shop(shop=shop_a, sort="-amount"), per_page=4)
    # then
    with pytest.raises(InvalidCursor):
        paginator.decode(_token([2**70, 1]))
    assert paginator.decode(_token([500, 1])) == (500, 1)


def test_get_page_reads_after_and_before_from_the_query_string(shop_a, orders_with_ties):
    # given
    paginator = KeysetPaginator(orders_for_shop(shop=shop_a), per_page=4)
    second = paginator.page(after=paginator.page().next_cursor)
    # when / then
    assert list(paginator.get_page({"after": paginator.page().next_cursor})) == list(second)
    assert list(paginator.get_page({})) == list(paginator.page())


@pytest.mark.parametrize(
    "ordering",
    [("-placed_at", "id"), ("placed_at",), ("amount_paid_minor", "placed_at"), ()],
)
def test_orderings_that_cannot_seek_are_refused(shop_a, ordering):
    # then
    with pytest.raises(ValueError, match="keyset"):
        KeysetPaginator(Order.objects.order_by(), per_page=5, ordering=ordering)


def test_capped_count(shop_a, orders_with_ties):
    # given
    qs = Order.objects.filter(shop=shop_a)
    # then
    assert capped_count(qs, 100) == (11, False)
    assert capped_count(qs, 11) == (11, False)
    assert capped_count(qs, 10) == (10, True)
