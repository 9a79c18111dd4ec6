"""The landing suite: what the senders of the feeds got wrong before any row reached raw.

A file refused whole (a header without a required column, twin CSV and Parquet files) is
an error: its rows are missing from the warehouse. Quarantined rows are a warning naming
the files that hold them; their reasons are in the table quarantine.
"""

from __future__ import annotations

from datetime import date

import duckdb
import great_expectations.expectations as gxe
import pandas as pd

from quality_checks.results import CheckResult
from quality_checks.validation import Check, validate_frame


def landing_checks(con: duckdb.DuckDBPyConnection, *, day: date | None = None) -> list[CheckResult]:
    frame = con.execute(
        """
        select source_file, feed, 'loaded' as status, rows_quarantined
        from ingest.loaded_files
        where ?::date is null or landing_date = ?::date
        union all
        select source_file, feed, 'rejected' as status, 0 as rows_quarantined
        from ingest.rejected_files
        where ?::date is null or landing_date = ?::date
        order by source_file
        """,
        [day, day, day, day],
    ).df()
    frame = frame if not frame.empty else pd.DataFrame(columns=["source_file", "feed", "status", "rows_quarantined"])
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
    return validate_frame(frame, suite="landing", checks=checks, key_columns=["source_file"], landing_date=day)
