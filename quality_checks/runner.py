"""Run every suite against a warehouse connection and return the results: on all the data, on one
landing day, or (a daily run) on the days whose data changed since the last run and the days
those changes reach.

Inside a Dagster run most of a daily run is computed first by the asset checks that guard the
assets (pipelines/defs/checks.py): the schema and row suites of each feed before the models, the
cross-feed and mart checks after them. They keep what they computed for the run
(`findings.store_run_results`), and the run's quality asset records those results with the
checks only it runs, so no check runs twice in a run."""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Mapping
from dataclasses import asdict, dataclass
from datetime import date, datetime
from functools import cached_property

import duckdb

from batchtrack.feeds import FEEDS, Feed
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
from quality_checks.findings import (
    failing_days,
    has_run_history,
    last_watermark,
    latest_results,
    record_quality_run,
    store_run_results,
    stored_run_results,
)
from quality_checks.landing import landing_checks
from quality_checks.raw_suites import row_checks, schema_checks
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


class DaysOfDailyRun:
    """The days a daily run checks: the landing days stamped in ingest.feed_day_changes after the
    last recorded run (`record_quality_run`), and the days their changes reach; before any
    recorded run, every day. The same attributes as `DaysChecked`, each found when first asked
    for: a run that reuses the references and timeline checks of its asset checks does not
    compute the days they reach again."""

    def __init__(self, con: duckdb.DuckDBPyConnection, settings: QualitySettings) -> None:
        self._con = con
        self._settings = settings
        self.changes_through = _latest_change(con)  # the watermark to record with this run
        self.watermark = last_watermark(con)
        self.is_full = self.watermark is None
        if self.is_full:
            self.changed = frozenset(all_landing_days(con))
        else:
            self.changed = _days_changed_since(con, self.watermark)

    # A raw row's answer is its own: only the changed days. The other checks answer for a day from
    # other days' rows too, so they also look at the days a change reaches (see the *_days_reached
    # functions), and at the days whose latest stored result failed: the fix may have come from
    # another day (a lot produced late, a duplicate key's twin re-sent without it), and a failure
    # must not outlive its cause in the latest findings.

    @property
    def rows(self) -> frozenset[date]:
        return self.changed

    @cached_property
    def keys(self) -> frozenset[date]:
        if self.is_full:
            return self.changed
        return self.changed | failing_days(self._con, [f"raw.{feed.name}.keys" for feed in FEEDS])

    @cached_property
    def references(self) -> frozenset[date]:
        if self.is_full:
            return self.changed
        reached = reference_days_reached(self._con, self.changed, after_a_run=True)
        return frozenset(reached | failing_days(self._con, ["references"]))

    @cached_property
    def timeline(self) -> frozenset[date]:
        if self.is_full:
            return self.changed
        reached = timeline_days_reached(self._con, self.changed)
        return frozenset(reached | failing_days(self._con, ["timeline"]))

    @cached_property
    def volume(self) -> frozenset[date]:
        if self.is_full:
            return self.changed
        return frozenset(volume_days_reached(self._con, self.changed, window_days=self._settings.volume_window_days))


@dataclass(frozen=True)
class QualityRun:
    """What a daily run checked and found; `changes_through` is the watermark to record with it."""

    results: list[CheckResult]
    changed_days: frozenset[date]
    changes_through: datetime | None
    is_full: bool  # every day was checked (first run, or no watermark)
    # The parts ("rows.shipments", "references", ...) taken as the run's asset checks computed them.
    reused_parts: frozenset[str] = frozenset()


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
    con: duckdb.DuckDBPyConnection,
    *,
    as_of: date | None = None,
    settings: QualitySettings | None = None,
    run_id: str | None = None,
) -> QualityRun:
    """The checks of a daily run (`DaysOfDailyRun`), each with one result per check and day.
    Genealogy loops and mass balance are properties of all the data and are always checked whole.

    With `run_id`, the results the asset checks of that Dagster run kept (`daily_schema_checks`,
    `daily_row_checks`, `daily_mart_checks`) are taken as they are, when the warehouse is still as
    they saw it; only the rest is computed."""
    settings = settings or QualitySettings()
    as_of = as_of or default_as_of(con)
    days = DaysOfDailyRun(con, settings)
    stored = {} if run_id is None else stored_run_results(con, run_id, _run_state(con, as_of, settings))
    reused: set[str] = set()
    results = _run(con, as_of=as_of, days=days, settings=settings, stored=stored, reused=reused)
    if _structure_broken(results):
        # The row and cross-feed checks did not run on a broken raw table: the days stay to be checked.
        return QualityRun(results, days.changed, days.watermark, is_full=False, reused_parts=frozenset(reused))
    return QualityRun(results, days.changed, days.changes_through, days.is_full, reused_parts=frozenset(reused))


def run_and_record_daily_checks(
    con: duckdb.DuckDBPyConnection, run_id: str, *, checked_at: datetime | None = None
) -> QualityRun:
    """A daily run (`run_changed_day_checks`, reusing what the asset checks of `run_id` computed)
    with its findings and watermark recorded."""
    run = run_changed_day_checks(con, run_id=run_id)
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


def daily_schema_checks(con: duckdb.DuckDBPyConnection, feed: Feed, *, run_id: str | None = None) -> list[CheckResult]:
    """The schema suite of `feed`, as a daily run checks it; kept for the quality asset of `run_id`."""
    return _computed_for_run(con, run_id, f"schema.{feed.name}", lambda: schema_checks(con, feed))


def daily_row_checks(con: duckdb.DuckDBPyConnection, feed: Feed, *, run_id: str | None = None) -> list[CheckResult]:
    """The row suite of `feed` on the days a daily run checks (`DaysOfDailyRun`): a month at a
    time before any recorded run, so no frame holds a whole table. Kept for the quality asset of
    `run_id`."""

    def compute() -> list[CheckResult]:
        days = DaysOfDailyRun(con, QualitySettings())
        return row_checks(con, feed, days=days.rows, key_days=days.keys)

    return _computed_for_run(con, run_id, f"rows.{feed.name}", compute)


MART_PARTS = ("references", "timeline", "genealogy", "mass_balance")


def daily_mart_checks(con: duckdb.DuckDBPyConnection, *, run_id: str | None = None) -> dict[str, list[CheckResult]]:
    """The cross-feed and mart checks of a daily run, by part (MART_PARTS): references and timeline
    on the days the run's changes reach (`DaysOfDailyRun`), genealogy loops and mass balance
    whole. Kept for the quality asset of `run_id`."""
    settings = QualitySettings()
    as_of = default_as_of(con)
    found = _mart_checks(con, as_of=as_of, days=DaysOfDailyRun(con, settings), settings=settings, parts=MART_PARTS)
    if run_id is not None:
        state = _run_state(con, as_of, settings)
        for part, results in found.items():
            store_run_results(con, run_id, part, results, state=state)
    return found


def _computed_for_run(
    con: duckdb.DuckDBPyConnection, run_id: str | None, part: str, compute: Callable[[], list[CheckResult]]
) -> list[CheckResult]:
    results = compute()
    if run_id is not None:
        settings = QualitySettings()
        store_run_results(con, run_id, part, results, state=_run_state(con, default_as_of(con), settings))
    return results


def _run_state(con: duckdb.DuckDBPyConnection, as_of: date, settings: QualitySettings) -> str:
    """What a daily run's results depend on besides the rows: every load, re-send and removal
    stamps ingest.feed_day_changes; the recorded runs decide the days checked (watermark, stored
    failures); `as_of` and the settings decide the answers. Kept results are reused only while
    this is unchanged, so a step that ran before another feed's load is computed again."""
    stamps = (0, None)
    if table_columns(con, "ingest", "feed_day_changes"):
        stamps = con.execute("select count(*), max(changed_at) from ingest.feed_day_changes").fetchone()
    runs = None
    if has_run_history(con):
        runs = con.execute("select count(*), max(run_number) from main.quality_runs").fetchone()
    return json.dumps([stamps, runs, as_of, asdict(settings)], default=str)


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


def _days_changed_since(con: duckdb.DuckDBPyConnection, watermark: datetime) -> frozenset[date]:
    return frozenset(
        row[0]
        for row in con.execute(
            "select distinct landing_date from ingest.feed_day_changes where changed_at > ?", [watermark]
        ).fetchall()
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
    days: DaysChecked | DaysOfDailyRun | None,
    settings: QualitySettings | None,
    stored: Mapping[str, list[CheckResult]] | None = None,
    reused: set[str] | None = None,
) -> list[CheckResult]:
    """Every suite: on all rows (`days` None, one result per check) or per day of `days`. A part
    in `stored` (computed by the run's asset checks) is taken as it is, and its name added to
    `reused`."""
    settings = settings or QualitySettings()
    as_of = as_of or default_as_of(con)
    stored = stored or {}
    reused = set() if reused is None else reused

    def scope(kind: str) -> dict:
        return {} if days is None else {"days": getattr(days, kind)}

    def part(name: str, compute: Callable[..., list[CheckResult]], *args, **kwargs) -> list[CheckResult]:
        if name in stored:
            reused.add(name)
            return list(stored[name])
        return compute(*args, **kwargs)

    results = landing_checks(con, **scope("rows"))
    for feed in FEEDS:
        structure = part(f"schema.{feed.name}", schema_checks, con, feed)
        results += structure
        if all(result.success for result in structure):
            key_scope = {} if days is None else {"key_days": days.keys}
            results += part(f"rows.{feed.name}", row_checks, con, feed, **scope("rows"), **key_scope)
    if _structure_broken(results):
        # The cross-feed SQL reads the contract columns; with one missing it can only crash.
        return results
    missing = [name for name in MART_PARTS if name not in stored]
    reused.update(name for name in MART_PARTS if name in stored)
    marts = {**stored, **_mart_checks(con, as_of=as_of, days=days, settings=settings, parts=missing)}
    results += marts["references"] + marts["timeline"] + marts["genealogy"] + marts["mass_balance"]
    results += volume_checks(
        con,
        **scope("volume"),
        window_days=settings.volume_window_days,
        min_history_days=settings.volume_min_history_days,
        mad_multiplier=settings.volume_mad_multiplier,
    )
    return results


def _mart_checks(
    con: duckdb.DuckDBPyConnection,
    *,
    as_of: date,
    days: DaysChecked | DaysOfDailyRun | None,
    settings: QualitySettings,
    parts: Collection[str],
) -> dict[str, list[CheckResult]]:
    """The `parts` of MART_PARTS asked for: references and timeline per day of `days` (or on all
    rows), genealogy loops and mass balance whole."""

    def scope(kind: str) -> dict:
        return {} if days is None else {"days": getattr(days, kind)}

    found: dict[str, list[CheckResult]] = {}
    if "references" in parts or "timeline" in parts:
        # The days a change reaches and the checks read the lot origins: computed once for all.
        with lot_origins_computed(con):
            if "references" in parts:
                found["references"] = reference_checks(
                    con, as_of=as_of, grace_days=settings.grace_days, **scope("references")
                )
            if "timeline" in parts:
                found["timeline"] = timeline_checks(con, **scope("timeline"))
    if "genealogy" in parts:
        found["genealogy"] = genealogy_loop_checks(con)
    if "mass_balance" in parts:
        found["mass_balance"] = mass_balance_checks(con)
    return found
