"""Which landing days need loading: new folders, and folders whose files changed."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb

from batchtrack.ingestion.landing import day_folders, landing_files


@dataclass(frozen=True)
class DayPlan:
    day: date
    status: str  # new | changed | unchanged


def loaded_hashes(published: Path) -> dict[date, dict[str, str]] | None:
    """Load state recorded in the published warehouse; None when it cannot be read now
    (no file yet gives {}; a reader holding it open read-write gives None)."""
    if not published.exists():
        return {}
    from batchtrack.warehouse import attach_readonly

    try:
        con = attach_readonly(published)
    except duckdb.Error:
        return None
    try:
        rows = con.execute(
            "select landing_date, source_file, file_hash from ingest.loaded_files "
            "union all select landing_date, source_file, 'rejected:' || file_hash from ingest.rejected_files"
        ).fetchall()
    except duckdb.Error:
        return {}
    finally:
        con.close()
    state: dict[date, dict[str, str]] = {}
    for day, source_file, file_hash in rows:
        state.setdefault(day, {})[source_file] = file_hash
    return state


def plan_days(landing: Path, published: Path) -> list[DayPlan]:
    """Every landing day with whether it is new, changed or unchanged since it was loaded.

    Where the load state cannot be read, every day counts as changed: the ingestion step
    compares hashes itself and skips what is unchanged, so this only costs time.
    """
    state = loaded_hashes(published)
    plans: list[DayPlan] = []
    for day in day_folders(landing):
        if state is None:
            plans.append(DayPlan(day, "changed"))
            continue
        current = {f.relative_path: f.sha256() for f in landing_files(landing, day)}
        before = state.get(day)
        if before is None:
            plans.append(DayPlan(day, "new"))
        else:
            plans.append(DayPlan(day, "unchanged" if current == before else "changed"))
    return plans


def folder_fingerprint(folder: Path) -> str:
    """Cheap change detector for a day folder (names, sizes, modification times)."""
    digest = hashlib.sha256()
    for path in sorted(folder.iterdir()):
        if path.is_file():
            stat = path.stat()
            digest.update(f"{path.name}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()
