"""The warehouse table `main.quality_findings`: one row per check per run, beside `main.quarantine`,
so trends ("how many unknown lots per day this month?") are one SQL query away."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime

import duckdb

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
    description VARCHAR NOT NULL
)
"""


def ensure_findings_table(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(FINDINGS_DDL)


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
    rows = [
        (
            run_id,
            checked_at,
            result.landing_date,
            result.suite,
            result.expectation,
            result.severity,
            result.success,
            result.failing_count,
            json.dumps(list(result.sample_keys)),
            result.description,
        )
        for result in results
    ]
    if rows:
        con.executemany("INSERT INTO main.quality_findings VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    return len(rows)
