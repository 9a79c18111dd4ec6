"""One entry point: run every suite against a warehouse connection and return the results."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb

from quality_checks.cross_feed import (
    genealogy_loop_checks,
    mass_balance_checks,
    reference_checks,
    timeline_checks,
    volume_checks,
)
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
    settings = settings or QualitySettings()
    as_of = as_of or default_as_of(con)
    results = landing_checks(con, day=day) + raw_suite_results(con, day)
    structure_ok = not any(result.is_error for result in results)
    if not structure_ok:
        # The cross-feed SQL reads the contract columns; with one missing it can only crash.
        return results
    results += reference_checks(con, as_of=as_of, grace_days=settings.grace_days, day=day)
    results += timeline_checks(con, day=day)
    results += genealogy_loop_checks(con)
    results += mass_balance_checks(con)
    results += volume_checks(
        con,
        day=day,
        window_days=settings.volume_window_days,
        min_history_days=settings.volume_min_history_days,
        mad_multiplier=settings.volume_mad_multiplier,
    )
    return results
