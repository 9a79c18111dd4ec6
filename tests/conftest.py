"""Shared fixtures: the dbt manifest is prepared once per test session."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent

os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
os.environ.pop("DAGSTER_HOME", None)  # tests use throwaway Dagster instances
# Reports and logs of test runs go to a throwaway folder, not the project's output/.
os.environ["BATCHTRACK_OUTPUT"] = tempfile.mkdtemp(prefix="batchtrack-test-output-")


@pytest.fixture(scope="session")
def dbt_manifest() -> Path:
    """dbt's manifest, which dagster-dbt reads when the code location is imported."""
    project = REPO / "dbt_project"
    subprocess.run(
        [str(BIN / "dbt"), "parse", "--quiet", "--project-dir", str(project), "--profiles-dir", str(project)],
        check=True,
        cwd=project,
    )
    return project / "target" / "manifest.json"


def _run_cli(*args: str, env: dict | None = None, timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / "batchtrack"), *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=timeout,
        cwd=REPO,
    )


@pytest.fixture(scope="session")
def cli(dbt_manifest):
    """Runs the installed `batchtrack` console script as a user does."""
    return _run_cli
