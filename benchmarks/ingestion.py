"""Ingestion throughput: the raw ingestion library per feed over every landing day, and DuckDB's
own bare read_csv of the same files as the yardstick."""

from __future__ import annotations

import time
from pathlib import Path

import duckdb

from batchtrack.feeds import FEEDS
from batchtrack.ingestion import day_folders, ingest_feed_days
from batchtrack.warehouse_schema import ensure_ingest_schema

# DuckDB's reader, as a user would call it on all files of a feed at once, in three forms; the
# fastest that reads the files is the yardstick. "as_given" can fail: when a file's sniffing
# sample holds no quoted field, the sniffer decides the file has no quoting and a later
# "12,5" breaks the row. The contract says RFC 4180, so the other forms say so. Our reader
# reads text and validates after, so "text" (all_varchar) is the like-for-like form.
_RFC_4180 = "quote = '\"', escape = '\"'"
YARDSTICK_VARIANTS = {
    "as_given": "read_csv(?, all_varchar = false, union_by_name = true)",
    "typed": f"read_csv(?, all_varchar = false, union_by_name = true, {_RFC_4180})",
    "text": f"read_csv(?, all_varchar = true, union_by_name = true, {_RFC_4180})",
}


def _fresh_database(path: Path) -> duckdb.DuckDBPyConnection:
    """An empty DuckDB file. Its name is its catalog's: never raw.duckdb or ingest.duckdb, which
    would make the schema names raw and ingest ambiguous."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    path.with_name(path.name + ".wal").unlink(missing_ok=True)
    return duckdb.connect(str(path))


def ingest_raw(params: dict) -> dict:
    """Child phase: every feed over every day into a fresh DuckDB file, timed per feed.

    Rows are the rows in the files (loaded + quarantined). Parquet files (shipments on every
    10th day) are counted apart from the CSV files.
    """
    landing = Path(params["landing"])
    days = sorted(day_folders(landing))
    feeds: dict[str, dict] = {}
    with _fresh_database(Path(params["database"])) as con:
        ensure_ingest_schema(con)
        for feed in FEEDS:
            totals = {fmt: {"files": 0, "rows": 0, "quarantined": 0, "seconds": 0.0} for fmt in ("csv", "parquet")}
            # One call per format, over its days in order, as the pipeline's raw asset calls it
            # for a run's days (it writes many days per transaction); the days of the feed's
            # Parquet files go in a call of their own, so that the CSV figures time CSV files.
            parquet_days = [day for day in days if (landing / day.isoformat() / f"{feed.name}.parquet").is_file()]
            by_format = {"csv": [day for day in days if day not in parquet_days], "parquet": parquet_days}
            for fmt, format_days in by_format.items():
                started = time.perf_counter()
                results = ingest_feed_days(con, landing, format_days, feed, force=True)
                totals[fmt]["seconds"] += time.perf_counter() - started
                for result in results:
                    if result.errors:
                        raise RuntimeError(f"{feed.name} {result.day}: file rejected: {'; '.join(result.errors)}")
                    totals[fmt]["files"] += len(result.files)
                    totals[fmt]["rows"] += result.rows_in
                    totals[fmt]["quarantined"] += result.rows_quarantined
            feeds[feed.name] = totals
            print(f"  raw ingestion {feed.name}: {totals['csv']['rows']:,} CSV rows in {totals['csv']['seconds']:.1f}s")
    return {"days": len(days), "feeds": feeds}


def read_csv_yardstick(params: dict) -> dict:
    """Child phase: each feed's files read by DuckDB alone into a table of a fresh DuckDB file."""
    landing = Path(params["landing"])
    folders = [folder for _, folder in sorted(day_folders(landing).items())]
    feeds: dict[str, dict] = {}
    with _fresh_database(Path(params["database"])) as con:
        for feed in FEEDS:
            csv_files = [
                str(folder / f"{feed.name}.csv") for folder in folders if (folder / f"{feed.name}.csv").is_file()
            ]
            parquet_files = [
                str(folder / f"{feed.name}.parquet")
                for folder in folders
                if (folder / f"{feed.name}.parquet").is_file()
            ]
            entry: dict[str, dict] = {"csv": {}, "parquet": {}}
            for variant, reader in YARDSTICK_VARIANTS.items():
                entry["csv"][variant] = _timed_create(con, f"{feed.name}_{variant}", reader, csv_files)
            if parquet_files:
                entry["parquet"]["read_parquet"] = _timed_create(
                    con, f"{feed.name}_parquet", "read_parquet(?, union_by_name = true)", parquet_files
                )
            feeds[feed.name] = entry
            print(f"  read_csv yardstick {feed.name}: done")
    return {"feeds": feeds}


def _timed_create(con: duckdb.DuckDBPyConnection, table: str, reader: str, files: list[str]) -> dict:
    if not files:
        return {"files": 0, "rows": 0, "seconds": 0.0}
    started = time.perf_counter()
    try:
        con.execute(f"create table {table} as select * from {reader}", [files])
    except duckdb.Error as error:
        return {"files": len(files), "error": str(error).splitlines()[0]}
    seconds = time.perf_counter() - started
    rows = con.execute(f"select count(*) from {table}").fetchone()[0]
    con.execute(f"drop table {table}")
    return {"files": len(files), "rows": rows, "seconds": seconds}
