"""A frozen copy of the project's source that every phase of one benchmark run executes.

Other people edit the working tree while a run goes on (an hour on large data); a dbt model
added half-way makes dagster-dbt's manifest, loaded when the run starts, disagree with what
`dbt build` finds later. Child processes start in this copy, whose folder comes first on
sys.path (before the editable install), so one run measures one version of the code, and the
cache keys are that version's hashes.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

from batchtrack.settings import PROJECT_ROOT

SOURCE_FOLDERS = ("batchtrack", "pipelines", "dbt_project", "quality_checks", "dashboards", "benchmarks")
# What the warehouse is built from: a change to any of these rebuilds the cached warehouse.
PIPELINE_FOLDERS = ("batchtrack", "pipelines", "dbt_project", "quality_checks", "dashboards")
SOURCE_SUFFIXES = (".py", ".sql", ".yml", ".yaml")
NOT_SOURCE = ("target", "logs", "dbt_packages", "__pycache__", "cache")


def snapshot_source(target: Path) -> Path:
    shutil.rmtree(target, ignore_errors=True)
    for folder in SOURCE_FOLDERS:
        shutil.copytree(PROJECT_ROOT / folder, target / folder, ignore=shutil.ignore_patterns(*NOT_SOURCE))
    shutil.copy2(PROJECT_ROOT / "constraints.txt", target / "constraints.txt")
    return target


def _digest(root: Path, paths: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in sorted(paths):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def generator_hash(root: Path) -> str:
    return _digest(root, list((root / "batchtrack" / "generator").glob("*.py")))


def pipeline_hash(root: Path) -> str:
    """A hash of the source the pipeline runs (committed or not)."""
    paths = [
        path
        for folder in PIPELINE_FOLDERS
        for path in (root / folder).rglob("*")
        if path.suffix in SOURCE_SUFFIXES
        and path.is_file()
        and not set(NOT_SOURCE).intersection(path.relative_to(root).parts)
    ]
    return _digest(root, [*paths, root / "constraints.txt"])
