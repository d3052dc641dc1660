"""The ``segment`` benchmark at a tiny scale (SPEC M-4): its set-based fixtures and its
hand-written SQL give the same count as ``mailing.segments.count`` for every measured segment
(the run refuses to report a ratio otherwise). Timings are never asserted (DESIGN §8)."""

import argparse

import pytest

from bench import segment
from mailing import segments
from orders.models import Order


@pytest.mark.django_db(transaction=True)
def test_m4_segment_bench_orm_and_sql_counts_agree():
    # given: one shop with 3,000 orders over 300 buyers
    setup = segment.cmd_setup(argparse.Namespace(orders=3000, buyers=300, tag="T1"))
    assert Order.objects.filter(shop_id=setup["shop_id"]).count() == 3000
    # when
    result = segment.cmd_run(argparse.Namespace(shop=setup["shop_id"], repeats=1))
    # then: both sides counted the same (else SystemExit), and the segments reach someone
    assert set(result["segments"]) == set(segment.SEGMENTS)
    assert sum(r["count"] for r in result["segments"].values()) > 0
    # and the all-consenting count leaves out the suppressed and the unconfirmed EU buyers
    from shops.models import Shop

    shop = Shop.objects.get(pk=setup["shop_id"])
    everyone = segments.count(segments.ALL, shop=shop)
    assert 0 < everyone < 300
