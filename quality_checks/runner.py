"""Run every suite against a warehouse connection and return the results: on all the data, on one
landing day, or (a daily run) on the days whose data changed since the last run and the days
those changes reach."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime

import duckdb

from batchtrack.feeds import FEEDS
from batchtrack.warehouse_schema import table_columns
from quality_checks.cross_feed import (
    genealogy_loop_checks,
    lot_origins_computed,
    mass_balance_checks,
    reference_checks,
    reference_days_reached,
    timeline_checks,
    timeline_days_reached,
    volume_checks,
    volume_days_reached,
)
from quality_checks.findings import failing_days, last_watermark, latest_results, record_quality_run
from quality_checks.landing import landing_checks
from quality_checks.raw_suites import raw_suite_results
from quality_checks.results import CheckResult


@dataclass(frozen=True)
class QualitySettings:
    # An unresolved lot reference is a warning for this many days after it landed, then an error.
    grace_days: int = 3
    volume_window_days: int = 14
    volume_min_history_days: int = 7
    volume_mad_multiplier: float = 5.0


def default_as_of(con: duckdb.DuckDBPyConnection) -> date:
    """The latest landing day loaded, so a re-run on the same data gives the same answer."""
    latest = con.execute(
        """
        select max(landing_date) from (
            select landing_date from ingest.loaded_files
            union all select landing_date from main.quarantine
            union all select landing_date from raw.production
            union all select landing_date from raw.consumption
            union all select landing_date from raw.inspections
            union all select landing_date from raw.inventory
            union all select landing_date from raw.shipments
        )
        """
    ).fetchone()[0]
    return latest or date.today()


@dataclass(frozen=True)
class DaysChecked:
    """The landing days each kind of check looks at, one result per check and day."""

    rows: frozenset[date]  # landing files and raw row suites: a day's answer is its own rows'
    keys: frozenset[date]  # keys unique across deliveries
    references: frozenset[date]
    timeline: frozenset[date]
    volume: frozenset[date]

    @classmethod
    def same(cls, days: Collection[date]) -> DaysChecked:
        days = frozenset(days)
        return cls(days, days, days, days, days)


@dataclass(frozen=True)
class QualityRun:
    """What a daily run checked and found; `changes_through` is the watermark to record with it."""

    results: list[CheckResult]
    changed_days: frozenset[date]
    changes_through: datetime | None
    is_full: bool  # every day was checked (first run, or no watermark)


def run_quality_checks(
    con: duckdb.DuckDBPyConnection,
    *,
    as_of: date | None = None,
    day: date | None = None,
    settings: QualitySettings | None = None,
) -> list[CheckResult]:
    """Every suite on the warehouse behind `con`.

    `as_of` decides how old an unresolved reference is (default: the latest landing day loaded).
    `day` limits the row-level checks to rows delivered on that landing day; genealogy loops and
    mass balance are properties of all the data and are always checked whole.
    """
    return _run(con, as_of=as_of, days=None if day is None else DaysChecked.same([day]), settings=settings)


def run_changed_day_checks(
    con: duckdb.DuckDBPyConnection, *, as_of: date | None = None, settings: QualitySettings | None = None
) -> QualityRun:
    """The checks of a daily run: the landing days stamped in ingest.feed_day_changes after the
    last recorded run (`record_quality_run`), each with one result per check, plus the days their
    changes reach. Without a recorded run, every day. Genealogy loops and mass balance are
    properties of all the data and are always checked whole."""
    settings = settings or QualitySettings()
    changes_through = _latest_change(con)
    watermark = last_watermark(con)
    is_full = watermark is None
    # The reach and the checks read the lot origins: computed once for both.
    with lot_origins_computed(con):
        if is_full:
            changed = frozenset(all_landing_days(con))
            days = DaysChecked.same(changed)
        else:
            changed = _days_changed_since(con, watermark)
            days = _days_reached(con, changed, settings)
        results = _run(con, as_of=as_of, days=days, settings=settings)
    if _structure_broken(results):
        # The row and cross-feed checks did not run on a broken raw table: the days stay to be checked.
        return QualityRun(results, changed, watermark, is_full=False)
    return QualityRun(results, changed, changes_through, is_full)


def run_and_record_daily_checks(
    con: duckdb.DuckDBPyConnection, run_id: str, *, checked_at: datetime | None = None
) -> QualityRun:
    """A daily run (`run_changed_day_checks`) with its findings and watermark recorded."""
    run = run_changed_day_checks(con)
    record_quality_run(
        con,
        run.results,
        run_id,
        changes_through=run.changes_through,
        is_full=run.is_full,
        days_checked=len(run.changed_days),
        checked_at=checked_at,
    )
    return run


def changed_since_last_run(con: duckdb.DuckDBPyConnection) -> frozenset[date] | None:
    """The landing days stamped since the last recorded quality run; None before any (every day)."""
    watermark = last_watermark(con)
    return None if watermark is None else _days_changed_since(con, watermark)


def days_reached_since_last_run(
    con: duckdb.DuckDBPyConnection, *, settings: QualitySettings | None = None
) -> DaysChecked | None:
    """What each kind of check of the next daily run looks at; None before any run (every day)."""
    changed = changed_since_last_run(con)
    if changed is None:
        return None
    with lot_origins_computed(con):
        return _days_reached(con, changed, settings or QualitySettings())


def _days_changed_since(con: duckdb.DuckDBPyConnection, watermark: datetime) -> frozenset[date]:
    return frozenset(
        row[0]
        for row in con.execute(
            "select distinct landing_date from ingest.feed_day_changes where changed_at > ?", [watermark]
        ).fetchall()
    )


def current_results(con: duckdb.DuckDBPyConnection, *, settings: QualitySettings | None = None) -> list[CheckResult]:
    """The latest result of every check and day: what the recorded runs found, with the days
    changed since checked now (read-only; nothing is recorded). Before any recorded run, every
    check on all the data."""
    stored = latest_results(con)
    if not stored:
        return run_quality_checks(con, settings=settings)
    if _latest_change(con) == last_watermark(con):
        return stored
    run = run_changed_day_checks(con, settings=settings)
    if run.is_full:
        return run.results
    latest = {(result.expectation, result.landing_date): result for result in stored}
    latest.update({(result.expectation, result.landing_date): result for result in run.results})
    return list(latest.values())


def _days_reached(con: duckdb.DuckDBPyConnection, changed: frozenset[date], settings: QualitySettings) -> DaysChecked:
    """Which days each kind of check must look at when `changed` changed.

    A raw row's answer is its own: only the changed days. The other checks answer for a day from
    other days' rows too, so they also look at the days a change reaches (see the *_days_reached
    functions), and at the days whose latest stored result failed: the fix may have come from
    another day (a lot produced late, a duplicate key's twin re-sent without it), and a failure
    must not outlive its cause in the latest findings."""
    key_suites = [f"raw.{feed.name}.keys" for feed in FEEDS]
    return DaysChecked(
        rows=changed,
        keys=changed | failing_days(con, key_suites),
        references=frozenset(reference_days_reached(con, changed) | failing_days(con, ["references"])),
        timeline=frozenset(timeline_days_reached(con, changed, last_watermark(con)) | failing_days(con, ["timeline"])),
        volume=frozenset(volume_days_reached(con, changed, window_days=settings.volume_window_days)),
    )


def _structure_broken(results: list[CheckResult]) -> bool:
    return any(result.is_error and result.suite.endswith(".schema") for result in results)


def _latest_change(con: duckdb.DuckDBPyConnection) -> datetime | None:
    if not table_columns(con, "ingest", "feed_day_changes"):
        return None
    return con.execute("select max(changed_at) from ingest.feed_day_changes").fetchone()[0]


def all_landing_days(con: duckdb.DuckDBPyConnection) -> set[date]:
    """Every landing day the warehouse knows of (loaded, rejected, stamped or in a raw table)."""
    sources = [("ingest", "loaded_files"), ("ingest", "rejected_files"), ("ingest", "feed_day_changes")]
    sources += [("raw", feed.name) for feed in FEEDS]
    union = " union ".join(
        f"select distinct landing_date from {schema}.{table}"
        for schema, table in sources
        if "landing_date" in table_columns(con, schema, table)
    )
    return {row[0] for row in con.execute(union).fetchall()} if union else set()


def _run(
    con: duckdb.DuckDBPyConnection,
    *,
    as_of: date | None,
    days: DaysChecked | None,
    settings: QualitySettings | None,
) -> list[CheckResult]:
    """Every suite: on all rows (`days` None, one result per check) or per day of `days`."""
    settings = settings or QualitySettings()
    as_of = as_of or default_as_of(con)

    def scope(kind: str) -> dict:
        return {} if days is None else {"days": getattr(days, kind)}

    results = landing_checks(con, **scope("rows")) + raw_suite_results(
        con, **scope("rows"), **({} if days is None else {"key_days": days.keys})
    )
    if _structure_broken(results):
        # The cross-feed SQL reads the contract columns; with one missing it can only crash.
        return results
    with lot_origins_computed(con):
        results += reference_checks(con, as_of=as_of, grace_days=settings.grace_days, **scope("references"))
        results += timeline_checks(con, **scope("timeline"))
    results += genealogy_loop_checks(con)
    results += mass_balance_checks(con)
    results += volume_checks(
        con,
        **scope("volume"),
        window_days=settings.volume_window_days,
        min_history_days=settings.volume_min_history_days,
        mad_multiplier=settings.volume_mad_multiplier,
    )
    return results
