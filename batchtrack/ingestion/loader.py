"""Load feeds of landing days into the raw layer, replacing what each day delivered.

A run over many days reads them (and checks their headers) day by day, and validates and
writes them together, a batch of days in one DuckDB transaction: each day's old rows of the
feed go, its new rows and their quarantine come in, and the load state follows. A failure
rolls the batch back and writes its days one by one again, so the days before the failing one
keep their loads and no day is ever half-written; an interrupt (Ctrl-C) stops the run instead.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import polars as pl

from batchtrack.feeds import Feed
from batchtrack.ingestion.landing import FileStamp, Fingerprint, LandingFile, landing_files, unchanged_since
from batchtrack.ingestion.reader import HeaderError, read_landing_file
from batchtrack.ingestion.validation import FILE, ValidatedRows, validate_files

# Rows (of the files read) held in memory before the days read so far are written: large
# enough that a transaction's fixed cost (commit, checkpoint) is spread over many days, small
# enough that a year of a feed is not held in memory at once.
BATCH_ROWS = 500_000


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


@dataclass
class _AcceptedFile:
    landing_file: LandingFile
    fingerprint: Fingerprint  # of the bytes read
    text: pl.DataFrame  # as read: validated when its batch is written
    loaded_before: bool  # a version of it is in the warehouse, to be replaced


@dataclass
class _DayDelivery:
    """One (day, feed) read and header-checked: what writing it changes."""

    result: FeedDayResult
    gone: list[str]  # files of the earlier delivery this one replaces: no longer sent, or an ignored twin
    accepted: list[_AcceptedFile]
    rejected: list[tuple[LandingFile, Fingerprint, str]]  # file, fingerprint, error
    clear_rejections: bool  # earlier rejections of this day are recorded

    @property
    def rows_in(self) -> int:
        return sum(accepted.text.height for accepted in self.accepted)


def ingest_feed_day(
    con: duckdb.DuckDBPyConnection,
    landing: Path,
    day: date,
    feed: Feed,
    *,
    force: bool = False,
    loaded_at: datetime | None = None,
) -> FeedDayResult:
    """Bring raw.<feed> in line with what the landing folder of `day` holds for `feed`
    (see `ingest_feed_days`)."""
    return ingest_feed_days(con, landing, [day], feed, force=force, loaded_at=loaded_at)[0]


def ingest_feed_days(
    con: duckdb.DuckDBPyConnection,
    landing: Path,
    days: Iterable[date],
    feed: Feed,
    *,
    force: bool = False,
    loaded_at: datetime | None = None,
) -> list[FeedDayResult]:
    """Bring raw.<feed> in line with what the landing folders of `days` hold for `feed`,
    day after day in the order given; one result per day.

    Unless `force`, a day whose files are the ones loaded, with the same bytes, is left
    alone; a file with the size and modification time it had when loaded is not read to tell
    (see `plan_days`). A file whose header lacks a required column is recorded in
    ingest.rejected_files and its previously loaded version (if any) stays. When a day
    fails (an unreadable file, a database error), the days before it are loaded and the
    error is raised. At the end, the feed's loaded files that lack a stamp or have another
    one now, but the same bytes, get their current stamp (see `_record_stamps`).
    """
    loaded_at = loaded_at or datetime.now(UTC).replace(tzinfo=None)
    days = list(days)
    state = _load_state(con, feed, days)
    results: list[FeedDayResult] = []
    batch: list[_DayDelivery] = []
    batch_rows = 0
    for day in days:
        try:
            delivery = _read_day(landing, day, feed, state.get(day, ({}, False)), force)
        except Exception:
            _write_batch(con, feed, batch, loaded_at)  # the days read before it
            raise
        if isinstance(delivery, FeedDayResult):
            results.append(delivery)
            continue
        results.append(delivery.result)
        batch.append(delivery)
        batch_rows += delivery.rows_in
        if batch_rows >= BATCH_ROWS:
            _write_batch(con, feed, batch, loaded_at)
            batch, batch_rows = [], 0
    _write_batch(con, feed, batch, loaded_at)
    _record_stamps(con, landing, feed)
    return results


def _load_state(
    con: duckdb.DuckDBPyConnection, feed: Feed, days: list[date]
) -> dict[date, tuple[dict[str, Fingerprint], bool]]:
    """Per day: the fingerprints of the files loaded from it, and whether a rejection is recorded."""
    state: dict[date, tuple[dict[str, Fingerprint], bool]] = {}
    if not days:
        return state
    rows = con.execute(
        "select landing_date, source_file, file_hash, file_size, file_mtime_ns, false from ingest.loaded_files "
        "where feed = $feed and landing_date in (select unnest($days::date[])) "
        "union all "
        "select landing_date, source_file, null, null, null, true from ingest.rejected_files "
        "where feed = $feed and landing_date in (select unnest($days::date[]))",
        {"days": days, "feed": feed.name},
    ).fetchall()
    for day, source_file, file_hash, size, mtime_ns, is_rejection in rows:
        previous, _ = state.setdefault(day, ({}, False))
        if is_rejection:
            state[day] = (previous, True)
        else:
            previous[source_file] = Fingerprint.recorded(file_hash, size, mtime_ns)
    return state


def _read_day(
    landing: Path, day: date, feed: Feed, state: tuple[dict[str, Fingerprint], bool], force: bool
) -> _DayDelivery | FeedDayResult:
    """What the day's files bring, validated; a FeedDayResult alone when there is nothing to write."""
    if not (landing / day.isoformat()).is_dir():
        # No folder (archived, or a day in the middle of a run's range that was never sent):
        # what was loaded from it stays. Only a re-sent folder without a file removes that file.
        return FeedDayResult(feed.name, day, "absent")
    previous, pending_rejections = state
    files = landing_files(landing, day, feed)
    names = sorted(landing_file.relative_path for landing_file in files)
    if not force and not pending_rejections and unchanged_since(files, previous):
        return FeedDayResult(feed.name, day, "unchanged" if files else "absent", files=names)

    accepted: list[_AcceptedFile] = []
    rejected: list[tuple[LandingFile, Fingerprint, str]] = []
    ignored_twin: set[str] = set()
    if len(files) > 1:
        # Both shipments.csv and shipments.parquet: one delivery in two forms is ambiguous.
        # Load the CSV, refuse the Parquet (which makes `batchtrack ingest` exit non-zero).
        twin = files[1]
        rejected.append(
            (
                twin,
                twin.fingerprint(),
                f"{twin.relative_path}: {files[0].path.name} was delivered too; loaded {files[0].path.name} and "
                f"ignored this file (send one format per feed and day)",
            )
        )
        ignored_twin.add(twin.relative_path)
        files = files[:1]
    for landing_file in files:
        # The fingerprint stored is the one of the bytes loaded, even if the file changed since.
        content, fingerprint = landing_file.read()
        try:
            text = read_landing_file(landing_file, content)
        except HeaderError as error:
            rejected.append((landing_file, fingerprint, str(error)))
            continue
        accepted.append(_AcceptedFile(landing_file, fingerprint, text, landing_file.relative_path in previous))

    result = FeedDayResult(feed.name, day, "loaded", files=names)
    result.errors = [error for _, _, error in rejected]
    if rejected:
        result.status = "rejected"
    elif not files:
        result.status = "removed" if previous else "absent"
    # Files of the earlier delivery that this one no longer has go first, so that a
    # day re-sent as Parquet instead of CSV does not clash with its own old rows. So does
    # an ignored twin's earlier load once the file loaded in its place is accepted (a day
    # first sent as Parquet, re-sent as CSV and Parquet); if that file is refused, what was
    # loaded before stays.
    gone = set(previous) - set(names)
    if accepted:
        gone |= set(previous) & ignored_twin
    return _DayDelivery(result, sorted(gone), accepted, rejected, pending_rejections)


def _write_batch(con: duckdb.DuckDBPyConnection, feed: Feed, batch: list[_DayDelivery], loaded_at: datetime) -> None:
    """Validate and write the days of `batch` in one transaction; if that fails, one day per
    transaction, so the error is raised by the day that causes it with the days before it written."""
    if not batch:
        return
    try:
        _write_in_one_transaction(con, feed, batch, loaded_at)
    except Exception as error:
        if len(batch) == 1 or _interrupted(error):
            raise
        for delivery in batch:
            _write_in_one_transaction(con, feed, [delivery], loaded_at)


def _interrupted(error: Exception) -> bool:
    """Ctrl-C while DuckDB runs a statement: it arrives as this error, not KeyboardInterrupt."""
    return isinstance(error, duckdb.InterruptException) or str(error) == "Query interrupted"


def _write_in_one_transaction(
    con: duckdb.DuckDBPyConnection, feed: Feed, batch: list[_DayDelivery], loaded_at: datetime
) -> None:
    accepted_files = [accepted for delivery in batch for accepted in delivery.accepted]
    rows = validate_files([accepted.text for accepted in accepted_files], feed) if accepted_files else None
    con.begin()
    try:
        _write_days(con, feed, batch, accepted_files, rows, loaded_at)
        con.commit()
    except BaseException:
        con.rollback()
        raise


def _write_days(
    con: duckdb.DuckDBPyConnection,
    feed: Feed,
    batch: list[_DayDelivery],
    accepted_files: list[_AcceptedFile],
    rows: ValidatedRows | None,
    loaded_at: datetime,
) -> None:
    replaced = [(delivery.result.day, source_file) for delivery in batch for source_file in delivery.gone]
    replaced += [
        (delivery.result.day, accepted.landing_file.relative_path)
        for delivery in batch
        for accepted in delivery.accepted
        if accepted.loaded_before
    ]
    if replaced:
        _delete_file_rows(con, feed, replaced)

    if rows is not None:
        lineage = {
            "landing_date": pl.Series([accepted.landing_file.day for accepted in accepted_files], dtype=pl.Date),
            "source_file": pl.Series([accepted.landing_file.relative_path for accepted in accepted_files]),
            "file_hash": pl.Series([accepted.fingerprint.sha256 for accepted in accepted_files], dtype=pl.String),
        }

        def with_lineage(frame: pl.DataFrame) -> pl.DataFrame:
            files = frame.get_column(FILE)
            return frame.with_columns(values.gather(files).alias(name) for name, values in lineage.items())

        good, quarantined = _quarantine_known_keys(con, feed, with_lineage(rows.good), with_lineage(rows.quarantined))
        _execute_with_incoming(
            con,
            good.drop(FILE),
            f"insert into raw.{feed.name} by name select *, $loaded_at as loaded_at from incoming",
            {"loaded_at": loaded_at},
        )
        if quarantined.height:
            _execute_with_incoming(
                con,
                quarantined.drop(FILE),
                "insert into main.quarantine select $feed, landing_date, source_file, line_number, "
                "raw_record::json, reason, file_hash, $loaded_at from incoming",
                {"feed": feed.name, "loaded_at": loaded_at},
            )
        loaded = _rows_per_file(good, len(accepted_files))
        refused = _rows_per_file(quarantined, len(accepted_files))
        files = pl.DataFrame(
            {
                **lineage,
                "feed": pl.Series([feed.name] * len(accepted_files), dtype=pl.String),
                "rows_in": pl.Series([accepted.text.height for accepted in accepted_files], dtype=pl.Int64),
                "rows_loaded": pl.Series(loaded, dtype=pl.Int64),
                "rows_quarantined": pl.Series(refused, dtype=pl.Int64),
                **_stamp_series([accepted.fingerprint for accepted in accepted_files]),
            }
        )
        _execute_with_incoming(
            con,
            files,
            "insert or replace into ingest.loaded_files (landing_date, feed, source_file, file_hash, rows_in, "
            "rows_loaded, rows_quarantined, loaded_at, file_size, file_mtime_ns) select landing_date, feed, "
            "source_file, file_hash, rows_in, rows_loaded, rows_quarantined, $loaded_at, file_size, file_mtime_ns "
            "from incoming",
            {"loaded_at": loaded_at},
        )
        index = 0
        for delivery in batch:
            count = len(delivery.accepted)
            delivery.result.rows_in = delivery.rows_in
            delivery.result.rows_loaded = sum(loaded[index : index + count])
            delivery.result.rows_quarantined = sum(refused[index : index + count])
            index += count

    for delivery in batch:
        day = delivery.result.day
        for landing_file, fingerprint, error in delivery.rejected:
            stamp = fingerprint.stamp
            con.execute(
                "insert or replace into ingest.rejected_files (landing_date, feed, source_file, file_hash, error, "
                "rejected_at, file_size, file_mtime_ns) values (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    day,
                    feed.name,
                    landing_file.relative_path,
                    fingerprint.sha256,
                    error,
                    loaded_at,
                    None if stamp is None else stamp.size,
                    None if stamp is None else stamp.mtime_ns,
                ],
            )
        if delivery.clear_rejections:
            con.execute(
                "delete from ingest.rejected_files where landing_date = ? and feed = ? and source_file not in "
                "(select unnest(?::varchar[]))",
                [day, feed.name, [landing_file.relative_path for landing_file, _, _ in delivery.rejected]],
            )
    # A day whose earlier rejection is cleared changed too: its checks must run again.
    changed = [
        delivery.result.day
        for delivery in batch
        if delivery.accepted or delivery.rejected or delivery.gone or delivery.clear_rejections
    ]
    if changed:
        con.execute(
            "insert or replace into ingest.feed_day_changes select unnest($days::date[]), $feed, $loaded_at",
            {"days": changed, "feed": feed.name, "loaded_at": loaded_at},
        )


def _stamp_series(fingerprints: list[Fingerprint]) -> dict[str, pl.Series]:
    stamps = [fingerprint.stamp for fingerprint in fingerprints]
    return {
        "file_size": pl.Series([None if stamp is None else stamp.size for stamp in stamps], dtype=pl.Int64),
        "file_mtime_ns": pl.Series([None if stamp is None else stamp.mtime_ns for stamp in stamps], dtype=pl.Int64),
    }


def _record_stamps(con: duckdb.DuckDBPyConnection, landing: Path, feed: Feed) -> None:
    """Give the feed's loaded files that still have the bytes they were loaded with the stamp
    they have now, where it is missing or another one: a warehouse from before stamps, a file
    loaded right after it was written, a landing copied without its modification times. The
    planner then need not read them again; without this, they would be hashed by every plan
    until their day is loaded again. Costs a stat per file of the feed's history, plus, once,
    the hashing of those files (free after the planner hashed them in this process)."""
    recorded = con.execute(
        "select landing_date, source_file, file_hash, file_size, file_mtime_ns from ingest.loaded_files where feed = ?",
        [feed.name],
    ).fetchall()
    updates: list[tuple[date, str, FileStamp]] = []
    for day, source_file, file_hash, size, mtime_ns in recorded:
        landing_file = LandingFile(feed, day, landing / source_file, source_file)
        try:
            if landing_file.stamp() == Fingerprint.recorded(file_hash, size, mtime_ns).stamp:
                continue
            fingerprint = landing_file.fingerprint()
        except OSError:
            continue  # archived, or not readable now: recorded as it was
        if fingerprint.sha256 == file_hash and fingerprint.stamp is not None:
            updates.append((day, source_file, fingerprint.stamp))
    if not updates:
        return
    stamps = pl.DataFrame(
        {
            "landing_date": pl.Series([day for day, _, _ in updates], dtype=pl.Date),
            "source_file": pl.Series([source_file for _, source_file, _ in updates], dtype=pl.String),
            "file_size": pl.Series([stamp.size for _, _, stamp in updates], dtype=pl.Int64),
            "file_mtime_ns": pl.Series([stamp.mtime_ns for _, _, stamp in updates], dtype=pl.Int64),
        }
    )
    _execute_with_incoming(
        con,
        stamps,
        "update ingest.loaded_files as loaded set file_size = incoming.file_size, "
        "file_mtime_ns = incoming.file_mtime_ns from incoming where loaded.feed = $feed "
        "and loaded.landing_date = incoming.landing_date and loaded.source_file = incoming.source_file",
        {"feed": feed.name},
    )


def _rows_per_file(frame: pl.DataFrame, files: int) -> list[int]:
    """Rows of each file (by FILE index) in `frame`."""
    counts = [0] * files
    for file, rows in frame.get_column(FILE).value_counts().iter_rows():
        counts[file] = rows
    return counts


def _execute_with_incoming(
    con: duckdb.DuckDBPyConnection, frame: pl.DataFrame, statement: str, parameters: dict
) -> None:
    """Run a statement that selects from `frame` under the name `incoming`."""
    con.register("incoming", frame.to_arrow())
    try:
        con.execute(statement, parameters)
    finally:
        con.unregister("incoming")


def _delete_file_rows(con: duckdb.DuckDBPyConnection, feed: Feed, files: list[tuple[date, str]]) -> None:
    # landing_date is implied by source_file; saying it lets DuckDB skip the row groups of
    # other days (zone maps) instead of scanning the whole history.
    days = [day for day, _ in files]
    source_files = [source_file for _, source_file in files]
    for table in (f"raw.{feed.name}", "main.quarantine", "ingest.loaded_files"):
        con.execute(
            f"delete from {table} where landing_date between $first and $last "
            "and source_file in (select unnest($files::varchar[]))",
            {"first": min(days), "last": max(days), "files": source_files},
        )


def _quarantine_known_keys(
    con: duckdb.DuckDBPyConnection,
    feed: Feed,
    good: pl.DataFrame,
    quarantined: pl.DataFrame,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Move rows whose key another file already loaded to quarantine: a file of another day
    in the warehouse, or an earlier file of this batch. The replaced files of every day of the
    batch are gone before any day is compared, so when re-sent days of one batch move a key
    between them, the earliest day keeps it, as in a load of those days into a fresh
    warehouse (loading them one run each could decide otherwise). Master data are snapshots,
    where the latest delivery wins.

    Both frames carry FILE and source_file and are in load order (by FILE, then line)."""
    if not feed.key or feed.master_data or good.is_empty():
        return good, quarantined
    row = [FILE, "line_number"]
    keys = good.select(*feed.key, *row, "source_file")
    con.register("incoming_keys", keys.to_arrow())
    try:
        join = " and ".join(f"loaded.{name} = incoming.{name}" for name in feed.key)
        # The rows of the files this batch replaces are deleted already, in this transaction:
        # one scan of the feed's history per batch, not per day.
        in_warehouse = con.execute(
            f"""
            select incoming.{FILE}, incoming.line_number,
                any_value(loaded.source_file) as other_file, min(loaded.line_number) as other_line
            from incoming_keys as incoming
            join raw.{feed.name} as loaded on {join}
            where loaded.source_file <> incoming.source_file
            group by incoming.{FILE}, incoming.line_number
            """
        ).pl()
    finally:
        con.unregister("incoming_keys")
    clashes = in_warehouse.with_columns(pl.col(FILE).cast(pl.UInt32))
    # Within the batch, a key's first row (among those the warehouse does not have yet) loads.
    candidates = keys.join(clashes.select(row), on=row, how="anti", maintain_order="left")
    is_first = candidates.select(pl.struct(feed.key).is_first_distinct()).to_series()
    if not is_first.all():
        firsts = candidates.filter(is_first).select(
            *feed.key, pl.col("source_file").alias("other_file"), pl.col("line_number").alias("other_line")
        )
        repeats = candidates.filter(~is_first).join(firsts, on=list(feed.key), how="left")
        clashes = pl.concat([clashes, repeats.select(clashes.columns)], how="vertical_relaxed")
    if clashes.is_empty():
        return good, quarantined
    key_text = pl.format(", ".join(f"{name}='{{}}'" for name in feed.key), *[pl.col(n) for n in feed.key])
    moved = (
        good.join(clashes, on=row, how="inner")
        .rechunk()  # pl.format over columns of unequal chunking panics in polars 1.3x
        .select(
            pl.col("line_number"),
            pl.struct([pl.col(name).cast(pl.String) for name in feed.column_names])
            .struct.json_encode()
            .alias("raw_record"),
            pl.format("duplicate key {} (already loaded from {} line {})", key_text, "other_file", "other_line").alias(
                "reason"
            ),
            *[pl.col(name) for name in quarantined.columns if name not in ("line_number", "raw_record", "reason")],
        )
    )
    remaining = good.join(clashes.select(row), on=row, how="anti", maintain_order="left")
    quarantined = pl.concat([quarantined, moved.select(quarantined.columns)]).sort(row)
    return remaining, quarantined
