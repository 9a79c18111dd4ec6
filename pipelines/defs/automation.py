"""When runs start: nightly, and whenever a day folder arrives or is re-sent."""

import hashlib
import json
import os
from datetime import date

import dagster as dg

from batchtrack.ingestion.landing import day_folders
from batchtrack.ingestion.planning import folder_fingerprint, plan_days
from pipelines.defs.jobs import daily_warehouse_job, non_raw_asset_keys
from pipelines.defs.partitions import landing_days
from pipelines.defs.resources import LandingResource, WarehouseResource

SCHEDULE_ENV = "BATCHTRACK_SCHEDULE"

RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"


def partition_range_tags(days: list[date]) -> dict[str, str]:
    """Tags that make one run cover the days from the first to the last given day; the
    ingestion step skips days in between whose files are unchanged."""
    return {RANGE_START_TAG: min(days).isoformat(), RANGE_END_TAG: max(days).isoformat()}


def partitionable(days: list[date]) -> tuple[list[date], list[date]]:
    """Split days into those that are landing-day partitions and those outside the range."""
    keys = set(landing_days.get_partition_keys()) if days else set()
    inside = [day for day in days if day.isoformat() in keys]
    return inside, [day for day in days if day.isoformat() not in keys]


@dg.schedule(
    job=daily_warehouse_job,
    cron_schedule=os.environ.get(SCHEDULE_ENV, "0 2 * * *"),
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Nightly: load every new or re-sent landing day, rebuild the models, publish.",
)
def nightly_ingest(
    context: dg.ScheduleEvaluationContext, landing: LandingResource, warehouse: WarehouseResource
) -> dg.RunRequest | dg.SkipReason:
    plans = plan_days(landing.root, warehouse.warehouse.published)
    days, outside = partitionable([plan.day for plan in plans if plan.status != "unchanged"])
    for day in outside:
        context.log.warning(f"day folder {day} is outside the landing-day partitions; not loaded")
    if not days:
        # Nothing new: still rebuild, so the models and checks see today's date.
        return dg.RunRequest(asset_selection=non_raw_asset_keys())
    return dg.RunRequest(tags=partition_range_tags(days))


@dg.sensor(
    job=daily_warehouse_job,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Starts a run when a day folder appears or a day is re-sent with other files.",
)
def landing_sensor(context: dg.SensorEvaluationContext, landing: LandingResource) -> dg.SensorResult:
    seen = json.loads(context.cursor) if context.cursor else {}
    current = {day.isoformat(): folder_fingerprint(path) for day, path in day_folders(landing.root).items()}
    changed = sorted(date.fromisoformat(day) for day, print_ in current.items() if seen.get(day) != print_)
    days, outside = partitionable(changed)
    for day in outside:
        context.log.warning(f"day folder {day} is outside the landing-day partitions; not loaded")
    cursor = json.dumps(current, sort_keys=True)
    if not days:
        return dg.SensorResult(skip_reason="no new or re-sent day folders", cursor=cursor)
    run_key = hashlib.sha256(json.dumps({d.isoformat(): current[d.isoformat()] for d in days}).encode()).hexdigest()
    return dg.SensorResult(
        run_requests=[dg.RunRequest(run_key=run_key, tags=partition_range_tags(days))], cursor=cursor
    )
