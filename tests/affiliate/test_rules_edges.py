"""Edges of the affiliate rules (SPEC A-1 … A-8) that the mutation run of ``affiliate/rules.py``
found untested: exact refusal messages and codes, the destination's length and decoding limits
and its normalised form, the one-minor-unit boundaries of the commission and of reversals.

Equivalent mutants left alive (no input tells them apart; noted, not tested):
- ``check_destination``: ``port = None``, ``port is not None and …``, ``username is not None and
  …``, ``"XX%XX" in netloc`` and ``hostname or "XXXX"`` — every such URL is already refused by
  ``netloc.lower() != host`` or ``host not in allowed`` (defence in depth, kept on purpose).
- ``commission_minor``: ``base_minor < 0`` (a zero base gives a zero numerator: 0 either way).
- ``reversal_target_minor``: ``amount <= 0 and refunded <= 0``, ``amount < 0``, ``refunded < 0``
  with a positive payment, and the four mutants of ``paid_minor <= 0 or refunded >= paid``
  (the proportional formula gives the whole commission at ``refunded == paid`` and the early
  return gives it for ``paid <= 0`` in every variant).

Run of 2026-12-02 (``affiliate/rules.py`` alone; this file and test_rules.py selected): 228
mutants, 210 killed, 13 survived (the 11 above, and two of ``refund_spike``'s ``paid <= 0``
that the smallest-minimum cases now kill), 5 with no test in that selection (the fraud registry
getters, covered by ``test_fraud.py::test_a6_fraud_registry_defaults``).
"""

from datetime import timedelta

import pytest

from affiliate import rules
from core import clock
from core.errors import DomainError

HOSTS = {"www.aliexpress.com", "aliexpress.com"}
MESSAGE = (
    "The destination must be an https address on the marketplace "
    "(aliexpress.com, www.aliexpress.com)."
)


def _refusal(fn, *args, **kwargs) -> DomainError:
    with pytest.raises(DomainError) as exc:
        fn(*args, **kwargs)
    return exc.value


# --- refusals: exact message and code ---------------------------------------------


@pytest.mark.parametrize("bad", [True, "100", None, 12.0])
def test_a2_rate_not_whole_basis_points_message_and_code(bad):
    e = _refusal(rules.check_rate_bp, bad, min_bp=50, max_bp=2000)
    assert (e.message, e.code) == (
        "The commission rate must be a whole number of basis points.",
        "affiliate_invalid_rate",
    )


@pytest.mark.parametrize("bad", [49, 2001])
def test_a2_rate_out_of_range_message_and_code(bad):
    e = _refusal(rules.check_rate_bp, bad, min_bp=50, max_bp=2000)
    assert (e.message, e.code) == (
        "The commission rate must be between 0.5% and 20%.",
        "affiliate_invalid_rate",
    )


@pytest.mark.parametrize("bad", [-1, True, "30", None])
def test_a2_minimum_order_refusal_message_and_code(bad):
    e = _refusal(rules.check_min_order_minor, bad)
    assert (e.message, e.code) == (
        "The minimum order amount must be zero or a positive amount.",
        "affiliate_invalid_minimum",
    )


def test_a1_trial_second_pid_refusal_message():
    e = _refusal(rules.check_pid_count, trial=True, existing=1)
    assert e.message == (
        "A promoter in trial has one PID; more open after the first attributed paid order."
    )


# --- A-4 destination ------------------------------------------------------------------------


def test_a4_redirect_hosts_setting_is_trimmed_lowercased_and_blank_free(settings):
    settings.SC_AFFILIATE_REDIRECT_HOSTS = [" WWW.AliExpress.com ", "", "  ", "m.aliexpress.com"]
    assert rules.redirect_hosts() == frozenset({"www.aliexpress.com", "m.aliexpress.com"})


def test_a4_refusal_names_the_allowed_hosts_exactly():
    e = _refusal(rules.check_destination, "https://evil.com/", hosts=HOSTS)
    assert (e.message, e.code) == (MESSAGE, "affiliate_bad_destination")


def test_a4_refusal_with_an_empty_allow_list_says_no_host_is_allowed():
    e = _refusal(rules.check_destination, "https://www.aliexpress.com/", hosts=set())
    assert e.message == (
        "The destination must be an https address on the marketplace (no host allowed)."
    )


PREFIX = "https://www.aliexpress.com/"


def test_a4_destination_of_exactly_1000_characters_is_kept_1001_refused():
    at_limit = PREFIX + "a" * (1000 - len(PREFIX))
    assert len(at_limit) == 1000
    assert rules.check_destination(at_limit, hosts=HOSTS) == at_limit
    e = _refusal(rules.check_destination, at_limit + "a", hosts=HOSTS)
    assert e.code == "affiliate_bad_destination"


@pytest.mark.parametrize("bad", [123, ["https://www.aliexpress.com/"], b"https://x"])
def test_a4_a_destination_that_is_not_text_is_refused_cleanly(bad):
    assert _refusal(rules.check_destination, bad, hosts=HOSTS).code == "affiliate_bad_destination"


def test_a4_percent_encoding_is_decoded_twice_not_three_times():
    # "@" encoded twice (%2540) is refused; encoded three times (%252540) it is no separator to
    # a browser (which decodes once) and stays in the path as text.
    _refusal(rules.check_destination, PREFIX + "a%2540b", hosts=HOSTS)
    kept = PREFIX + "a%252540b"
    assert rules.check_destination(kept, hosts=HOSTS) == kept


@pytest.mark.parametrize(
    "bad",
    [
        "HTTPS://www.aliexpress.com/",  # the scheme must be written https:// exactly
        "Https://www.aliexpress.com/",
        "https://www.aliexpress.com:/",  # an empty port: the netloc is not the bare host
    ],
)
def test_a4_destination_written_otherwise_than_https_and_bare_host_is_refused(bad):
    assert _refusal(rules.check_destination, bad, hosts=HOSTS).code == "affiliate_bad_destination"


@pytest.mark.parametrize(
    ("url", "normal"),
    [
        (
            "https://WWW.AliExpress.com/item/1.html?x=1",
            "https://www.aliexpress.com/item/1.html?x=1",
        ),
        ("https://www.aliexpress.com", "https://www.aliexpress.com/"),
        ("https://aliexpress.com/store/9#reviews", "https://aliexpress.com/store/9"),
    ],
)
def test_a4_destination_is_returned_normalised(url, normal):
    assert rules.check_destination(url, hosts=HOSTS) == normal


# --- one minor unit ------------------------------------------------------


def test_a8_a_base_of_one_minor_unit_still_earns_with_the_cent_minimum():
    # 1 × 50% = 0.5 → half up → 1 minor unit, kept by the "$0.01 minimum" switch
    assert (
        rules.commission_minor(base_minor=1, lines=[(1, 5000)], cent_minimum=True, floor_minor=10)
        == 1
    )


@pytest.mark.parametrize(
    ("amount", "refunded", "paid", "target"),
    [
        (1, 5, 10, 1),  # a one-unit commission, half refunded: rounded up, the whole unit
        (100, 1, 100, 1),  # one unit of 100 refunded: one unit back
        (100, 0, 0, 0),  # nothing refunded (and nothing paid): nothing back
        (-1, 5, 10, 0),  # never a negative reversal
    ],
)
def test_a6_reversal_at_one_minor_unit(amount, refunded, paid, target):
    assert (
        rules.reversal_target_minor(amount_minor=amount, refunded_minor=refunded, paid_minor=paid)
        == target
    )


# --- fraud holds (Issue 9 item 9): the pure rules at their boundaries -----------------------


@pytest.mark.parametrize(
    ("gap", "held"),
    [
        (timedelta(seconds=10) - timedelta(microseconds=1), True),
        (timedelta(seconds=10), False),  # exactly the minimum: human enough
        (timedelta(seconds=0), True),
        (timedelta(hours=1), False),
    ],
)
def test_a6_fraud_too_fast_boundary(gap, held):
    at = clock.now()
    assert rules.too_fast(clicked_at=at, placed_at=at + gap, min_seconds=10) is held


@pytest.mark.parametrize(
    ("paid", "refunded", "held"),
    [
        (9, 9, False),  # under the minimum number of paid orders: no evidence
        (10, 3, True),  # exactly 30% of exactly 10
        (10, 2, False),  # 20%
        (11, 3, False),  # 27.3%
        (20, 6, True),
        (0, 0, False),
    ],
)
def test_a6_fraud_refund_spike_boundary(paid, refunded, held):
    assert rules.refund_spike(paid=paid, refunded=refunded, min_orders=10, rate_bp=3000) is held


@pytest.mark.parametrize(
    ("paid", "refunded", "min_orders", "held"),
    [
        (0, 0, 0, False),  # no paid order is never a spike, whatever the minimum
        (1, 1, 1, True),  # one paid order, refunded, with a minimum of one: a spike
        (1, 0, 1, False),
    ],
)
def test_a6_fraud_refund_spike_with_the_smallest_minimums(paid, refunded, min_orders, held):
    assert (
        rules.refund_spike(paid=paid, refunded=refunded, min_orders=min_orders, rate_bp=3000)
        is held
    )
