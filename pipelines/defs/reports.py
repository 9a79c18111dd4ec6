"""The dashboards, drawn from the warehouse exactly as readers see it once it is published."""

import dagster as dg

from dashboards import build_dashboards
from pipelines.defs.resources import ReportsResource, WarehouseResource


def build_reports_asset(published: dg.AssetsDefinition) -> dg.AssetsDefinition:
    @dg.asset(
        key=["reports", "dashboards"],
        deps=[published],
        group_name="reports",
        kinds={"plotly"},
        description=(
            "Self-contained HTML pages (plotly.js embedded, work offline): defect trends, expiry waste, "
            "data quality, and an index with the data's date range."
        ),
    )
    def dashboards(warehouse: WarehouseResource, reports: ReportsResource) -> dg.MaterializeResult:
        # Read-only on the published file: the run's writing is over by now.
        with warehouse.warehouse.open_readonly() as con:
            pages = build_dashboards(con, reports.root)
        return dg.MaterializeResult(
            metadata={
                "index": dg.MetadataValue.path(str(pages["index"])),
                "pages": dg.MetadataValue.json({name: str(path) for name, path in pages.items()}),
            }
        )

    return dashboards
