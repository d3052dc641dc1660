"""Smoke tests of the benchmark harness's pure pieces (DESIGN §8: timings are never asserted).

They check goal parsing and how ``met`` is computed, the shape of ``bench/results/latest.json``,
the rewrite of the marked table in ``bench/README.md``, the parsing of wrk's summary and the
ingest workload — no server, no database, no benchmark.
"""

import json

import pytest

from bench import dashboard, ingest, results
from bench.results import Entry


def test_bench_goal_parsing_accepts_comparison_and_number():
    # given / when / then
    assert results.parse_goal(">=0.25") == (">=", 0.25)
    assert results.parse_goal("<=150") == ("<=", 150.0)
    assert results.parse_goal(" > 1.5 ") == (">", 1.5)


@pytest.mark.parametrize("goal", ["", "0.25", "=>0.25", ">=", ">=abc", "==1"])
def test_bench_goal_parsing_refuses_anything_else(goal):
    # given a malformed goal / when parsed / then
    with pytest.raises(results.GoalError):
        results.parse_goal(goal)


def test_bench_throughput_goal_bounds_the_ratio_to_the_baseline():
    # given 120 events/s against a 1,000 events/s baseline, goal ratio >= 0.1
    # when
    met = Entry.make("ingest.events_per_s", "events/s", 120, 1000, ">=0.1")
    missed = Entry.make("ingest.events_per_s", "events/s", 90, 1000, ">=0.1")
    # then
    assert met.ratio == pytest.approx(0.12)
    assert met.met is True
    assert missed.met is False


def test_bench_latency_goal_bounds_the_value_not_the_ratio():
    # given a p95 of 140 ms against a 10 ms baseline (ratio 14), goal <= 150 ms
    # when
    entry = Entry.make("dashboard.p95_ms", "ms", 140, 10, "<=150")
    slow = Entry.make("dashboard.p95_ms", "ms", 151, 200, "<=150")
    # then
    assert entry.ratio == pytest.approx(14)
    assert entry.met is True
    assert slow.ratio < 1
    assert slow.met is False


def test_bench_no_goal_means_met_is_null_and_unmeasured_means_not_met():
    # given / when
    info = Entry.make("seed.seconds", "s", 321.5)
    unmeasured = Entry.make("dashboard.rps", "req/s", 50, None, ">=0.25")
    zero_baseline = Entry.make("dashboard.rps", "req/s", 50, 0, ">=0.25")
    # then
    assert (info.baseline, info.ratio, info.goal, info.met) == (None, None, None, None)
    assert unmeasured.ratio is None
    assert unmeasured.met is False
    assert zero_baseline.met is False


def test_bench_results_json_is_a_list_of_entries_with_the_seven_fields(tmp_path):
    # given
    entries = [
        Entry.make("ingest.events_per_s", "events/s", 1500.123456, 9000, ">=0.1"),
        Entry.make("dashboard.p95_ms", "ms", 80, 12, "<=150"),
        Entry.make("dashboard.server_peak_rss_mb", "MB", 250.5),
    ]
    path = tmp_path / "results" / "latest.json"
    # when
    results.write_results(path, entries)
    data = json.loads(path.read_text())
    # then
    results.validate_results(data)
    assert [tuple(d) for d in data] == [results.FIELDS] * 3
    assert data[0] == {
        "name": "ingest.events_per_s",
        "unit": "events/s",
        "value": 1500.123,
        "baseline": 9000.0,
        "ratio": 0.1667,
        "goal": ">=0.1",
        "met": True,
    }


def test_bench_results_validation_catches_a_wrong_met_and_a_wrong_shape():
    # given
    good = Entry.make("orders_list.rps", "req/s", 10, 100, ">=0.25").as_dict()
    wrong_met = {**good, "met": True}
    missing = {k: v for k, v in good.items() if k != "goal"}
    # when / then
    results.validate_results([good])
    with pytest.raises(ValueError, match="met should be False"):
        results.validate_results([wrong_met])
    with pytest.raises(ValueError, match="keys must be"):
        results.validate_results([missing])
    with pytest.raises(ValueError, match="list"):
        results.validate_results({"entries": []})


def test_bench_readme_rewrite_replaces_only_the_marked_section():
    # given a README with an old table between the markers
    before = "# Bench\n\nHow to run.\n\n"
    after = "\n\n## Notes\nkept\n"
    text = before + results.README_BEGIN + "\nold table\n" + results.README_END + after
    table = results.markdown_table([Entry.make("dashboard.p95_ms", "ms", 90, 9, "<=150")])
    # when
    new = results.rewrite_readme(text, table)
    # then
    assert new.startswith(before)
    assert new.endswith(after)
    assert "old table" not in new
    assert "| `dashboard.p95_ms` | 90.0 ms | 9.00 ms | 10.0 | value <= 150 ms | yes |" in new
    assert results.rewrite_readme(new, table) == new  # idempotent


def test_bench_readme_rewrite_appends_the_section_when_markers_are_missing():
    # given / when
    new = results.rewrite_readme("# Bench\n", "the table")
    # then
    assert new == f"# Bench\n\n{results.README_BEGIN}\nthe table\n{results.README_END}\n"


def test_bench_text_table_lists_every_entry_with_its_verdict():
    # given
    entries = [
        Entry.make("ingest.events_per_s", "events/s", 50, 1000, ">=0.1"),
        Entry.make("seed.seconds", "s", 300),
    ]
    # when
    text = results.text_table(entries)
    # then
    lines = text.splitlines()
    assert lines[0].split() == ["benchmark", "value", "baseline", "ratio", "goal", "met"]
    assert "ratio >= 0.1" in lines[2]
    assert lines[2].rstrip().endswith("NO")
    assert lines[3].startswith("seed.seconds")


def test_bench_wrk_summary_line_is_parsed_into_milliseconds_and_rps():
    # given the line printed by wrk_sessions.lua's done()
    out = (
        "Running 15s test @ http://127.0.0.1:1/\n"
        '@@WRK@@{"requests":1500,"duration_us":15000000,"bytes":1,'
        '"errors":{"connect":0,"read":0,"write":0,"status":2,"timeout":0},'
        '"latency_us":{"p50":40000,"p90":90000,"p95":120500,"p99":200000,"mean":50000.0,"max":300000}}\n'
    )
    # when
    r = dashboard.parse_wrk(out)
    # then
    assert r.rps == pytest.approx(100)
    assert (r.p50_ms, r.p95_ms) == (40, 120.5)
    assert r.error_count == 2


def _fixtures():
    sku = {"code": "BI1-P001", "id": 7, "price_minor": 1250}
    sku2 = {"code": "BI1-P002", "id": 8, "price_minor": 399}
    sku3 = {"code": "BI1-P003", "id": 9, "price_minor": 10000}
    return {
        "shops": [
            {"external_id": "bench-ingest-1", "id": 3, "currency": "USD", "skus": [sku, sku2, sku3]}
        ],
        "buyers": [{"external_id": "bench-ingest-buyer-1", "id": 5}],
    }


def test_bench_ingest_workload_is_batches_of_500_created_then_paid_events():
    # given
    work = ingest.plan(fixtures=_fixtures(), batches=3, tag="T", seed=1)
    # when
    bodies = [json.loads(ingest.batch_body(b)) for b in work.batches]
    # then
    assert work.events == 1500
    assert [len(b["events"]) for b in bodies] == [500, 500, 500]
    events = [e for b in bodies for e in b["events"]]
    assert len({e["event_id"] for e in events}) == 1500
    created, paid = events[0], events[1]
    assert (created["type"], paid["type"]) == ("order.created", "order.paid")
    lines = created["data"]["lines"]
    subtotal = sum(ln["quantity"] * ln["unit_price_minor"] for ln in lines)
    assert paid["data"]["amount_minor"] == subtotal + created["data"]["shipping_fee_minor"]
    assert paid["occurred_at"] >= created["occurred_at"]


def test_bench_ingest_baseline_rows_fill_defaults_and_refuse_unknown_required_columns():
    # given a table spec as bench.djangotasks describes it
    spec = {
        "table": "orders_payment",
        "columns": {
            "id": "__pk__",
            "created_at": "__now__",
            "status": "succeeded",
            "note": None,
            "amount_minor": "__required__",
        },
    }
    # when
    cols, row = ingest._row(spec, {"amount_minor": 500}, "NOW", with_pk=False)
    # then
    assert cols == ["created_at", "status", "note", "amount_minor"]
    assert row == ("NOW", "succeeded", None, 500)
    with pytest.raises(ingest.BenchError, match="amount_minor"):
        ingest._row(spec, {}, "NOW", with_pk=False)


def test_bench_baseline_view_exists_only_on_bench_urls_and_requires_login(client, settings):
    # given the production URLs
    # when / then: no baseline in production
    assert client.get("/bench/baseline").status_code == 404
    # given the bench URLs (bench/settings.py)
    settings.ROOT_URLCONF = "bench.urls"
    # when an anonymous visitor asks for the baseline
    resp = client.get("/bench/baseline")
    # then it is sent to the login page, like the dashboard would
    assert resp.status_code == 302
    assert resp["Location"].startswith("/accounts/login/")
