"""The nightly schedule and the landing sensor, evaluated against real folders and files."""

from __future__ import annotations

import json
import os
from pathlib import Path

import dagster as dg

RANGE_START = "dagster/asset_partition_range_start"
RANGE_END = "dagster/asset_partition_range_end"


def make_day(landing: Path, day: str, quantity: int = 1) -> None:
    folder = landing / day
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "production.csv").write_text(
        f"lot_code,product_code,site_code,line_code,produced_at,quantity\nL-{day},P,S,A,{day}T06:00:00,{quantity}\n"
    )


def evaluate_sensor(landing: Path, cursor: str | None):
    from pipelines.defs.automation import landing_sensor
    from pipelines.defs.resources import LandingResource

    context = dg.build_sensor_context(cursor=cursor, resources={"landing": LandingResource(path=str(landing))})
    return landing_sensor(context), context


def test_sensor_requests_new_days_then_only_resent_ones(tmp_path, dbt_manifest):
    landing = tmp_path / "landing"
    for day in ("2026-06-01", "2026-06-02", "2026-06-03"):
        make_day(landing, day)
    (landing / "_resend").mkdir()  # not a day folder: ignored

    result, _ = evaluate_sensor(landing, None)
    assert len(result.run_requests) == 1
    tags = result.run_requests[0].tags
    assert (tags[RANGE_START], tags[RANGE_END]) == ("2026-06-01", "2026-06-03")

    quiet, _ = evaluate_sensor(landing, result.cursor)
    assert not quiet.run_requests

    make_day(landing, "2026-06-02", quantity=2)  # a corrected re-send
    stat = (landing / "2026-06-02" / "production.csv").stat()
    os.utime(landing / "2026-06-02" / "production.csv", ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    resent, _ = evaluate_sensor(landing, quiet.cursor)
    tags = resent.run_requests[0].tags
    assert (tags[RANGE_START], tags[RANGE_END]) == ("2026-06-02", "2026-06-02")
    assert json.loads(resent.cursor).keys() == {"2026-06-01", "2026-06-02", "2026-06-03"}


def test_schedule_asks_for_unloaded_days_and_rebuilds_when_nothing_is_new(tmp_path, dbt_manifest):
    from pipelines.defs.automation import nightly_ingest
    from pipelines.defs.resources import LandingResource, WarehouseResource

    landing = tmp_path / "landing"
    make_day(landing, "2026-06-04")
    make_day(landing, "2026-06-09")
    resources = {
        "landing": LandingResource(path=str(landing)),
        "warehouse": WarehouseResource(path=str(tmp_path / "warehouse.duckdb")),
    }
    with dg.build_schedule_context(resources=resources) as context:
        request = nightly_ingest(context)
    assert (request.tags[RANGE_START], request.tags[RANGE_END]) == ("2026-06-04", "2026-06-09")

    empty = tmp_path / "empty"
    empty.mkdir()
    resources["landing"] = LandingResource(path=str(empty))
    with dg.build_schedule_context(resources=resources) as context:
        rebuild = nightly_ingest(context)
    assert RANGE_START not in rebuild.tags
    assert {key.to_user_string() for key in rebuild.asset_selection} >= {"warehouse/published"}


def test_days_years_back_or_ahead_are_landing_day_partitions(dbt_manifest):
    from datetime import date

    from pipelines.defs.automation import partitionable

    inside, outside = partitionable([date(1995, 1, 2), date(2026, 11, 25), date(2027, 3, 1)])
    assert outside == [] and len(inside) == 3
