"""The warehouse table `main.quality_findings`: one row per check (and landing day, where the check
is per day) per run, beside `main.quarantine`, so trends ("how many unknown lots per day this
month?") are one SQL query away. `main.quality_runs` says what each run covered, so the latest
result of every check and day can be read back although a daily run re-checks only some days.
`main.quality_pending_results` holds what a Dagster run's asset checks computed until the run's
quality asset records it."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

import duckdb
import pandas as pd
from great_expectations.core.expectation_validation_result import ExpectationSuiteValidationResultSchema

from batchtrack.warehouse_schema import table_columns
from quality_checks.results import CheckResult

FINDINGS_DDL = """
CREATE TABLE IF NOT EXISTS main.quality_findings (
    run_id VARCHAR NOT NULL,
    checked_at TIMESTAMP NOT NULL,
    landing_date DATE,
    suite VARCHAR NOT NULL,
    expectation VARCHAR NOT NULL,
    severity VARCHAR NOT NULL,
    success BOOLEAN NOT NULL,
    failing_count BIGINT NOT NULL,
    sample_keys JSON NOT NULL,
    description VARCHAR NOT NULL,
    checked_count BIGINT
)
"""

# One row per quality run that wrote findings. `changes_through` is the watermark: the latest
# ingest.feed_day_changes stamp the run had seen, so the next run re-checks the days stamped after
# it. A loader stamp, not the clock of this process, so a clock difference cannot skip a day.
# `is_full`: the run checked every day, so every finding before it is superseded.
QUALITY_RUNS_DDL = """
CREATE TABLE IF NOT EXISTS main.quality_runs (
    run_id VARCHAR PRIMARY KEY,
    run_number BIGINT NOT NULL,
    checked_at TIMESTAMP NOT NULL,
    changes_through TIMESTAMP,
    is_full BOOLEAN NOT NULL,
    days_checked BIGINT NOT NULL
)
"""

# The results the asset checks of a Dagster run computed, one row per part of the daily run
# ("rows.shipments", "references", ...; quality_checks.runner), kept for the quality asset of the
# same run, which records them in quality_findings instead of computing them again. With each
# result, its Great Expectations validation (for the Data Docs). `state` says what the warehouse
# looked like when they were computed: they are reused only on the same state. Rows of other runs
# are stale; storing or recording a run deletes them.
PENDING_RESULTS_DDL = """
CREATE TABLE IF NOT EXISTS main.quality_pending_results (
    run_id VARCHAR NOT NULL,
    part VARCHAR NOT NULL,
    state VARCHAR NOT NULL,
    results JSON NOT NULL,
    validations JSON NOT NULL,
    computed_at TIMESTAMP NOT NULL
)
"""

# The latest result of each check, and of each landing day for a check that is per day: the rows
# of runs since the latest run that checked every day, the latest run first.
LATEST_FINDINGS_SQL = """
select findings.*
from main.quality_findings as findings
join main.quality_runs as runs on findings.run_id = runs.run_id
where runs.run_number >= (select coalesce(max(run_number), 0) from main.quality_runs where is_full)
qualify row_number() over (
    partition by findings.expectation, findings.landing_date order by runs.run_number desc
) = 1
"""


def ensure_findings_table(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(FINDINGS_DDL)
    # A warehouse from before checked_count: add it (older rows keep null).
    con.execute("ALTER TABLE main.quality_findings ADD COLUMN IF NOT EXISTS checked_count BIGINT")
    con.execute(QUALITY_RUNS_DDL)


def write_findings(
    con: duckdb.DuckDBPyConnection,
    results: Iterable[CheckResult],
    run_id: str,
    *,
    checked_at: datetime | None = None,
) -> int:
    """Append one row per result (passes included, so a trend has its zeros); returns rows written."""
    ensure_findings_table(con)
    checked_at = checked_at or datetime.now().replace(microsecond=0)
    frame = pd.DataFrame(
        [
            {
                "run_id": run_id,
                "checked_at": checked_at,
                "landing_date": result.landing_date,
                "suite": result.suite,
                "expectation": result.expectation,
                "severity": result.severity,
                "success": result.success,
                "failing_count": result.failing_count,
                "sample_keys": json.dumps(list(result.sample_keys)),
                "description": result.description,
                "checked_count": result.checked_count,
            }
            for result in results
        ],
        columns=[
            "run_id",
            "checked_at",
            "landing_date",
            "suite",
            "expectation",
            "severity",
            "success",
            "failing_count",
            "sample_keys",
            "description",
            "checked_count",
        ],
    )
    if not frame.empty:
        # A frame, not executemany: a first run writes one row per check and day of the history.
        frame["checked_count"] = frame["checked_count"].astype("Int64")
        con.register("new_findings", frame)
        try:
            con.execute("insert into main.quality_findings by name select * from new_findings")
        finally:
            con.unregister("new_findings")
    return len(frame)


def record_quality_run(
    con: duckdb.DuckDBPyConnection,
    results: Iterable[CheckResult],
    run_id: str,
    *,
    changes_through: datetime | None,
    is_full: bool,
    days_checked: int,
    checked_at: datetime | None = None,
) -> int:
    """Write a run's findings and its watermark in one transaction: either the next run starts
    after this run's days, or (on failure) it checks them again."""
    checked_at = checked_at or datetime.now().replace(microsecond=0)
    ensure_findings_table(con)
    con.begin()
    try:
        written = write_findings(con, results, run_id, checked_at=checked_at)
        con.execute(
            """
            insert into main.quality_runs
            select ?, coalesce(max(run_number), 0) + 1, ?, ?, ?, ? from main.quality_runs
            """,
            [run_id, checked_at, changes_through, is_full, days_checked],
        )
        if table_columns(con, "main", "quality_pending_results"):
            # Recorded now, or computed on a state before this run: no longer pending.
            con.execute("delete from main.quality_pending_results")
        con.commit()
    except BaseException:
        con.rollback()
        raise
    return written


def has_run_history(con: duckdb.DuckDBPyConnection) -> bool:
    """True when a run of this kind (per day, with a watermark) has written findings."""
    if not table_columns(con, "main", "quality_runs") or not table_columns(con, "main", "quality_findings"):
        return False
    return con.execute("select count(*) > 0 from main.quality_runs").fetchone()[0]


def last_watermark(con: duckdb.DuckDBPyConnection) -> datetime | None:
    """The feed_day_changes stamp the latest run had seen (None: no run yet, or it saw none)."""
    if not has_run_history(con):
        return None
    return con.execute("select changes_through from main.quality_runs order by run_number desc limit 1").fetchone()[0]


def latest_results(con: duckdb.DuckDBPyConnection) -> list[CheckResult]:
    """The latest stored result of every check (and day), as CheckResults ([] before any run)."""
    if not has_run_history(con):
        return []
    rows = con.execute(
        f"""
        select suite, expectation, severity, success, failing_count, sample_keys, description,
            landing_date, checked_count
        from ({LATEST_FINDINGS_SQL})
        """
    ).fetchall()
    return [
        CheckResult(
            suite=suite,
            expectation=expectation,
            severity=severity,
            success=success,
            failing_count=failing_count,
            sample_keys=tuple(json.loads(sample_keys)),
            description=description,
            landing_date=landing_date,
            checked_count=checked_count,
        )
        for (
            suite,
            expectation,
            severity,
            success,
            failing_count,
            sample_keys,
            description,
            landing_date,
            checked_count,
        ) in rows
    ]


def failing_days(con: duckdb.DuckDBPyConnection, suites: Iterable[str]) -> set[date]:
    """The landing days whose latest result of a check in `suites` failed."""
    if not has_run_history(con):
        return set()
    rows = con.execute(
        f"""
        select distinct landing_date from ({LATEST_FINDINGS_SQL})
        where not success and landing_date is not null and suite in (select unnest(?::varchar[]))
        """,
        [list(suites)],
    ).fetchall()
    return {row[0] for row in rows}


def store_run_results(
    con: duckdb.DuckDBPyConnection, run_id: str, part: str, results: Iterable[CheckResult], *, state: str
) -> None:
    """Keep the results of one `part` of Dagster run `run_id`'s daily checks, computed on `state`,
    for the run's quality asset (`stored_run_results`). A step executed again replaces its part."""
    results = list(results)
    validations: dict[int, Any] = {}
    for result in results:
        if result.validation is not None:
            validations.setdefault(id(result.validation), result.validation)
    positions = {key: position for position, key in enumerate(validations)}
    rows = [
        {
            "suite": result.suite,
            "expectation": result.expectation,
            "severity": result.severity,
            "success": result.success,
            "failing_count": result.failing_count,
            "sample_keys": list(result.sample_keys),
            "description": result.description,
            "landing_date": None if result.landing_date is None else result.landing_date.isoformat(),
            "checked_count": result.checked_count,
            "failing_days": [day.isoformat() for day in result.failing_days],
            "validation": None if result.validation is None else positions[id(result.validation)],
        }
        for result in results
    ]
    payload = [json.dumps(rows), json.dumps([validation.to_json_dict() for validation in validations.values()])]
    con.execute(PENDING_RESULTS_DDL)
    con.begin()
    try:
        con.execute("delete from main.quality_pending_results where run_id != ? or part = ?", [run_id, part])
        con.execute(
            "insert into main.quality_pending_results values (?, ?, ?, ?, ?, ?)",
            [run_id, part, state, *payload, datetime.now().replace(microsecond=0)],
        )
        con.commit()
    except BaseException:
        con.rollback()
        raise


def stored_run_results(con: duckdb.DuckDBPyConnection, run_id: str, state: str) -> dict[str, list[CheckResult]]:
    """The parts of run `run_id`'s daily checks kept by `store_run_results` on this same `state`,
    by part, each result with its validation ({} when there are none)."""
    if not table_columns(con, "main", "quality_pending_results"):
        return {}
    rows = con.execute(
        "select part, results, validations from main.quality_pending_results where run_id = ? and state = ?",
        [run_id, state],
    ).fetchall()
    schema = ExpectationSuiteValidationResultSchema()
    stored: dict[str, list[CheckResult]] = {}
    for part, results, validations in rows:
        loaded = [schema.load(validation) for validation in json.loads(validations)]
        stored[part] = [
            CheckResult(
                suite=result["suite"],
                expectation=result["expectation"],
                severity=result["severity"],
                success=result["success"],
                failing_count=result["failing_count"],
                sample_keys=tuple(result["sample_keys"]),
                description=result["description"],
                landing_date=None if result["landing_date"] is None else date.fromisoformat(result["landing_date"]),
                checked_count=result["checked_count"],
                failing_days=tuple(date.fromisoformat(day) for day in result["failing_days"]),
                validation=None if result["validation"] is None else loaded[result["validation"]],
            )
            for result in json.loads(results)
        ]
    return stored
