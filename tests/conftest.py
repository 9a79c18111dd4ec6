"""Shared fixtures: the dbt manifest is prepared once per test session, before any worker starts."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from pipelines.dbt_manifest import MANIFEST, ensure_manifest

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent

os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
os.environ.pop("DAGSTER_HOME", None)  # tests use throwaway Dagster instances
# Reports and logs of test runs go to a throwaway folder, not the project's output/.
TEST_OUTPUT = tempfile.mkdtemp(prefix="batchtrack-test-output-")
os.environ["BATCHTRACK_OUTPUT"] = TEST_OUTPUT


def pytest_configure(config: pytest.Config) -> None:
    """Parse the dbt project once, before any test runs: with `-n 2` here in the controlling
    process, before the workers start, so that no worker reads dbt's manifest or partial-parse
    state while another writes it."""
    if not hasattr(config, "workerinput"):
        ensure_manifest()  # as a run does: `dbt parse` when the project's files changed since the last


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(TEST_OUTPUT, ignore_errors=True)


@pytest.fixture(scope="session")
def dbt_manifest() -> Path:
    """dbt's manifest, which dagster-dbt reads when the code location is imported."""
    assert MANIFEST.exists(), "the session starts with `dbt parse` (pytest_configure)"
    return MANIFEST


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
