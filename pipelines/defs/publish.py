"""The last step of a run: swap the finished working copy in as the published warehouse."""

import dagster as dg

from pipelines.defs.resources import WAREHOUSE_POOL, WarehouseResource


def build_publish_asset(upstream: list) -> dg.AssetsDefinition:
    @dg.asset(
        key=["warehouse", "published"],
        deps=upstream,
        pool=WAREHOUSE_POOL,
        group_name="warehouse",
        kinds={"duckdb"},
        description=(
            "The warehouse file readers open. Replaced atomically at the end of each run, so a "
            "reader never sees a half-loaded day."
        ),
    )
    def published_warehouse(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
        # begin() first: a run that wrote nothing itself still publishes what an earlier,
        # unpublished run left committed in the working copy.
        warehouse.warehouse.begin(context.run.run_id)
        published = warehouse.warehouse.publish(context.run.run_id)
        return dg.MaterializeResult(
            metadata={
                "path": dg.MetadataValue.path(str(published)),
                "size_bytes": published.stat().st_size,
            }
        )

    return published_warehouse
