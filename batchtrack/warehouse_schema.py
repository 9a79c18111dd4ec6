"""DDL of the tables the ingestion layer owns: raw feeds, quarantine and load state.

dbt owns everything built from these (staging, intermediate, marts and the recall macros).
"""

from __future__ import annotations

import contextlib

import duckdb

from batchtrack.feeds import DUCKDB_TYPES, FEEDS, RAW_LINEAGE_COLUMNS, Feed


def raw_table_ddl(feed: Feed) -> str:
    columns = [f"{c.name} {DUCKDB_TYPES[c.type]}" for c in feed.columns]
    columns += [f"{name} {sql_type}" for name, sql_type in RAW_LINEAGE_COLUMNS]
    return f"CREATE TABLE IF NOT EXISTS raw.{feed.name} (\n    " + ",\n    ".join(columns) + "\n)"


# Size and modification time (st_size, st_mtime_ns) of a loaded or rejected file when it was
# read: a file that still has them is not hashed again to find the changed days. Null in rows
# of warehouses from before they were recorded (the migration adds them), and for a file
# written to right before it was read.
FILE_STAMP_COLUMNS: tuple[tuple[str, str], ...] = (("file_size", "BIGINT"), ("file_mtime_ns", "BIGINT"))

INGEST_DDL = (
    "CREATE SCHEMA IF NOT EXISTS raw",
    "CREATE SCHEMA IF NOT EXISTS ingest",
    # Bad rows, never lost: the raw text of the record and why it was refused.
    """
    CREATE TABLE IF NOT EXISTS main.quarantine (
        feed VARCHAR NOT NULL,
        landing_date DATE NOT NULL,
        source_file VARCHAR NOT NULL,
        line_number BIGINT NOT NULL,
        raw_record JSON NOT NULL,
        reason VARCHAR NOT NULL,
        file_hash VARCHAR NOT NULL,
        loaded_at TIMESTAMP NOT NULL
    )
    """,
    # What has been loaded: one row per landing file, so a re-sent day is recognised.
    """
    CREATE TABLE IF NOT EXISTS ingest.loaded_files (
        landing_date DATE NOT NULL,
        feed VARCHAR NOT NULL,
        source_file VARCHAR NOT NULL,
        file_hash VARCHAR NOT NULL,
        rows_in BIGINT NOT NULL,
        rows_loaded BIGINT NOT NULL,
        rows_quarantined BIGINT NOT NULL,
        loaded_at TIMESTAMP NOT NULL,
        file_size BIGINT,  -- the file's stamp when it was read, see FILE_STAMP_COLUMNS
        file_mtime_ns BIGINT,
        PRIMARY KEY (landing_date, feed, source_file)
    )
    """,
    # Files refused whole (a required column missing from the header); kept until a good
    # version of the file is loaded.
    """
    CREATE TABLE IF NOT EXISTS ingest.rejected_files (
        landing_date DATE NOT NULL,
        feed VARCHAR NOT NULL,
        source_file VARCHAR NOT NULL,
        file_hash VARCHAR NOT NULL,
        error VARCHAR NOT NULL,
        rejected_at TIMESTAMP NOT NULL,
        file_size BIGINT,
        file_mtime_ns BIGINT,
        PRIMARY KEY (landing_date, feed, source_file)
    )
    """,
    # When each (day, feed) of the raw layer last changed (loaded, re-sent, removed): the
    # incremental models rebuild the days that changed after their last build.
    """
    CREATE TABLE IF NOT EXISTS ingest.feed_day_changes (
        landing_date DATE NOT NULL,
        feed VARCHAR NOT NULL,
        changed_at TIMESTAMP NOT NULL,
        PRIMARY KEY (landing_date, feed)
    )
    """,
)


def ensure_ingest_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the raw layer, quarantine and load-state tables if they are missing, and bring
    the tables of an older warehouse up to date (the file stamps of the load state, and the
    contract's added columns and changed types in the raw tables)."""
    had_changes = bool(table_columns(con, "ingest", "feed_day_changes"))
    for statement in INGEST_DDL:
        con.execute(statement)
    if not had_changes:
        # A warehouse from before change stamps: every day loaded so far counts as changed.
        con.execute(
            "insert into ingest.feed_day_changes "
            "select landing_date, feed, max(loaded_at) from ingest.loaded_files group by landing_date, feed"
        )
    for table in ("loaded_files", "rejected_files"):
        existing = table_columns(con, "ingest", table)
        for name, sql_type in FILE_STAMP_COLUMNS:
            if name not in existing:
                con.execute(f"alter table ingest.{table} add column {name} {sql_type}")
    for feed in FEEDS:
        con.execute(raw_table_ddl(feed))
        _migrate_raw_table(con, feed)


def table_columns(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> dict[str, str]:
    """Column name -> DuckDB type of a table ({} when there is no such table)."""
    rows = con.execute(
        "select column_name, data_type from information_schema.columns where table_schema = ? and table_name = ?",
        [schema, table],
    ).fetchall()
    return dict(rows)


def _migrate_raw_table(con: duckdb.DuckDBPyConnection, feed: Feed) -> None:
    existing = table_columns(con, "raw", feed.name)
    wanted = [(c.name, DUCKDB_TYPES[c.type]) for c in feed.columns] + list(RAW_LINEAGE_COLUMNS)
    for name, sql_type in wanted:
        if name not in existing:
            con.execute(f"alter table raw.{feed.name} add column {name} {sql_type}")
        elif existing[name].upper() != sql_type.upper():
            # Values that cannot take the contract's type: the column stays as it is, and the
            # contract_schema check fails and keeps the models from being built on it.
            with contextlib.suppress(duckdb.ConversionException):
                con.execute(f"alter table raw.{feed.name} alter column {name} type {sql_type}")
