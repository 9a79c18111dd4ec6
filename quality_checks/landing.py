"""The landing suite: what the senders of the feeds got wrong before any row reached raw.

A file refused whole (a header without a required column, twin CSV and Parquet files) is
an error: its rows are missing from the warehouse. Quarantined rows are a warning naming
the files that hold them; their reasons are in the table quarantine.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date

import duckdb
import great_expectations.expectations as gxe
import pandas as pd

from quality_checks.results import CheckResult
from quality_checks.validation import Check, validate_frame


def landing_checks(
    con: duckdb.DuckDBPyConnection, *, day: date | None = None, days: Collection[date] | None = None
) -> list[CheckResult]:
    """The files of every day, of `day`, or of each day of `days` (one result per day)."""
    day_list = [day] if day else (None if days is None else sorted(set(days)))
    frame = con.execute(
        """
        select source_file, feed, landing_date, 'loaded' as status, rows_quarantined
        from ingest.loaded_files
        where $days is null or landing_date in (select unnest($days::date[]))
        union all
        select source_file, feed, landing_date, 'rejected' as status, 0 as rows_quarantined
        from ingest.rejected_files
        where $days is null or landing_date in (select unnest($days::date[]))
        order by source_file
        """,
        {"days": day_list},
    ).df()
    if frame.empty:
        frame = pd.DataFrame(columns=["source_file", "feed", "landing_date", "status", "rows_quarantined"])
    checks = [
        Check(
            "landing.files_accepted",
            "error",
            "No landing file is refused whole (a header without a required column, or one feed sent as both "
            "CSV and Parquet on one day); `batchtrack ingest` names the file and the column.",
            gxe.ExpectColumnValuesToBeInSet(column="status", value_set=["loaded"]),
        ),
        Check(
            "landing.no_rows_quarantined",
            "warning",
            "No row of a landing file was quarantined; the table quarantine says which rows and why.",
            gxe.ExpectColumnValuesToBeBetween(column="rows_quarantined", max_value=0),
        ),
    ]
    return validate_frame(frame, suite="landing", checks=checks, key_columns=["source_file"], days=day_list)
