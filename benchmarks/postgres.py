"""The same traces in PostgreSQL: a throwaway server on a Unix socket only, in a temporary
folder, loaded with the same edges by COPY, btree indexes on (parent, child) and (child,
parent); stopped and deleted at the end, also on error. Queries go through one `psql` session
per batch, timed by psql's `\\timing` (send to result received, printing excluded)."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from benchmarks.competitors import COMPETITOR_SQL, sql_literal

SERVER_SETTINGS = {
    "listen_addresses": "",
    "shared_buffers": "1GB",
    "work_mem": "64MB",
    "maintenance_work_mem": "1GB",
    "max_wal_size": "8GB",
    # A throwaway copy: durability would only slow the load down.
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
}
SUPERUSER = "bench"
TIMING_LINE = re.compile(r"^Time: ([0-9.]+) ms")
TABLES = {
    "edges": "create table edges (input_lot_code text not null, output_lot_code text not null)",
    "shipment_lines": "create table shipment_lines (shipment_id text not null, line_no bigint, lot_code text not null)",
}
INDEXES = (
    "create index edges_parent_child on edges (input_lot_code, output_lot_code)",
    "create index edges_child_parent on edges (output_lot_code, input_lot_code)",
    "create index shipment_lines_lot on shipment_lines (lot_code)",
)


class PostgresUnavailable(RuntimeError):
    pass


def find_bin_dir() -> Path:
    """The newest installed PostgreSQL's bin folder; installs Debian's package if there is none."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"), key=lambda p: int(p.parent.parent.name))
    if found:
        return found[-1].parent
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise PostgresUnavailable("PostgreSQL is not installed and cannot be installed here (apt-get as root)")
    install = subprocess.run(["apt-get", "install", "-y", "-qq", "postgresql"], capture_output=True, text=True)
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"))
    if install.returncode != 0 or not found:
        raise PostgresUnavailable(f"apt-get install postgresql failed: {install.stderr.strip()[-300:]}")
    return found[-1].parent


def _as_server_user() -> list[str]:
    # The server refuses to run as root.
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


class ThrowawayServer:
    def __init__(self, bin_dir: Path, folder: Path):
        self.bin_dir = bin_dir
        self.folder = folder
        self.data = folder / "data"

    def psql(self, script: str | None = None, *, stdin=None, command: str | None = None) -> str:
        args = ["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", str(self.folder), "-U", SUPERUSER]
        args += ["-d", "postgres"] + (["-c", command] if command else [])
        completed = subprocess.run(args, input=script, stdin=stdin, capture_output=True, text=True, check=False)
        if completed.returncode != 0:
            raise RuntimeError(f"psql failed: {completed.stderr.strip()[-500:]}")
        return completed.stdout


@contextlib.contextmanager
def throwaway_server(bin_dir: Path) -> Iterator[ThrowawayServer]:
    folder = Path(tempfile.mkdtemp(prefix="bench-pg-"))
    server = ThrowawayServer(bin_dir, folder)
    process = None
    try:
        if os.geteuid() == 0:
            shutil.chown(folder, "postgres", "postgres")
        subprocess.run(
            [*_as_server_user(), str(bin_dir / "initdb"), "-D", str(server.data), "-A", "trust", "-U", SUPERUSER]
            + ["-E", "UTF8", "--locale=C", "--no-sync"],
            check=True,
            capture_output=True,
        )
        settings = {**SERVER_SETTINGS, "unix_socket_directories": str(folder)}
        with (folder / "server.log").open("w") as log:
            process = subprocess.Popen(
                [*_as_server_user(), str(bin_dir / "postgres"), "-D", str(server.data)]
                + [arg for name, value in settings.items() for arg in ("-c", f"{name}={value}")],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        _wait_ready(server, process)
        yield server
    finally:
        if process is not None:
            subprocess.run(
                [*_as_server_user(), str(bin_dir / "pg_ctl"), "stop", "-D", str(server.data), "-m", "fast", "-w"],
                capture_output=True,
                check=False,
            )
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        shutil.rmtree(folder, ignore_errors=True)


def _wait_ready(server: ThrowawayServer, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log = (server.folder / "server.log").read_text()[-500:]
            raise RuntimeError(f"postgres exited with status {process.returncode}: {log}")
        with contextlib.suppress(RuntimeError):
            server.psql(command="select 1")
            return
        time.sleep(0.2)
    raise RuntimeError(f"postgres did not accept connections within {timeout:.0f}s")


def _load(server: ThrowawayServer, csv_dir: Path) -> dict:
    started = time.perf_counter()
    for table, ddl in TABLES.items():
        server.psql(command=ddl)
        with (csv_dir / f"{table}.csv").open() as rows:
            server.psql(stdin=rows, command=f"copy {table} from stdin with (format csv, header true)")
    loaded = time.perf_counter()
    for statement in INDEXES:
        server.psql(command=statement)
    server.psql(command="vacuum analyze")
    return {"copy_seconds": loaded - started, "index_seconds": time.perf_counter() - loaded}


def _timed_batch(server: ThrowawayServer, statements: list[str]) -> list[float]:
    """Milliseconds of each statement, run in order in one psql session, results discarded."""
    script = "\\timing on\n\\o /dev/null\n" + "".join(f"{statement};\n" for statement in statements)
    timings = [float(match[1]) for line in server.psql(script).splitlines() if (match := TIMING_LINE.match(line))]
    if len(timings) != len(statements):
        raise RuntimeError(f"psql reported {len(timings)} timings for {len(statements)} statements")
    return timings


def measure_postgres(params: dict) -> dict:
    """Child phase: the competitor queries in PostgreSQL, warm (one warm-up pass over all lots of
    a set, then `repeats` passes; the median per lot)."""
    try:
        bin_dir = find_bin_dir()
    except PostgresUnavailable as error:
        return {"skipped": str(error)}
    version = subprocess.run([str(bin_dir / "postgres"), "--version"], capture_output=True, text=True).stdout.strip()
    repeats = params["repeats"]
    results: dict[str, dict] = {}
    with throwaway_server(bin_dir) as server:
        load = _load(server, Path(params["csv_dir"]))
        print(f"  postgres loaded in {load['copy_seconds']:.1f}s, indexed in {load['index_seconds']:.1f}s")
        for macro, sql in COMPETITOR_SQL.items():
            for set_name, lots in params["lots"].items():
                queries = [sql.replace(":lot", sql_literal(lot)) for lot in lots]
                counts = server.psql("".join(f"select count(*) from ({query}) as q;\n" for query in queries)).split()
                timings = _timed_batch(server, queries * (1 + repeats))[len(lots) :]
                warm_ms = {lot: statistics.median(timings[index :: len(lots)]) for index, lot in enumerate(lots)}
                results.setdefault(macro, {})[set_name] = {
                    "warm_ms": warm_ms,
                    "rows": {lot: int(count) for lot, count in zip(lots, counts, strict=True)},
                }
            print(f"  postgres {macro}: done")
    return {"version": version, **load, "settings": SERVER_SETTINGS, "macros": results}
