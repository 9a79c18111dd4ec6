"""Where things live: the one place that turns environment variables into paths.

Defaults sit inside the project folder, so a fresh clone works without any setup.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent

WAREHOUSE_ENV = "BATCHTRACK_WAREHOUSE"
LANDING_ENV = "BATCHTRACK_LANDING"
OUTPUT_ENV = "BATCHTRACK_OUTPUT"
# The file dbt writes to during a run: the pipeline's working copy of the warehouse.
DBT_WAREHOUSE_ENV = "BATCHTRACK_DBT_WAREHOUSE"
# How much memory DuckDB may hold per connection before it spills to disk (a DuckDB size, as
# "2.5GB"). The default keeps a run of a large network under 4 GB on a small machine, the
# first run over a year of history included: dbt then peaks near 3 GB beside the pipeline's
# own process (about 0.9 GB). dbt reads the same variable with the same default
# (dbt_project/profiles.yml).
MEMORY_LIMIT_ENV = "BATCHTRACK_DUCKDB_MEMORY_LIMIT"
DEFAULT_MEMORY_LIMIT = "2.5GB"


def duckdb_config() -> dict[str, str]:
    """The settings every pipeline and reader connection opens DuckDB with."""
    return {"memory_limit": os.environ.get(MEMORY_LIMIT_ENV) or DEFAULT_MEMORY_LIMIT}


@dataclass(frozen=True)
class Settings:
    warehouse: Path  # the published file that readers open
    landing: Path
    output: Path
    project_root: Path = PROJECT_ROOT

    @property
    def dbt_project_dir(self) -> Path:
        return self.project_root / "dbt_project"

    @classmethod
    def from_env(
        cls,
        warehouse: str | os.PathLike[str] | None = None,
        landing: str | os.PathLike[str] | None = None,
        output: str | os.PathLike[str] | None = None,
    ) -> Settings:
        def pick(given, env_name: str, default: Path) -> Path:
            value = given if given is not None else os.environ.get(env_name)
            return Path(value).expanduser().resolve() if value else default

        return cls(
            warehouse=pick(warehouse, WAREHOUSE_ENV, PROJECT_ROOT / "data" / "warehouse.duckdb"),
            landing=pick(landing, LANDING_ENV, PROJECT_ROOT / "data" / "landing"),
            output=pick(output, OUTPUT_ENV, PROJECT_ROOT / "output"),
        )
