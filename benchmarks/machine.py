"""The machine and software a run measured, for the header of the report."""

from __future__ import annotations

import os
import platform
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from batchtrack.settings import PROJECT_ROOT


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _ram_gb() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) / 1024 / 1024
    return 0.0


def _command_output(args: list[str], cwd: Path | None = None) -> str | None:
    try:
        completed = subprocess.run(args, capture_output=True, text=True, cwd=cwd, check=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    return completed.stdout.strip()


def _postgres_version() -> str | None:
    servers = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"), key=lambda p: int(p.parent.parent.name))
    return _command_output([str(servers[-1]), "--version"]) if servers else None


def machine_info() -> dict:
    head = _command_output(["git", "rev-parse", "--short", "HEAD"], cwd=PROJECT_ROOT)
    dirty = _command_output(["git", "status", "--porcelain", "--untracked-files=no"], cwd=PROJECT_ROOT)
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "ram_gb": round(_ram_gb(), 1),
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "postgres": _postgres_version(),
        "git": f"{head}{' + uncommitted changes' if dirty else ''}" if head else None,
    }
