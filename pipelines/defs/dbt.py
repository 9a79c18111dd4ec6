"""The dbt project as Dagster assets: staging, intermediate and marts, built in the
run's working copy of the warehouse."""

import os
import shutil
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets

from batchtrack.settings import DBT_WAREHOUSE_ENV
from pipelines.dbt_manifest import DBT_PROJECT_DIR, ensure_manifest
from pipelines.defs.resources import WAREHOUSE_POOL, WarehouseResource

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
# Parse when the project's files differ from those the manifest was parsed from (`dagster dev`
# reloading an edited model), not on every load as DbtProject.prepare_if_dev does: a parse
# rewrites the manifest that other processes of this project may be reading.
ensure_manifest()


class LayeredTranslator(DagsterDbtTranslator):
    """Asset keys say where a model lives: ["staging", "stg_..."], ["marts", "fct_..."]."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "model":
            fqn = dbt_resource_props.get("fqn", [])
            layer = fqn[1] if len(fqn) > 2 else "models"
            return dg.AssetKey([layer, dbt_resource_props["name"]])
        return super().get_asset_key(dbt_resource_props)

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return "warehouse"


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=LayeredTranslator(),
    pool=WAREHOUSE_POOL,
)
def warehouse_models(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource
) -> Iterator[Any]:
    working_file = warehouse.warehouse.begin(context.run.run_id)
    # dbt runs as a subprocess and reads the file to build from profiles.yml's env_var.
    previous = os.environ.get(DBT_WAREHOUSE_ENV)
    os.environ[DBT_WAREHOUSE_ENV] = str(working_file)
    try:
        # dbt's target folder for this run lives in the working folder and goes with it.
        target = working_file.parent / "dbt_target"
        parse_state = warehouse.warehouse.dbt_parse_state
        _carry_parse_state(parse_state, target / PARTIAL_PARSE_FILE)
        try:
            # dbt's unit tests check the models' logic on made-up rows, not the day's data:
            # `make test` runs them; the daily build leaves them out, as dbt recommends.
            build = ["build", "--exclude-resource-type", "unit_test"]
            yield from dbt.cli(build, context=context, target_path=target).stream()
        finally:
            _carry_parse_state(target / PARTIAL_PARSE_FILE, parse_state)
    finally:
        if previous is None:
            os.environ.pop(DBT_WAREHOUSE_ENV, None)
        else:
            os.environ[DBT_WAREHOUSE_ENV] = previous


# dbt parses the project before every command: 5 s here in full, 2.5 s when the target folder
# holds the state of an earlier parse with the same profile, variables and dbt version (dbt
# checks them, and parses in full when one differs; a changed project file it re-parses
# alone). The warehouse keeps its last build's state (Warehouse.dbt_parse_state), so only a
# warehouse's first build parses in full.
PARTIAL_PARSE_FILE = "partial_parse.msgpack"


def _carry_parse_state(source: Path, destination: Path) -> None:
    if not source.exists():
        return
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.with_name(destination.name + ".copying")
    shutil.copyfile(source, partial)
    os.replace(partial, destination)


def dbt_resource() -> DbtCliResource:
    # The dbt next to this interpreter: the venv need not be activated.
    return DbtCliResource(project_dir=dbt_project, dbt_executable=str(Path(sys.executable).parent / "dbt"))
