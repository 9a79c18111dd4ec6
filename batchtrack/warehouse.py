"""The published warehouse file and the working copy a pipeline run writes.

Readers (the `duckdb` shell, BI tools, `batchtrack recall`) open the published file.
A run never writes it in place: the run copies it into a working file beside it, loads
and builds there, and at the end renames the finished working file over the published
one. A rename is atomic, so a reader sees either yesterday's complete warehouse or
today's, never a half-loaded day, and a reader holding the file open (even read-write,
which locks it) cannot make the run fail, unless it has written into the file and left
changes in a WAL that cannot be checkpointed (then the run stops and says so). A run
that crashes leaves the published file as it was; the next run carries on from the
working copy's committed loads as long as the published file is still the one it was
copied from.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb

from batchtrack.settings import duckdb_config
from batchtrack.warehouse_schema import ensure_ingest_schema


class WarehouseBusy(RuntimeError):
    """Another live process is running the pipeline on this warehouse."""


@dataclass(frozen=True)
class Warehouse:
    published: Path

    @property
    def work_dir(self) -> Path:
        return self.published.parent / f".{self.published.name}.work"

    @property
    def working_file(self) -> Path:
        # A fixed name, so the run's catalog is always "warehouse": DuckDB names a file's
        # catalog after it, and a published file called raw.duckdb or main.duckdb would make
        # names like raw.production ambiguous.
        return self.work_dir / "warehouse.duckdb"

    @property
    def dbt_parse_state(self) -> Path:
        """dbt's partial-parse state of this warehouse's last build, kept between runs (the
        working folder goes with each run). dbt re-parses in full whenever the profile differs
        from the saved state's, and the profile names the working file: the state of another
        warehouse, or of the project's own `dbt parse`, never matches."""
        return self.published.parent / f".{self.published.name}.dbt_partial_parse.msgpack"

    @property
    def _owner_file(self) -> Path:
        return self.work_dir / "owner.json"

    def _owner(self) -> dict | None:
        try:
            return json.loads(self._owner_file.read_text())
        except (FileNotFoundError, ValueError):
            return None

    @property
    def _published_wal(self) -> Path:
        return self.published.with_name(self.published.name + ".wal")

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """Serialise the check-and-claim of the working copy between processes."""
        self.published.parent.mkdir(parents=True, exist_ok=True)
        with open(self.published.with_name(f".{self.published.name}.lock"), "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def begin(self, run_id: str) -> Path:
        """Make sure the working copy belongs to `run_id`, starting from the published file.

        Called by every writing step of a run; only the first one of the run copies.
        """
        with self._locked():
            return self._begin(run_id)

    def _checkpoint_published(self) -> None:
        """Someone wrote into the published file and left a WAL beside it: fold it in before
        copying, because a copy without it would lose their changes."""
        if not self._published_wal.exists():
            return
        try:
            with contextlib.closing(duckdb.connect(str(self.published))) as con:
                con.execute("checkpoint")
        except duckdb.Error as error:
            raise WarehouseBusy(
                f"{self.published} has changes in {self._published_wal.name} from a session that still holds it "
                f"open read-write; close that session (readers should open it with -readonly): {error}"
            ) from error

    def _begin(self, run_id: str) -> Path:
        owner = self._owner()
        if owner and owner.get("run_id") == run_id and self.working_file.exists():
            return self.working_file
        if owner and owner.get("run_id") != run_id and _process_alive(owner.get("pid")):
            raise WarehouseBusy(
                f"{self.published} is being written by run {owner.get('run_id')} "
                f"(process {owner.get('pid')}); try again when it has finished"
            )
        source = _identity(self.published)
        if not self._is_copy_of(owner, source):
            # Start from the published file. A working copy of an earlier run that did not
            # publish, or one prepared for this run (prepare), is kept only while the published
            # file is still the one it came from: its loads are committed transactions, so the
            # next run carries them on.
            self._copy_published()
        self._owner_file.write_text(json.dumps({"run_id": run_id, "pid": os.getpid(), "source": source}))
        with contextlib.closing(duckdb.connect(str(self.working_file))) as con:
            ensure_ingest_schema(con)
        return self.working_file

    def _is_copy_of(self, owner: dict | None, source: list[int] | None) -> bool:
        """Whether the working file is a copy of the published file as it is now (`source`)."""
        return bool(owner) and owner.get("source") == source and self.working_file.exists()

    def _copy_published(self) -> None:
        shutil.rmtree(self.work_dir, ignore_errors=True)
        self.work_dir.mkdir(parents=True)
        if self.published.exists():
            self._checkpoint_published()
            partial = self.work_dir / (self.published.name + ".copying")
            shutil.copyfile(self.published, partial)
            # Written out here, while the run starts (prepare runs in a thread beside it): else
            # the kernel writes the copy's gigabytes out during the run's steps, on the cores
            # and disk they use (a daily run on the large history took 1.5 s longer). And a
            # working copy that the run starts writing is then on disk whole.
            with open(partial, "rb+") as copied:
                os.fsync(copied.fileno())
            os.replace(partial, self.working_file)

    def prepare(self) -> None:
        """Copy the published file into the working file ahead of a run, which begin then
        adopts: a caller can start it in a thread so that the copy (seconds for a large
        warehouse) overlaps with the start of the run. Does nothing where another live
        process owns the working copy or it already is a copy of the published file."""
        with self._locked():
            owner = self._owner()
            if owner and _process_alive(owner.get("pid")):
                return
            source = _identity(self.published)
            if source is None or self._published_wal.exists():
                return  # nothing to copy, or a WAL that begin folds in (with a clear error if it cannot)
            if self._is_copy_of(owner, source):
                return
            self._copy_published()
            self._owner_file.write_text(json.dumps({"run_id": None, "pid": os.getpid(), "source": source}))

    @contextlib.contextmanager
    def connect(self, run_id: str) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read-write connection to this run's working copy; closed on exit."""
        con = duckdb.connect(str(self.begin(run_id)), config=duckdb_config())
        try:
            yield con
        finally:
            con.close()

    def publish(self, run_id: str) -> Path:
        """Atomically replace the published file with this run's finished working copy."""
        owner = self._owner()
        if not owner or owner.get("run_id") != run_id or not self.working_file.exists():
            raise RuntimeError(f"run {run_id} has no working copy of {self.published} to publish")
        with contextlib.closing(duckdb.connect(str(self.working_file))) as con:
            con.execute("checkpoint")
        self.published.parent.mkdir(parents=True, exist_ok=True)
        if self._published_wal.exists():
            # A WAL of the file being replaced would be replayed onto the new one: set it aside.
            orphan = self._published_wal.with_name(f"{self._published_wal.name}.{run_id}.orphaned")
            os.replace(self._published_wal, orphan)
        os.replace(self.working_file, self.published)
        _fsync_dir(self.published.parent)
        shutil.rmtree(self.work_dir, ignore_errors=True)
        return self.published

    def open_readonly(self) -> duckdb.DuckDBPyConnection:
        """The published warehouse, read-only, as catalog "warehouse" whatever the file is called."""
        if not self.published.exists():
            raise FileNotFoundError(
                f"no warehouse at {self.published}: run `batchtrack ingest` first (or pass --warehouse)"
            )
        return attach_readonly(self.published)


def attach_readonly(path: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(config=duckdb_config())
    try:
        quoted = str(path).replace("'", "''")
        con.execute(f"attach '{quoted}' as warehouse (read_only)")
        con.execute("use warehouse")
    except BaseException:
        con.close()
        raise
    return con


def _identity(path: Path) -> list[int] | None:
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return [stat.st_ino, stat.st_size, stat.st_mtime_ns]


def _process_alive(pid: object) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    if pid == os.getpid():
        return False  # a previous run in this same process that did not publish
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
