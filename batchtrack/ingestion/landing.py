"""The landing zone on disk: day folders, the feed files in them, and their hashes."""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from batchtrack.feeds import FEEDS_BY_NAME, Feed

DAY_FOLDER = re.compile(r"^\d{4}-\d{2}-\d{2}$")
SUFFIXES = (".csv", ".parquet")


@dataclass(frozen=True)
class LandingFile:
    feed: Feed
    day: date
    path: Path
    relative_path: str  # as stored in source_file: "2026-11-25/production.csv"

    @property
    def format(self) -> str:
        return self.path.suffix.lstrip(".")

    def sha256(self) -> str:
        with self.path.open("rb") as handle:
            version = _version(os.fstat(handle.fileno()))
            known = _HASHES.get((str(self.path), version))
            if known:
                return known
            digest = hashlib.sha256()
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
            return _remember(str(self.path), version, _version(os.fstat(handle.fileno())), digest.hexdigest())

    def read(self) -> tuple[bytes, str]:
        """The file's bytes and their sha256, from one read: what is loaded is what is hashed."""
        with self.path.open("rb") as handle:
            version = _version(os.fstat(handle.fileno()))
            content = handle.read()
            after = _version(os.fstat(handle.fileno()))
        known = _HASHES.get((str(self.path), version)) if after == version else None
        return content, known or _remember(str(self.path), version, after, hashlib.sha256(content).hexdigest())


# sha256 of the files hashed in this process, by path and version: the planner hashes every
# landing file to find the changed days, and the loader then needs the same hashes; a file
# rewritten since has another version (size, modification and change times, inode).
_HASHES: dict[tuple[str, tuple[int, ...]], str] = {}
_HASHES_KEPT = 100_000


def _version(stat: os.stat_result) -> tuple[int, ...]:
    return (stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino, stat.st_dev)


def _remember(path: str, before: tuple[int, ...], after: tuple[int, ...], sha256: str) -> str:
    if before == after:  # not written to while it was read
        if len(_HASHES) >= _HASHES_KEPT:
            _HASHES.clear()
        _HASHES[(path, before)] = sha256
    return sha256


def day_folders(landing: Path) -> dict[date, Path]:
    """Day folders under the landing root, by date. Other folders (e.g. `_resend`) are ignored."""
    days: dict[date, Path] = {}
    if not landing.is_dir():
        return days
    for child in sorted(landing.iterdir()):
        if child.is_dir() and DAY_FOLDER.match(child.name):
            try:
                days[date.fromisoformat(child.name)] = child
            except ValueError:
                continue  # 2026-02-30: not a day
    return days


def landing_files(landing: Path, day: date, feed: Feed | None = None) -> list[LandingFile]:
    """The contract files delivered for `day` (optionally of one feed), CSV before Parquet."""
    folder = landing / day.isoformat()
    found: list[LandingFile] = []
    if not folder.is_dir():
        return found
    feeds = [feed] if feed else list(FEEDS_BY_NAME.values())
    for one_feed in feeds:
        for suffix in SUFFIXES:
            path = folder / f"{one_feed.name}{suffix}"
            if path.is_file():
                found.append(LandingFile(one_feed, day, path, f"{day.isoformat()}/{path.name}"))
    return found
