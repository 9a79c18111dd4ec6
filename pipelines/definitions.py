"""The Batchtrack code location: `dagster dev -m pipelines.definitions`."""

import dagster as dg

from batchtrack.settings import Settings
from pipelines.defs.automation import landing_sensor, nightly_ingest
from pipelines.defs.checks import asset_checks
from pipelines.defs.dbt import dbt_resource
from pipelines.defs.jobs import all_assets, daily_warehouse_job
from pipelines.defs.resources import LandingResource, ReportsResource, WarehouseResource


def build_definitions(settings: Settings) -> dg.Definitions:
    return dg.Definitions(
        assets=all_assets,
        asset_checks=asset_checks,
        jobs=[daily_warehouse_job],
        schedules=[nightly_ingest],
        sensors=[landing_sensor],
        resources={
            "warehouse": WarehouseResource(path=str(settings.warehouse)),
            "landing": LandingResource(path=str(settings.landing)),
            "reports": ReportsResource(path=str(settings.output)),
            "dbt": dbt_resource(),
        },
    )


defs = build_definitions(Settings.from_env())
