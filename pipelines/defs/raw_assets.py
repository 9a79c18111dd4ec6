"""One asset per feed file kind, daily-partitioned by landing date, loading raw.<feed>."""

from datetime import date

import dagster as dg
from pydantic import Field

from batchtrack.feeds import FEEDS, Feed
from batchtrack.ingestion import FeedDayResult, ingest_feed_days
from pipelines.defs.partitions import landing_days
from pipelines.defs.resources import WAREHOUSE_POOL, LandingResource, WarehouseResource


class IngestConfig(dg.Config):
    force: bool = Field(
        default=False,
        description="Reload the selected days even where their files are unchanged since they were loaded.",
    )


def _result_row(result: FeedDayResult) -> dict:
    return {
        "day": result.day.isoformat(),
        "feed": result.feed,
        "status": result.status,
        "files": result.files,
        "rows_in": result.rows_in,
        "rows_loaded": result.rows_loaded,
        "rows_quarantined": result.rows_quarantined,
        "errors": result.errors,
    }


def build_raw_asset(feed: Feed) -> dg.AssetsDefinition:
    @dg.asset(
        key=["raw", feed.name],
        partitions_def=landing_days,
        # A run over many days loads them in one step, not one run per day.
        backfill_policy=dg.BackfillPolicy.single_run(),
        pool=WAREHOUSE_POOL,
        group_name="raw",
        kinds={"polars", "duckdb"},
        description=f"raw.{feed.name}: {feed.description} Bad rows go to quarantine.",
    )
    def raw_feed(
        context: dg.AssetExecutionContext,
        config: IngestConfig,
        warehouse: WarehouseResource,
        landing: LandingResource,
    ) -> dg.MaterializeResult:
        days = [date.fromisoformat(key) for key in context.partition_keys]
        with warehouse.warehouse.connect(context.run.run_id) as con:
            # All days in one call: it writes many days per transaction. If a day fails, the
            # days before it stay loaded in the run's working copy and the step fails.
            results = ingest_feed_days(con, landing.root, days, feed, force=config.force)
            for result in results:
                if result.status in ("loaded", "rejected", "removed"):
                    context.log.info(
                        f"{feed.name} {result.day}: {result.status}, {result.rows_loaded} loaded, "
                        f"{result.rows_quarantined} quarantined"
                    )
                for error in result.errors:
                    context.log.error(error)
            # A look at the newest day of the run; filtered on landing_date, so its cost
            # does not grow with the history in the table.
            preview = con.execute(
                f"select * exclude (extra_columns) from raw.{feed.name} where landing_date = ? "
                "order by line_number limit 5",
                [max(days)],
            ).pl()
        preview_md = preview.to_pandas().to_markdown(index=False) if preview.height else "(empty)"
        changed = [r for r in results if r.status not in ("unchanged", "absent")]
        return dg.MaterializeResult(
            metadata={
                "days_in_run": len(days),
                "days_changed": len(changed),
                "rows_loaded": sum(r.rows_loaded for r in results),
                "rows_quarantined": sum(r.rows_quarantined for r in results),
                "files_rejected": sum(len(r.errors) for r in results),
                "results": dg.MetadataValue.json([_result_row(r) for r in changed]),
                "preview": dg.MetadataValue.md(preview_md),
            }
        )

    return raw_feed


raw_assets = [build_raw_asset(feed) for feed in FEEDS]
