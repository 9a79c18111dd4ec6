"""Which landing days need loading: new folders, and folders whose files changed."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb

from batchtrack.ingestion.landing import Fingerprint, day_folders, landing_files, unchanged_since


@dataclass(frozen=True)
class DayPlan:
    day: date
    status: str  # new | changed | unchanged


@dataclass
class RecordedDay:
    """What the load state holds of a landing day."""

    files: dict[str, Fingerprint] = field(default_factory=dict)  # loaded, by source_file
    has_rejection: bool = False  # retried by every run until a good version is loaded


def load_state(published: Path) -> dict[date, RecordedDay] | None:
    """Load state recorded in the published warehouse; None when it cannot be read now
    (no file yet gives {}; a reader holding it open read-write gives None)."""
    if not published.exists():
        return {}
    from batchtrack.warehouse import attach_readonly

    query = (
        "select landing_date, source_file, file_hash, {stamps}, false from ingest.loaded_files "
        "union all select landing_date, source_file, null, null, null, true from ingest.rejected_files"
    )
    try:
        con = attach_readonly(published)
    except duckdb.Error:
        return None
    try:
        try:
            rows = con.execute(query.format(stamps="file_size, file_mtime_ns")).fetchall()
        except duckdb.BinderException:
            # A warehouse from before the stamps were recorded: its files are hashed.
            rows = con.execute(query.format(stamps="null, null")).fetchall()
    except duckdb.Error:
        return {}
    finally:
        con.close()
    state: dict[date, RecordedDay] = {}
    for day, source_file, file_hash, size, mtime_ns, is_rejection in rows:
        recorded = state.setdefault(day, RecordedDay())
        if is_rejection:
            recorded.has_rejection = True
        else:
            recorded.files[source_file] = Fingerprint.recorded(file_hash, size, mtime_ns)
    return state


def plan_days(landing: Path, published: Path) -> list[DayPlan]:
    """Every landing day with whether it is new, changed or unchanged since it was loaded.

    A day is unchanged when it has the files that were loaded from it, with the same bytes.
    A file whose size and modification time are the ones recorded when it was loaded is taken
    to be unchanged without reading it (the heuristic of git and rsync); a file whose stamp
    differs, or was not recorded (warehouses from before stamps, a file loaded right after it
    was written), is hashed and compared with the recorded hash, so a file touched but not
    changed stays unchanged. New days are not read at all. So a plan costs a stat of each file
    of the history plus the hashing of the files whose stamp changed, not the reading of the
    history. The heuristic's hole: a file rewritten with other bytes of the same size whose
    modification time is then set back to the recorded one (`touch -d`, a copy or archive
    that keeps the times of a source with that time) passes for unchanged; `batchtrack
    ingest --date DAY` reloads a day whatever its files look like.

    A day with a rejected file is changed until a good version of it is loaded, so every run
    reports the rejection again. Where the load state cannot be read, every day counts as
    changed: the ingestion step compares the files itself and skips what is unchanged, so
    this only costs time.
    """
    state = load_state(published)
    plans: list[DayPlan] = []
    for day in day_folders(landing):
        if state is None:
            plans.append(DayPlan(day, "changed"))
            continue
        recorded = state.get(day)
        if recorded is None:
            status = "new"
        elif recorded.has_rejection or not unchanged_since(landing_files(landing, day), recorded.files):
            status = "changed"
        else:
            status = "unchanged"
        plans.append(DayPlan(day, status))
    return plans


def folder_fingerprint(folder: Path) -> str:
    """Cheap change detector for a day folder (names, sizes, modification times)."""
    digest = hashlib.sha256()
    for path in sorted(folder.iterdir()):
        if path.is_file():
            stat = path.stat()
            digest.update(f"{path.name}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()
