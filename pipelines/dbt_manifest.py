"""Keep dbt's manifest in step with the dbt project before the code location loads it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from batchtrack.settings import PROJECT_ROOT

DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
MANIFEST = DBT_PROJECT_DIR / "target" / "manifest.json"


def _newest_source(project: Path) -> float:
    newest = 0.0
    for folder in ("models", "macros", "tests", "seeds", "snapshots"):
        for path in (project / folder).rglob("*") if (project / folder).is_dir() else []:
            if path.suffix in (".sql", ".yml", ".yaml", ".csv"):
                newest = max(newest, path.stat().st_mtime)
    for name in ("dbt_project.yml", "profiles.yml"):
        if (project / name).exists():
            newest = max(newest, (project / name).stat().st_mtime)
    return newest


def ensure_manifest() -> Path:
    """Run `dbt parse` when the manifest is missing or older than the project's files."""
    if MANIFEST.exists() and MANIFEST.stat().st_mtime >= _newest_source(DBT_PROJECT_DIR):
        return MANIFEST
    subprocess.run(
        [str(Path(sys.executable).parent / "dbt"), "parse", "--quiet", "--project-dir", ".", "--profiles-dir", "."],
        cwd=DBT_PROJECT_DIR,
        check=True,
        env={**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"},
    )
    return MANIFEST
