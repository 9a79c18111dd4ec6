"""Quality checks after the models are built: findings into the warehouse, Data Docs to disk."""

import dagster as dg

from pipelines.defs.dbt import warehouse_models
from pipelines.defs.resources import WAREHOUSE_POOL, ReportsResource, WarehouseResource
from quality_checks import build_data_docs, by_check, has_errors, run_and_record_daily_checks


@dg.asset(
    key=["quality", "findings"],
    deps=[warehouse_models],
    pool=WAREHOUSE_POOL,
    group_name="quality",
    kinds={"duckdb"},
    description=(
        "Great Expectations suites over the raw feeds and the marts, on the landing days changed since the "
        "last run (ingest.feed_day_changes) and the days those changes reach; every result of the run goes "
        "to main.quality_findings, one per check and day. The suites the run's asset checks already ran "
        "are recorded as they found them, not run again. Findings are reported, never hidden: recall "
        "queries still see every row."
    ),
)
def quality_findings(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, reports: ReportsResource
) -> dg.MaterializeResult:
    run_id = context.run.run_id
    with warehouse.warehouse.connect(run_id) as con:
        run = run_and_record_daily_checks(con, run_id)
    results = by_check(run.results)
    data_docs = build_data_docs(results, reports.root / "quality" / "data_docs")
    failed = [result for result in results if not result.success]
    for result in failed:
        log = context.log.error if result.severity == "error" else context.log.warning
        log(f"{result.expectation}: {result.failing_count} failing ({', '.join(result.sample_keys[:5])})")
    table = "\n".join(
        f"| {r.severity} | {r.expectation} | {r.failing_count} | {', '.join(r.sample_keys[:5])} |" for r in failed
    )
    return dg.MaterializeResult(
        metadata={
            "checks": len(results),
            "changed_days": len(run.changed_days),
            "all_days": run.is_full,
            "from_asset_checks": dg.MetadataValue.md(", ".join(sorted(run.reused_parts)) or "none"),
            "failed_errors": sum(r.severity == "error" for r in failed),
            "failed_warnings": sum(r.severity == "warning" for r in failed),
            "has_errors": has_errors(results),
            "failed_checks": dg.MetadataValue.md(
                "| severity | expectation | failing | sample keys |\n|---|---|---|---|\n" + table if table else "none"
            ),
            "data_docs": dg.MetadataValue.path(str(data_docs)),
        }
    )
