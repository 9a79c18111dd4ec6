"""The assets of a run, in dependency order, and the job that runs them."""

from __future__ import annotations

import dagster as dg

from pipelines.defs.dbt import warehouse_models
from pipelines.defs.publish import build_publish_asset
from pipelines.defs.quality import quality_findings
from pipelines.defs.raw_assets import raw_assets
from pipelines.defs.reports import build_reports_asset

published_warehouse = build_publish_asset([*raw_assets, warehouse_models, quality_findings])

dashboards = build_reports_asset(published_warehouse)

all_assets = [*raw_assets, warehouse_models, quality_findings, published_warehouse, dashboards]

RAW_KEYS = [key for asset in raw_assets for key in asset.keys]

# One process, one step at a time: the steps share one DuckDB working file, and dbt
# writes it from a subprocess of its own.
daily_warehouse_job = dg.define_asset_job(
    "daily_warehouse",
    # The assets and the checks that guard them.
    selection=dg.AssetSelection.assets(*all_assets),
    executor_def=dg.in_process_executor,
    description="Load landing days into raw, build the dbt models, publish the warehouse.",
)


def non_raw_asset_keys() -> list[dg.AssetKey]:
    return [
        key for asset in (warehouse_models, quality_findings, published_warehouse, dashboards) for key in asset.keys
    ]
