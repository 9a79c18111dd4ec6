"""Daily quality runs check the landing days that changed since the last recorded run (and the days
those changes reach), and the latest findings still answer for every day: real GX validations into
the findings table of a real DuckDB file."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import duckdb
import pytest

from batchtrack.feeds import FEEDS
from batchtrack.warehouse_schema import ensure_ingest_schema
from dashboards import queries
from quality_checks import (
    CheckResult,
    current_results,
    daily_mart_checks,
    daily_row_checks,
    daily_schema_checks,
    format_findings,
    has_errors,
    latest_results,
    run_and_record_daily_checks,
)
from quality_checks.cross_feed import volume_days_reached
from tests.unit.test_quality_checks import DAY1, DAY2, ROW_DEFAULTS, good_world, insert

DAY3 = date(2026, 6, 3)


def good_warehouse(path) -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect(str(path))
    ensure_ingest_schema(connection)
    good_world(connection)
    stamp(connection, DAY1, DAY2)
    return connection


@pytest.fixture
def con(tmp_path):
    connection = good_warehouse(tmp_path / "warehouse.duckdb")
    yield connection
    connection.close()


def stamp(con: duckdb.DuckDBPyConnection, *days: date) -> None:
    """What the loader does in its load transaction: these days' feeds changed, now."""
    changed_at = con.execute(
        "select coalesce(max(changed_at), timestamp '2026-06-01') + interval 1 minute from ingest.feed_day_changes"
    ).fetchone()[0]
    for day in days:
        con.execute("insert or replace into ingest.feed_day_changes values (?, 'shipments', ?)", [day, changed_at])


def daily_run(con: duckdb.DuckDBPyConnection, run_id: str, checked_at: datetime | None = None):
    return run_and_record_daily_checks(con, run_id, checked_at=checked_at)


def findings(con: duckdb.DuckDBPyConnection, run_id: str, expectation: str) -> list[tuple]:
    return con.execute(
        """
        select landing_date, success, failing_count, sample_keys, checked_count
        from main.quality_findings where run_id = ? and expectation = ? order by landing_date
        """,
        [run_id, expectation],
    ).fetchall()


def latest(con: duckdb.DuckDBPyConnection, expectation: str) -> dict:
    return {result.landing_date: result for result in latest_results(con) if result.expectation == expectation}


def test_a_second_run_checks_only_the_new_day_and_keeps_the_earlier_findings(con):
    insert(con, "production", DAY1, **{**ROW_DEFAULTS["production"], "quantity": 0})
    first = daily_run(con, "run-1")
    assert first.is_full and first.changed_days == {DAY1, DAY2}
    # one result per check and day, from one validation per suite
    assert findings(con, "run-1", "production.quantity_positive") == [
        (DAY1, False, 1, '["L-X"]', 2),
        (DAY2, True, 0, "[]", 0),
    ]

    insert(con, "production", DAY3, **{**ROW_DEFAULTS["production"], "lot_code": "L-3", "quantity": 3})
    insert(con, "production", DAY3, **{**ROW_DEFAULTS["production"], "lot_code": "L-3b", "quantity": -1})
    stamp(con, DAY3)
    second = daily_run(con, "run-2")

    assert not second.is_full and second.changed_days == {DAY3}
    assert findings(con, "run-2", "production.quantity_positive") == [(DAY3, False, 1, '["L-3b"]', 2)]
    raw_days = con.execute(
        "select distinct landing_date from main.quality_findings where run_id = 'run-2' and suite like 'raw.%'"
        " and suite not like '%.schema'"
    ).fetchall()
    assert raw_days == [(DAY3,)]
    # the day the second run did not look at keeps its finding from the first run
    quantity = latest(con, "production.quantity_positive")
    assert (quantity[DAY1].success, quantity[DAY1].sample_keys) == (False, ("L-X",))
    assert (quantity[DAY2].success, quantity[DAY3].sample_keys) == (True, ("L-3b",))
    text = format_findings(current_results(con))
    assert "production.quantity_positive [2 days: 2026-06-01, 2026-06-03]: 2 rows" in text
    assert "L-3b, L-X" in text
    shown = queries.latest_findings(con).filter(expectation="production.quantity_positive").row(0, named=True)
    assert shown["failing_count"] == 2 and shown["failing_days"] == "2026-06-01, 2026-06-03"
    assert set(json.loads(shown["sample_keys"])) == {"L-X", "L-3b"}
    by_day = queries.quality_findings_by_day(con).filter(expectation="production.quantity_positive")
    assert by_day.select("finding_date", "failing_count").rows() == [(DAY1, 1), (DAY3, 1)]


def test_a_resent_old_day_is_checked_again_and_its_old_finding_goes(con):
    insert(con, "production", DAY1, **{**ROW_DEFAULTS["production"], "quantity": 0})
    daily_run(con, "run-1")
    con.execute("update raw.production set quantity = 5 where lot_code = 'L-X'")  # the corrected re-send
    stamp(con, DAY1)

    resent = daily_run(con, "run-2")

    assert resent.changed_days == {DAY1}
    assert findings(con, "run-2", "production.quantity_positive") == [(DAY1, True, 0, "[]", 2)]
    assert all(result.success for result in latest(con, "production.quantity_positive").values())
    assert "production.quantity_positive" not in format_findings(current_results(con))


def test_a_resent_production_day_that_drops_a_lot_fails_its_references_on_other_days(con):
    daily_run(con, "run-1")
    assert latest(con, "shipments.lot_known_within_grace")[DAY2].success  # SH-1 ships L-1, made on DAY1

    # DAY1's production comes again without L-1: DAY2, unchanged, now ships an unknown lot
    con.execute("delete from raw.production where lot_code = 'L-1' and landing_date = ?", [DAY1])
    con.execute(
        "insert into ingest.feed_day_changes select ?, 'production', max(changed_at) + interval 1 minute"
        " from ingest.feed_day_changes",
        [DAY1],
    )
    daily_run(con, "run-2")

    shipped = latest(con, "shipments.lot_known_within_grace")[DAY2]
    assert not shipped.success and shipped.sample_keys == ("L-1 (SH-1:1)",)


def test_the_latest_day_sent_again_without_a_lot_fails_its_references_on_an_earlier_day(con):
    # L-3 is shipped on DAY2 and made on DAY3, the latest day; DAY3 then comes again without
    # it. Its new stamp replaces the old one, so only the findings of the run that checked
    # DAY3 tell that it is not a new day.
    insert(con, "production", DAY3, **{**ROW_DEFAULTS["production"], "lot_code": "L-3"})
    insert(con, "shipments", DAY2, **{**ROW_DEFAULTS["shipments"], "shipment_id": "SH-3", "lot_code": "L-3"})
    resend = "insert or replace into ingest.feed_day_changes values (?, 'production', ?)"
    con.execute(resend, [DAY3, datetime(2026, 6, 3, 1)])
    daily_run(con, "run-1")
    assert latest(con, "shipments.lot_known_within_grace")[DAY2].success

    con.execute("delete from raw.production where lot_code = 'L-3'")
    con.execute(resend, [DAY3, datetime(2026, 6, 3, 2)])
    daily_run(con, "run-2")

    shipped = latest(con, "shipments.lot_known_within_grace")[DAY2]
    assert not shipped.success and shipped.sample_keys == ("L-3 (SH-3:1)",)


def test_a_late_reference_turns_into_an_error_then_resolves_without_its_day_changing(con):
    insert(con, "shipments", DAY2, **{**ROW_DEFAULTS["shipments"], "lot_code": "L-LATE"})
    daily_run(con, "run-1")
    assert not latest(con, "shipments.lot_known_within_grace")[DAY2].success
    assert not has_errors(current_results(con))

    # Days go by (as_of moves on): the reference of DAY2, unchanged, is overdue.
    later = DAY2 + timedelta(days=4)
    insert(con, "production", later, **{**ROW_DEFAULTS["production"], "lot_code": "L-6"})
    stamp(con, later)
    overdue = daily_run(con, "run-2")
    assert overdue.changed_days == {later}
    error = latest(con, "shipments.lot_known")[DAY2]
    assert (error.success, error.severity, error.sample_keys) == (False, "error", ("L-LATE (SH-X:1)",))
    assert has_errors(current_results(con))
    assert "ERROR   shipments.lot_known [2026-06-02]: 1 row" in format_findings(current_results(con))

    # The lot turns up on a later day: DAY2's error goes although DAY2 did not change.
    resolved_on = later + timedelta(days=1)
    insert(con, "production", resolved_on, **{**ROW_DEFAULTS["production"], "lot_code": "L-LATE"})
    stamp(con, resolved_on)
    daily_run(con, "run-3")
    assert latest(con, "shipments.lot_known")[DAY2].success
    assert latest(con, "shipments.lot_known_within_grace")[DAY2].success
    assert not has_errors(current_results(con))


def test_the_command_checks_days_changed_since_the_last_run_without_recording(con):
    daily_run(con, "run-1")
    insert(con, "production", DAY3, **{**ROW_DEFAULTS["production"], "quantity": 0})
    stamp(con, DAY3)
    runs = con.execute("select count(*) from main.quality_runs").fetchone()[0]

    results = current_results(con)

    failed = [(result.expectation, result.landing_date) for result in results if not result.success]
    assert ("production.quantity_positive", DAY3) in failed
    assert con.execute("select count(*) from main.quality_runs").fetchone()[0] == runs


def test_a_broken_raw_table_keeps_its_days_for_the_next_run(con):
    daily_run(con, "run-1")
    insert(con, "production", DAY3, **{**ROW_DEFAULTS["production"], "quantity": 0})
    stamp(con, DAY3)
    con.execute("alter table raw.production alter column quantity type varchar")
    broken = daily_run(con, "run-2")
    assert has_errors(broken.results)
    con.execute("alter table raw.production alter column quantity type decimal(18, 6)")

    repaired = daily_run(con, "run-3")

    assert repaired.changed_days == {DAY3}
    assert not latest(con, "production.quantity_positive")[DAY3].success


def test_a_changed_day_reaches_the_volume_checks_of_the_days_after_it():
    con = duckdb.connect()
    ensure_ingest_schema(con)
    for offset in range(40):
        insert(con, "shipments", DAY1 + timedelta(days=offset), **ROW_DEFAULTS["shipments"])
    reached = volume_days_reached(con, [DAY1 + timedelta(days=10)], window_days=14, weekday_weeks=5)
    # itself, the next 14 delivered days, and the same weekday up to 5 weeks on
    expected = {DAY1 + timedelta(days=offset) for offset in range(10, 25)} | {
        DAY1 + timedelta(days=10 + 7 * week) for week in range(1, 5)
    }
    assert reached == expected


def test_findings_of_a_run_without_a_record_are_read_as_before(con):
    """A warehouse from before quality_runs: its latest (whole) run is the answer."""
    from quality_checks import run_quality_checks, write_findings

    insert(con, "production", DAY1, **{**ROW_DEFAULTS["production"], "quantity": 0})
    write_findings(con, run_quality_checks(con), "old-run", checked_at=datetime(2026, 6, 2))
    shown = queries.latest_findings(con).filter(expectation="production.quantity_positive").row(0, named=True)
    assert (shown["success"], shown["failing_count"], json.loads(shown["sample_keys"])) == (False, 1, ["L-X"])
    # and the first recorded run checks every day
    assert daily_run(con, "run-1").is_full


def test_the_dashboard_shows_the_failures_of_a_first_run_that_could_not_check_every_day(con):
    """A broken raw table makes the first run partial (no run has checked every day yet):
    its error must still reach the page, not an empty 'every check passes'."""
    con.execute("alter table raw.shipments drop column customer_code")
    assert not daily_run(con, "run-1").is_full
    shown = queries.latest_findings(con)
    assert not shown.filter(~shown["success"] & (shown["severity"] == "error")).is_empty()


def test_the_findings_chart_takes_the_later_run_even_when_its_clock_reads_earlier(con):
    """A wall clock steps back (daylight saving ends): the later run still decides."""
    con.execute("update raw.production set quantity = 0 where landing_date = ?", [DAY1])
    daily_run(con, "run-1", checked_at=datetime(2026, 10, 25, 2, 50))
    con.execute("update raw.production set quantity = 80 where landing_date = ?", [DAY1])
    stamp(con, DAY1)
    daily_run(con, "run-2", checked_at=datetime(2026, 10, 25, 2, 20))
    by_day = queries.quality_findings_by_day(con)
    assert by_day.filter(by_day["expectation"] == "production.quantity_positive").is_empty()


def test_a_products_resend_that_corrects_a_shelf_life_back_rechecks_the_shipments_it_expires(con):
    """The corrected products row equals the delivery before it, so no row names the change: a
    products delivery reaches every day's timeline checks."""
    insert(
        con,
        "products",
        DAY2,
        product_code="FG-YOG",
        description="Yoghurt",
        category="finished",
        base_unit="kg",
        shelf_life_days=30,
        unit_cost=2.0,
    )
    insert(
        con,
        "production",
        DAY1,
        lot_code="L-2",
        product_code="FG-YOG",
        site_code="PLT",
        line_code="L01",
        produced_at=datetime(2026, 6, 1, 8),
        quantity=10,
    )
    insert(
        con,
        "shipments",
        DAY3,
        shipment_id="SH-2",
        line_no=1,
        lot_code="L-2",
        product_code="FG-YOG",
        quantity=5,
        shipped_at=datetime(2026, 6, 25, 9),
        site_code="PLT",
        customer_code="C001",
    )
    stamp(con, DAY3)
    daily_run(con, "run-1")
    assert latest(con, "shipments.not_expired")[DAY3].success  # 30 days: not expired on 06-25
    con.execute(
        "update raw.products set shelf_life_days = 20 where landing_date = ? and product_code = 'FG-YOG'", [DAY2]
    )
    con.execute(
        "insert or replace into ingest.feed_day_changes values (?, 'products', "
        "(select max(changed_at) + interval 1 minute from ingest.feed_day_changes))",
        [DAY2],
    )
    daily_run(con, "run-2")
    assert not latest(con, "shipments.not_expired")[DAY3].success


def test_a_first_run_validated_a_few_days_at_a_time_finds_what_one_validation_finds(con, monkeypatch):
    """A first run over years of history validates a month of rows at a time (bounded memory)."""
    from quality_checks import raw_suites

    insert(con, "production", DAY1, **{**ROW_DEFAULTS["production"], "quantity": 0})
    insert(con, "production", DAY2, **{**ROW_DEFAULTS["production"], "lot_code": "L-DUP"})
    insert(con, "production", DAY3, **{**ROW_DEFAULTS["production"], "lot_code": "L-DUP"})
    stamp(con, DAY3)
    days = [DAY1, DAY2, DAY3]

    def outcome() -> list[tuple]:
        results = raw_suites.raw_suite_results(con, days=days)
        return sorted(
            (r.expectation, r.landing_date, r.success, r.failing_count, tuple(r.sample_keys)) for r in results
        )

    whole = outcome()
    monkeypatch.setattr(raw_suites, "DAYS_PER_VALIDATION", 1)
    assert outcome() == whole
    assert any(not success for _, _, success, _, _ in whole)


# --- a Dagster run: the asset checks compute, the quality asset records --------------------------

PARTS = {
    *(f"{kind}.{feed.name}" for feed in FEEDS for kind in ("schema", "rows")),
    "references",
    "timeline",
    "genealogy",
    "mass_balance",
}


def asset_checks(con: duckdb.DuckDBPyConnection, run_id: str) -> list[CheckResult]:
    """What the asset checks of Dagster run `run_id` compute and keep (pipelines/defs/checks.py)."""
    computed = []
    for feed in FEEDS:
        computed += daily_schema_checks(con, feed, run_id=run_id)
        computed += daily_row_checks(con, feed, run_id=run_id)
    for results in daily_mart_checks(con, run_id=run_id).values():
        computed += results
    return computed


def recorded(con: duckdb.DuckDBPyConnection, run_id: str) -> list[tuple]:
    return sorted(
        con.execute(
            """
            select expectation, landing_date, suite, severity, success, failing_count, sample_keys, description,
                checked_count
            from main.quality_findings where run_id = ?
            """,
            [run_id],
        ).fetchall(),
        key=str,
    )


def load_times(results: list[CheckResult]) -> set[str]:
    """When Great Expectations loaded each batch validated: one per computation of a suite."""
    return {result.validation.meta["batch_markers"]["ge_load_time"] for result in results}


def test_a_run_records_what_its_asset_checks_found_as_a_run_without_them_does(tmp_path):
    """The same days, the same findings: a run whose quality asset takes the asset checks' results
    records what one computing every check itself records, on its first run and on a daily run
    whose changes reach other days."""
    plain, dagster = good_warehouse(tmp_path / "plain.duckdb"), good_warehouse(tmp_path / "dagster.duckdb")

    def both(change) -> None:
        for warehouse in (plain, dagster):
            change(warehouse)

    both(lambda c: insert(c, "production", DAY1, **{**ROW_DEFAULTS["production"], "quantity": 0}))
    both(lambda c: insert(c, "shipments", DAY2, **{**ROW_DEFAULTS["shipments"], "lot_code": "L-LATE"}))
    both(lambda c: insert(c, "production", DAY2, **{**ROW_DEFAULTS["production"], "lot_code": "L-1"}))
    for run_id in ("run-1", "run-2"):
        if run_id == "run-2":  # a day that resolves DAY2's reference and brings a bad row of its own
            both(lambda c: insert(c, "production", DAY3, **{**ROW_DEFAULTS["production"], "lot_code": "L-LATE"}))
            both(lambda c: insert(c, "inspections", DAY3, **{**ROW_DEFAULTS["inspections"], "defect_count": 99}))
            both(lambda c: stamp(c, DAY3))
        alone = daily_run(plain, run_id)
        asset_checks(dagster, run_id)
        reusing = daily_run(dagster, run_id)

        assert reusing.reused_parts == PARTS and not alone.reused_parts
        assert recorded(dagster, run_id) == recorded(plain, run_id)
        assert (reusing.changed_days, reusing.is_full) == (alone.changed_days, alone.is_full)
    assert {row[1] for row in recorded(dagster, "run-2") if row[0] == "shipments.lot_known_within_grace"} == {
        DAY2,
        DAY3,
    }
    assert [
        (row[1], row[4]) for row in recorded(dagster, "run-2") if row[0] == "inspections.defects_within_sample"
    ] == [(DAY3, False)]
    plain.close()
    dagster.close()


def test_the_quality_asset_records_the_asset_checks_results_without_computing_them_again(con):
    insert(con, "production", DAY1, **{**ROW_DEFAULTS["production"], "quantity": 0})
    checked = asset_checks(con, "run-1")
    # Fixed by hand after the checks ran, without a change stamp: a check computed again would pass.
    con.execute("update raw.production set quantity = 5 where lot_code = 'L-X'")

    run = daily_run(con, "run-1")

    assert findings(con, "run-1", "production.quantity_positive") == [
        (DAY1, False, 1, '["L-X"]', 2),
        (DAY2, True, 0, "[]", 0),
    ]
    # Every suite the asset checks ran was validated once: the run's results carry those validations.
    taken = [result for result in run.results if result.suite not in ("landing", "volume")]
    assert load_times(taken) == load_times(checked)
    assert load_times([r for r in run.results if r.suite in ("landing", "volume")]).isdisjoint(load_times(checked))
    assert con.execute("select count(*) from main.quality_pending_results").fetchone()[0] == 0


def test_results_kept_before_a_later_load_or_by_another_run_are_computed_again(con):
    asset_checks(con, "run-0")  # a run that never recorded
    asset_checks(con, "run-1")
    asset_checks(con, "run-1")  # a step executed again replaces its own results
    assert con.execute("select count(distinct run_id), count(*) from main.quality_pending_results").fetchone() == (
        1,
        len(PARTS),
    )
    insert(con, "production", DAY2, **{**ROW_DEFAULTS["production"], "quantity": 0})
    stamp(con, DAY2)  # a feed loaded after the checks ran

    run = daily_run(con, "run-1")

    assert run.reused_parts == frozenset()
    assert findings(con, "run-1", "production.quantity_positive") == [
        (DAY1, True, 0, "[]", 1),
        (DAY2, False, 1, '["L-X"]', 1),
    ]
