"""The landing zone on disk: day folders, the feed files in them, and their hashes."""

from __future__ import annotations

import hashlib
import os
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from batchtrack.feeds import FEEDS_BY_NAME, Feed

DAY_FOLDER = re.compile(r"^\d{4}-\d{2}-\d{2}$")
SUFFIXES = (".csv", ".parquet")


@dataclass(frozen=True)
class FileStamp:
    """A file's size and modification time: while both stay as they were, its bytes are taken
    to be unchanged too and it is not read again (the heuristic of git and rsync)."""

    size: int
    mtime_ns: int


@dataclass(frozen=True)
class Fingerprint:
    """What the load state records of a file: the sha256 of its bytes and the stamp it had
    when they were read (None: recorded before stamps were, or written to too recently to
    trust, see _RACY_NS)."""

    sha256: str
    stamp: FileStamp | None

    @staticmethod
    def recorded(sha256: str, size: int | None, mtime_ns: int | None) -> Fingerprint:
        """From the load state's columns (file_hash, file_size, file_mtime_ns)."""
        return Fingerprint(sha256, None if size is None or mtime_ns is None else FileStamp(size, mtime_ns))


@dataclass(frozen=True)
class LandingFile:
    feed: Feed
    day: date
    path: Path
    relative_path: str  # as stored in source_file: "2026-11-25/production.csv"

    @property
    def format(self) -> str:
        return self.path.suffix.lstrip(".")

    def stamp(self) -> FileStamp:
        stat = self.path.stat()
        return FileStamp(stat.st_size, stat.st_mtime_ns)

    def sha256(self) -> str:
        return self.fingerprint().sha256

    def fingerprint(self) -> Fingerprint:
        read_at = time.time_ns()
        with self.path.open("rb") as handle:
            version = _version(os.fstat(handle.fileno()))
            known = _HASHES.get((str(self.path), version))
            if known:
                sha256, read_at = known
                return Fingerprint(sha256, _trusted_stamp(version, version, read_at))
            digest = hashlib.sha256()
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
            after = _version(os.fstat(handle.fileno()))
        return _remember(str(self.path), version, after, digest.hexdigest(), read_at)

    def read(self) -> tuple[bytes, Fingerprint]:
        """The file's bytes and their fingerprint, from one read: what is loaded is what is hashed."""
        read_at = time.time_ns()
        with self.path.open("rb") as handle:
            version = _version(os.fstat(handle.fileno()))
            content = handle.read()
            after = _version(os.fstat(handle.fileno()))
        known = _HASHES.get((str(self.path), version)) if after == version else None
        if known:
            return content, Fingerprint(known[0], _trusted_stamp(version, after, read_at))
        return content, _remember(str(self.path), version, after, hashlib.sha256(content).hexdigest(), read_at)


def unchanged_since(files: list[LandingFile], recorded: Mapping[str, Fingerprint]) -> bool:
    """Whether `files` are the ones recorded, with the same bytes. A file whose stamp is the
    recorded one is not read; the others are hashed (a file touched but not changed is
    unchanged). So a file rewritten with other bytes of the same size and given back its
    modification time passes for unchanged: only a forced load sees it."""
    if {landing_file.relative_path for landing_file in files} != recorded.keys():
        return False
    for landing_file in files:
        before = recorded[landing_file.relative_path]
        if before.stamp is not None and landing_file.stamp() == before.stamp:
            continue
        if landing_file.sha256() != before.sha256:
            return False
    return True


# sha256 of the files hashed in this process, by path and version, with when they were read:
# the planner hashes the landing files whose stamps changed, and the loader then needs the same
# hashes; a file rewritten since has another version (size, modification and change times, inode).
_HASHES: dict[tuple[str, tuple[int, ...]], tuple[str, int]] = {}
_HASHES_KEPT = 100_000

# A file modified this shortly before it was read may be written again after the read within
# the same tick of the file system's clock (up to two seconds on FAT, one on ext3 or HFS+),
# leaving its size and modification time as they were: its stamp is not recorded, so it is
# hashed the next time (git's "racily clean" entries).
_RACY_NS = 2_000_000_000


def _version(stat: os.stat_result) -> tuple[int, ...]:
    return (stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino, stat.st_dev)


def _trusted_stamp(before: tuple[int, ...], after: tuple[int, ...], read_at: int) -> FileStamp | None:
    size, mtime_ns = before[0], before[1]
    if before != after or mtime_ns > read_at - _RACY_NS:
        return None
    return FileStamp(size, mtime_ns)


def _remember(path: str, before: tuple[int, ...], after: tuple[int, ...], sha256: str, read_at: int) -> Fingerprint:
    if before == after:  # not written to while it was read
        if len(_HASHES) >= _HASHES_KEPT:
            _HASHES.clear()
        _HASHES[(path, before)] = (sha256, read_at)
    return Fingerprint(sha256, _trusted_stamp(before, after, read_at))


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
