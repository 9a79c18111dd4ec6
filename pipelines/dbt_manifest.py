"""Keep dbt's manifest in step with the dbt project before the code location loads it."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

from batchtrack.settings import PROJECT_ROOT

DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
MANIFEST = DBT_PROJECT_DIR / "target" / "manifest.json"
# The fingerprint of the project files the manifest was parsed from, beside it.
SOURCES_STAMP = MANIFEST.with_name("manifest.sources.sha256")


def project_fingerprint(project: Path = DBT_PROJECT_DIR) -> str:
    """A digest of dbt's version and of the names and contents of the project's files: it
    changes when one is edited, added, removed or renamed, whatever their modification times say
    (a checkout, `cp -p`), and when dbt is upgraded."""
    digest = hashlib.sha256(f"dbt-core {version('dbt-core')}\0".encode())
    files = [project / name for name in ("dbt_project.yml", "profiles.yml", "packages.yml", "dependencies.yml")]
    for folder in ("models", "macros", "tests", "seeds", "snapshots", "analyses"):
        if (project / folder).is_dir():
            files.extend(path for path in (project / folder).rglob("*") if path.is_file())
    for path in sorted(path for path in files if path.exists()):
        digest.update(str(path.relative_to(project)).encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def _is_current(fingerprint: str) -> bool:
    return MANIFEST.exists() and SOURCES_STAMP.exists() and SOURCES_STAMP.read_text() == fingerprint


def ensure_manifest() -> Path:
    """Run `dbt parse` when the manifest is missing or was parsed from other project files (or
    another dbt). One process parses at a time; the others wait for it and use its manifest."""
    fingerprint = project_fingerprint()
    if _is_current(fingerprint):
        return MANIFEST
    MANIFEST.parent.mkdir(parents=True, exist_ok=True)
    with open(MANIFEST.with_name("manifest.parse.lock"), "w") as lock, contextlib.ExitStack() as unlock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        unlock.callback(fcntl.flock, lock, fcntl.LOCK_UN)
        if _is_current(fingerprint):
            return MANIFEST
        subprocess.run(
            [str(Path(sys.executable).parent / "dbt"), "parse", "--quiet", "--project-dir", ".", "--profiles-dir", "."],
            cwd=DBT_PROJECT_DIR,
            check=True,
            env={**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"},
        )
        SOURCES_STAMP.write_text(fingerprint)
    return MANIFEST
