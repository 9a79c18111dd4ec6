"""Dagster asset checks: the quality suites shown on the assets they guard.

Structural checks (the raw table no longer has the contract's columns and types) fail
with severity ERROR and block the assets downstream: models built on a broken raw layer
would be wrong. Every other check reports with severity WARN, whatever the severity of
the expectations inside it (those are in its metadata, in table quality_findings and in
`batchtrack quality`): data findings must never keep rows from the published warehouse,
because a recall has to see everything. A file rejected whole fails its feed's
`files_accepted` check, and `batchtrack ingest` exits non-zero, but the run's other files
are still published.

All checks are `blocking=True` so that they run before anything downstream, in
particular before the working copy is published; only an ERROR blocks. The checks that keep
their results write the working copy, so they are in the warehouse pool.

The schema, row and cross-feed checks are the daily run's quality checks (quality_checks.runner):
on the landing days stamped since the last recorded quality run and the days their changes
reach, so a daily run's checks cost the day; before any recorded run, every day. Genealogy
loops and mass balance are properties of all the data and are checked whole (both read their
marts). Each check keeps its results for the run, and the quality asset records them in
quality_findings without computing them again.
"""

from collections.abc import Iterable

import dagster as dg

from batchtrack.feeds import FEEDS, Feed
from pipelines.defs.dbt import warehouse_models
from pipelines.defs.resources import WAREHOUSE_POOL, WarehouseResource
from quality_checks import CheckResult, by_check, daily_mart_checks, daily_row_checks, daily_schema_checks


def check_result(
    results: Iterable[CheckResult], *, asset_key: dg.AssetKey, name: str, structural: bool = False
) -> dg.AssetCheckResult:
    """One Dagster check result from several suite results: fails when any of them fails,
    naming the failing expectations, days and rows in its metadata (one line per expectation,
    its days summed). Only a structural failure is an ERROR (which blocks downstream assets);
    everything else is a WARN."""
    results = by_check(results)
    failed = [result for result in results if not result.success]
    structural_failure = structural and any(r.severity == "error" for r in failed)
    severity = dg.AssetCheckSeverity.ERROR if structural_failure else dg.AssetCheckSeverity.WARN
    table = "\n".join(
        f"| {r.severity} | {r.expectation} | {_days(r)} | {r.failing_count} | {', '.join(r.sample_keys[:8])} |"
        for r in failed
    )
    return dg.AssetCheckResult(
        asset_key=asset_key,
        check_name=name,
        passed=not failed,
        severity=severity,
        metadata={
            "expectations": len(results),
            "failed": len(failed),
            "failing_rows": sum(r.failing_count for r in failed),
            "failures": dg.MetadataValue.md(
                "| severity | expectation | days | failing | sample keys |\n|---|---|---|---|---|\n" + table
                if table
                else "none"
            ),
        },
    )


def _days(result: CheckResult) -> str:
    """The landing days a summed result failed on, the latest few named."""
    days = [day.isoformat() for day in result.failing_days] or (
        [result.landing_date.isoformat()] if result.landing_date else []
    )
    return ", ".join(days) if len(days) <= 3 else f"{len(days)} days, latest {days[-1]}"


def build_feed_checks(feed: Feed) -> list[dg.AssetChecksDefinition]:
    asset_key = dg.AssetKey(["raw", feed.name])

    @dg.asset_check(
        asset=asset_key,
        name="contract_schema",
        blocking=True,
        pool=WAREHOUSE_POOL,
        description=f"raw.{feed.name} has the contract's columns and types; blocks the models when it does not.",
    )
    def contract_schema(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource) -> dg.AssetCheckResult:
        run_id = context.run.run_id
        with warehouse.warehouse.connect(run_id) as con:
            results = daily_schema_checks(con, feed, run_id=run_id)
        return check_result(results, asset_key=asset_key, name="contract_schema", structural=True)

    @dg.asset_check(
        asset=asset_key,
        name="files_accepted",
        blocking=True,
        description=f"No {feed.name} file is waiting rejected (a header without a required column).",
    )
    def files_accepted(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource) -> dg.AssetCheckResult:
        with warehouse.warehouse.connect(context.run.run_id) as con:
            rejected = con.execute(
                "select source_file, error from ingest.rejected_files where feed = ? order by source_file",
                [feed.name],
            ).fetchall()
        return dg.AssetCheckResult(
            passed=not rejected,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={
                "rejected_files": len(rejected),
                "errors": dg.MetadataValue.md("\n".join(f"- {error}" for _, error in rejected) or "none"),
            },
        )

    @dg.asset_check(
        asset=asset_key,
        name="row_expectations",
        blocking=True,
        pool=WAREHOUSE_POOL,
        description=f"Great Expectations suite raw.{feed.name}: values, keys and rules per row (warnings).",
    )
    def row_expectations(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource) -> dg.AssetCheckResult:
        run_id = context.run.run_id
        with warehouse.warehouse.connect(run_id) as con:
            results = daily_row_checks(con, feed, run_id=run_id)
        return check_result(results, asset_key=asset_key, name="row_expectations")

    return [contract_schema, files_accepted, row_expectations]


def _mart_key(model: str) -> dg.AssetKey:
    return dg.AssetKey(["marts", model])


MART_CHECK_SPECS = [
    dg.AssetCheckSpec(
        "no_loops", asset=_mart_key("fct_lot_genealogy"), blocking=True, description="No lot is its own ancestor."
    ),
    dg.AssetCheckSpec(
        "closes", asset=_mart_key("fct_lot_mass_balance"), blocking=True, description="Every lot's balance closes."
    ),
    dg.AssetCheckSpec(
        "references_resolved",
        asset=_mart_key("dim_lots"),
        blocking=True,
        description="Every consumed, moved or shipped lot is known (warning within the grace days, then error).",
    ),
    dg.AssetCheckSpec(
        "events_in_order",
        asset=_mart_key("fct_shipment_lines"),
        blocking=True,
        description="Nothing consumed before it was made; nothing shipped on hold or after its expiry date.",
    ),
]


@dg.multi_asset_check(specs=MART_CHECK_SPECS, can_subset=False, pool=WAREHOUSE_POOL)
def mart_checks(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource):
    run_id = context.run.run_id
    with warehouse.warehouse.connect(run_id) as con:
        found = daily_mart_checks(con, run_id=run_id)
    yield check_result(found["genealogy"], asset_key=_mart_key("fct_lot_genealogy"), name="no_loops")
    yield check_result(found["mass_balance"], asset_key=_mart_key("fct_lot_mass_balance"), name="closes")
    yield check_result(found["references"], asset_key=_mart_key("dim_lots"), name="references_resolved")
    yield check_result(found["timeline"], asset_key=_mart_key("fct_shipment_lines"), name="events_in_order")


feed_checks = [check for feed in FEEDS for check in build_feed_checks(feed)]
asset_checks = [*feed_checks, mart_checks]

# The marts the multi-asset check guards must exist in the dbt project.
assert {spec.asset_key for spec in MART_CHECK_SPECS} <= set(warehouse_models.keys)
