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
particular before the working copy is published; only an ERROR blocks.

The row and cross-feed checks look at the landing days of this run: those stamped since the
last recorded quality run, and the days their changes reach (quality_checks.runner), so a
daily run's checks cost the day; before any recorded run, every day. Genealogy loops and mass
balance are properties of all the data and are checked whole (both read their marts).
"""

from collections.abc import Iterable

import dagster as dg

from batchtrack.feeds import FEEDS, Feed
from pipelines.defs.dbt import warehouse_models
from pipelines.defs.resources import WarehouseResource
from quality_checks import CheckResult
from quality_checks.cross_feed import (
    genealogy_loop_checks,
    lot_origins_computed,
    mass_balance_checks,
    reference_checks,
    timeline_checks,
)
from quality_checks.findings import failing_days
from quality_checks.raw_suites import row_checks, schema_checks
from quality_checks.runner import (
    QualitySettings,
    all_landing_days,
    changed_since_last_run,
    days_reached_since_last_run,
    default_as_of,
)


def check_result(
    results: Iterable[CheckResult], *, asset_key: dg.AssetKey, name: str, structural: bool = False
) -> dg.AssetCheckResult:
    """One Dagster check result from several suite results: fails when any of them fails,
    naming the failing expectations and rows in its metadata. Only a structural failure is
    an ERROR (which blocks downstream assets); everything else is a WARN."""
    results = list(results)
    failed = [result for result in results if not result.success]
    structural_failure = structural and any(r.severity == "error" for r in failed)
    severity = dg.AssetCheckSeverity.ERROR if structural_failure else dg.AssetCheckSeverity.WARN
    table = "\n".join(
        f"| {r.severity} | {r.expectation} | {r.failing_count} | {', '.join(r.sample_keys[:8])} |" for r in failed
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
                "| severity | expectation | failing | sample keys |\n|---|---|---|---|\n" + table if table else "none"
            ),
        },
    )


def build_feed_checks(feed: Feed) -> list[dg.AssetChecksDefinition]:
    asset_key = dg.AssetKey(["raw", feed.name])

    @dg.asset_check(
        asset=asset_key,
        name="contract_schema",
        blocking=True,
        description=f"raw.{feed.name} has the contract's columns and types; blocks the models when it does not.",
    )
    def contract_schema(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource) -> dg.AssetCheckResult:
        with warehouse.warehouse.connect(context.run.run_id) as con:
            return check_result(schema_checks(con, feed), asset_key=asset_key, name="contract_schema", structural=True)

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
        description=f"Great Expectations suite raw.{feed.name}: values, keys and rules per row (warnings).",
    )
    def row_expectations(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource) -> dg.AssetCheckResult:
        with warehouse.warehouse.connect(context.run.run_id) as con:
            changed = changed_since_last_run(con)
            if changed is None:
                # every day, a month at a time (one frame of a whole table can hold gigabytes)
                results = row_checks(con, feed, days=all_landing_days(con))
            else:
                key_days = changed | failing_days(con, [f"raw.{feed.name}.keys"])
                results = row_checks(con, feed, days=changed, key_days=key_days)
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


@dg.multi_asset_check(specs=MART_CHECK_SPECS, can_subset=False)
def mart_checks(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource):
    with warehouse.warehouse.connect(context.run.run_id) as con:
        as_of = default_as_of(con)
        grace_days = QualitySettings().grace_days
        yield check_result(genealogy_loop_checks(con), asset_key=_mart_key("fct_lot_genealogy"), name="no_loops")
        yield check_result(mass_balance_checks(con), asset_key=_mart_key("fct_lot_mass_balance"), name="closes")
        # The days a change reaches and the checks both read the lot origins: computed once.
        with lot_origins_computed(con):
            days = days_reached_since_last_run(con)
            yield check_result(
                reference_checks(
                    con, as_of=as_of, grace_days=grace_days, **({} if days is None else {"days": days.references})
                ),
                asset_key=_mart_key("dim_lots"),
                name="references_resolved",
            )
            yield check_result(
                timeline_checks(con, **({} if days is None else {"days": days.timeline})),
                asset_key=_mart_key("fct_shipment_lines"),
                name="events_in_order",
            )


feed_checks = [check for feed in FEEDS for check in build_feed_checks(feed)]
asset_checks = [*feed_checks, mart_checks]

# The marts the multi-asset check guards must exist in the dbt project.
assert {spec.asset_key for spec in MART_CHECK_SPECS} <= set(warehouse_models.keys)
