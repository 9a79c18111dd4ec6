"""Load one feed of one landing day into the raw layer, replacing what that day delivered.

Each call is one DuckDB transaction: the day's old rows of the feed go, the new rows and
their quarantine come in, and the load state follows; a failure rolls all of it back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import polars as pl

from batchtrack.feeds import Feed
from batchtrack.ingestion.landing import LandingFile, landing_files
from batchtrack.ingestion.reader import HeaderError, read_landing_file
from batchtrack.ingestion.validation import ValidatedRows, validate_rows


@dataclass
class FeedDayResult:
    feed: str
    day: date
    status: str  # loaded | unchanged | absent | removed | rejected
    rows_in: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    files: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # files rejected whole, with why


def ingest_feed_day(
    con: duckdb.DuckDBPyConnection,
    landing: Path,
    day: date,
    feed: Feed,
    *,
    force: bool = False,
    loaded_at: datetime | None = None,
) -> FeedDayResult:
    """Bring raw.<feed> in line with what the landing folder of `day` holds for `feed`.

    Unless `force`, a day whose files have the same hashes as when they were loaded is
    left alone. A file whose header lacks a required column is recorded in
    ingest.rejected_files and its previously loaded version (if any) stays.
    """
    loaded_at = loaded_at or datetime.now(UTC).replace(tzinfo=None)
    if not (landing / day.isoformat()).is_dir():
        # No folder (archived, or a day in the middle of a run's range that was never sent):
        # what was loaded from it stays. Only a re-sent folder without a file removes that file.
        return FeedDayResult(feed.name, day, "absent")
    files = landing_files(landing, day, feed)
    hashes = {landing_file.relative_path: landing_file.sha256() for landing_file in files}
    previous: dict[str, str] = {}
    pending_rejections = 0
    for source_file, file_hash, is_rejection in con.execute(
        "select source_file, file_hash, false from ingest.loaded_files where landing_date = $day and feed = $feed "
        "union all "
        "select source_file, null, true from ingest.rejected_files where landing_date = $day and feed = $feed",
        {"day": day, "feed": feed.name},
    ).fetchall():
        if is_rejection:
            pending_rejections += 1
        else:
            previous[source_file] = file_hash
    if not force and hashes == previous and not pending_rejections:
        return FeedDayResult(feed.name, day, "unchanged" if files else "absent", files=sorted(hashes))

    accepted: list[tuple[LandingFile, str, ValidatedRows]] = []
    rejected: list[tuple[LandingFile, str]] = []
    if len(files) > 1:
        # Both shipments.csv and shipments.parquet: one delivery in two forms is ambiguous.
        # Load the CSV, refuse the Parquet (which makes `batchtrack ingest` exit non-zero).
        twin = files[1]
        rejected.append(
            (
                twin,
                f"{twin.relative_path}: {files[0].path.name} was delivered too; loaded {files[0].path.name} and "
                f"ignored this file (send one format per feed and day)",
            )
        )
        files = files[:1]
    for landing_file in files:
        # The hash stored is the one of the bytes loaded, even if the file changed since.
        content, file_hash = landing_file.read()
        hashes[landing_file.relative_path] = file_hash
        try:
            accepted.append((landing_file, file_hash, validate_rows(read_landing_file(landing_file, content), feed)))
        except HeaderError as error:
            rejected.append((landing_file, str(error)))

    result = FeedDayResult(feed.name, day, "loaded", files=sorted(hashes))
    con.begin()
    try:
        # Files of the earlier delivery that this one no longer has go first, so that a
        # day re-sent as Parquet instead of CSV does not clash with its own old rows.
        gone = sorted(set(previous) - set(hashes))
        for source_file in gone:
            _delete_file_rows(con, feed, day, source_file)
        for landing_file, file_hash, rows in accepted:
            loaded, quarantined = _replace_file(
                con, landing_file, file_hash, rows, loaded_at, loaded_before=landing_file.relative_path in previous
            )
            result.rows_loaded += loaded
            result.rows_quarantined += quarantined
            result.rows_in += rows.rows_in
        for landing_file, error in rejected:
            con.execute(
                "insert or replace into ingest.rejected_files values (?, ?, ?, ?, ?, ?)",
                [
                    day,
                    feed.name,
                    landing_file.relative_path,
                    hashes[landing_file.relative_path],
                    error,
                    loaded_at,
                ],
            )
            result.errors.append(error)
        if pending_rejections:
            con.execute(
                "delete from ingest.rejected_files where landing_date = ? and feed = ? and source_file not in "
                "(select unnest(?::varchar[]))",
                [
                    day,
                    feed.name,
                    [landing_file.relative_path for landing_file, _ in rejected],
                ],
            )
        if accepted or rejected or gone:
            con.execute("insert or replace into ingest.feed_day_changes values (?, ?, ?)", [day, feed.name, loaded_at])
        con.commit()
    except BaseException:
        con.rollback()
        raise
    if rejected:
        result.status = "rejected"
    elif not files:
        result.status = "removed" if previous else "absent"
    return result


def _delete_file_rows(con: duckdb.DuckDBPyConnection, feed: Feed, day: date, source_file: str) -> None:
    # landing_date is implied by source_file; saying it lets DuckDB skip the row groups of
    # other days (zone maps) instead of scanning the whole history.
    for table in (f"raw.{feed.name}", "main.quarantine", "ingest.loaded_files"):
        con.execute(f"delete from {table} where landing_date = ? and source_file = ?", [day, source_file])


def _replace_file(
    con: duckdb.DuckDBPyConnection,
    landing_file: LandingFile,
    file_hash: str,
    rows: ValidatedRows,
    loaded_at: datetime,
    *,
    loaded_before: bool = True,
) -> tuple[int, int]:
    feed = landing_file.feed
    source_file = landing_file.relative_path
    if loaded_before:  # else there is nothing of it to delete
        _delete_file_rows(con, feed, landing_file.day, source_file)
    good, quarantined = _quarantine_known_keys(con, feed, source_file, rows.good, rows.quarantined)

    con.register("incoming_rows", good.to_arrow())
    try:
        con.execute(
            f"""
            insert into raw.{feed.name} by name
            select *, ?::date as landing_date, ? as source_file, ? as file_hash, ? as loaded_at
            from incoming_rows
            """,
            [landing_file.day, source_file, file_hash, loaded_at],
        )
    finally:
        con.unregister("incoming_rows")
    if quarantined.height:
        con.register("incoming_quarantine", quarantined.to_arrow())
        try:
            con.execute(
                """
                insert into main.quarantine
                select ?, ?::date, ?, line_number, raw_record::json, reason, ?, ?
                from incoming_quarantine
                """,
                [feed.name, landing_file.day, source_file, file_hash, loaded_at],
            )
        finally:
            con.unregister("incoming_quarantine")
    con.execute(
        "insert or replace into ingest.loaded_files values (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            landing_file.day,
            feed.name,
            source_file,
            file_hash,
            rows.rows_in,
            good.height,
            quarantined.height,
            loaded_at,
        ],
    )
    return good.height, quarantined.height


def _quarantine_known_keys(
    con: duckdb.DuckDBPyConnection,
    feed: Feed,
    source_file: str,
    good: pl.DataFrame,
    quarantined: pl.DataFrame,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Move rows whose key another file already loaded (another day, or the Parquet twin
    of this file) to quarantine. Master data are snapshots, where the latest delivery wins."""
    if not feed.key or feed.master_data or good.is_empty():
        return good, quarantined
    keys = good.select(*feed.key, "line_number")
    con.register("incoming_keys", keys.to_arrow())
    try:
        join = " and ".join(f"loaded.{name} = incoming.{name}" for name in feed.key)
        clashes = con.execute(
            f"""
            select incoming.line_number, any_value(loaded.source_file), min(loaded.line_number)
            from incoming_keys as incoming
            join raw.{feed.name} as loaded on {join}
            where loaded.source_file <> ?
            group by incoming.line_number
            """,
            [source_file],
        ).pl()
    finally:
        con.unregister("incoming_keys")
    if clashes.is_empty():
        return good, quarantined
    clashes.columns = ["line_number", "other_file", "other_line"]
    key_text = pl.format(", ".join(f"{name}='{{}}'" for name in feed.key), *[pl.col(n) for n in feed.key])
    raw_columns = [name for name in feed.column_names]
    moved = good.join(clashes, on="line_number", how="inner").select(
        pl.col("line_number"),
        pl.struct([pl.col(name).cast(pl.String) for name in raw_columns]).struct.json_encode().alias("raw_record"),
        pl.format(
            "duplicate key {} (already loaded from {} line {})",
            key_text,
            "other_file",
            "other_line",
        ).alias("reason"),
    )
    remaining = good.join(clashes.select("line_number"), on="line_number", how="anti")
    return remaining, pl.concat([quarantined, moved]).sort("line_number")
