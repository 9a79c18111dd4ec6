"""When the dbt manifest is parsed again: whenever the project's files differ from those it
was parsed from, by name or content, and only then."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from pipelines.dbt_manifest import DBT_PROJECT_DIR, project_fingerprint


def _project(tmp_path: Path) -> Path:
    project = tmp_path / "dbt_project"
    shutil.copytree(DBT_PROJECT_DIR / "models", project / "models")
    shutil.copytree(DBT_PROJECT_DIR / "macros", project / "macros")
    for name in ("dbt_project.yml", "profiles.yml"):
        shutil.copy2(DBT_PROJECT_DIR / name, project / name)
    return project


def test_an_edit_a_removal_or_a_rename_changes_the_fingerprint_and_a_touch_does_not(tmp_path):
    project = _project(tmp_path)
    model = project / "models" / "marts" / "dim_lots.sql"
    first = project_fingerprint(project)
    assert project_fingerprint(project) == first

    os.utime(model, (0, 0))  # a checkout or `cp -p` can give any time
    assert project_fingerprint(project) == first

    renamed = model.with_name("dim_lots_renamed.sql")
    model.rename(renamed)  # a rename keeps the time
    assert project_fingerprint(project) != first
    renamed.rename(model)
    assert project_fingerprint(project) == first

    model.write_text(model.read_text() + "\n-- edited\n")
    edited = project_fingerprint(project)
    assert edited != first

    model.unlink()
    assert project_fingerprint(project) not in (first, edited)
