"""Planning which landing days to load: a file whose size and modification time are the ones
recorded when it was loaded is not read again; any other file is hashed and compared."""

from __future__ import annotations

import contextlib
import os
import time
from datetime import date, timedelta
from pathlib import Path

import duckdb

from batchtrack.feeds import FEEDS_BY_NAME
from batchtrack.ingestion import ingest_feed_day, ingest_feed_days
from batchtrack.ingestion.planning import plan_days
from batchtrack.warehouse_schema import ensure_ingest_schema
from tests.unit.conftest import DAY, write  # DAY: the day folder the `landing` fixture makes

HEADER = "lot_code,product_code,site_code,line_code,produced_at,quantity\n"
PRODUCTION = FEEDS_BY_NAME["production"]
DAYS = [DAY + timedelta(days=offset) for offset in range(3)]


def production(quantity: int, day: date = DAY) -> str:
    return HEADER + f"L{day:%d},P1,S1,A,{day}T06:00:00,{quantity}\n"  # a lot of its own each day


def delivered(path: Path) -> Path:
    """The file as a delivery leaves it: written a while before the run that loads it."""
    an_hour_ago = time.time_ns() - 3600 * 10**9
    os.utime(path, ns=(an_hour_ago, an_hour_ago))
    return path


def rewrite_keeping_stamp(path: Path, text: str) -> None:
    """Other bytes of the same size, with the modification time given back (`touch -r`)."""
    stat = path.stat()
    path.write_bytes(text.encode())
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert path.stat().st_size == stat.st_size


@contextlib.contextmanager
def warehouse(path: Path):
    con = duckdb.connect(str(path))
    try:
        ensure_ingest_schema(con)
        yield con
    finally:
        con.close()


def load(published: Path, landing: Path, *days, force: bool = False) -> list[str]:
    with warehouse(published) as con:
        return [result.status for result in ingest_feed_days(con, landing, days, PRODUCTION, force=force)]


def plan(landing: Path, published: Path) -> dict:
    return {day_plan.day: day_plan.status for day_plan in plan_days(landing, published)}


def quantities(published: Path) -> list[int]:
    with contextlib.closing(duckdb.connect(str(published), read_only=True)) as con:
        return [
            int(row[0]) for row in con.execute("select quantity from raw.production order by landing_date").fetchall()
        ]


def test_a_plan_does_not_read_a_file_whose_size_and_time_are_as_loaded(tmp_path, landing):
    published = tmp_path / "warehouse.duckdb"
    paths = [delivered(write(landing, "production.csv", production(1, day), day)) for day in DAYS]
    assert load(published, landing, *DAYS) == ["loaded"] * 3
    rewrite_keeping_stamp(paths[1], production(7, DAYS[1]))

    # Read, the file would show other bytes: neither the planner nor the loader (which covers
    # the days between the re-sent ones of a run) reads it. This is the heuristic's hole...
    assert plan(landing, published) == dict.fromkeys(DAYS, "unchanged")
    assert load(published, landing, *DAYS) == ["unchanged"] * 3
    assert quantities(published) == [1, 1, 1]
    # ...which a forced load of the day (`batchtrack ingest --date`) closes.
    assert load(published, landing, DAYS[1], force=True) == ["loaded"]
    assert quantities(published) == [1, 7, 1]


def test_a_file_with_other_bytes_and_time_is_changed_and_a_touched_one_is_not(tmp_path, landing):
    published = tmp_path / "warehouse.duckdb"
    touched, rewritten, _ = [delivered(write(landing, "production.csv", production(1, day), day)) for day in DAYS]
    load(published, landing, *DAYS)
    os.utime(touched, ns=(touched.stat().st_atime_ns, touched.stat().st_mtime_ns + 10**9))
    write(landing, "production.csv", production(7, DAYS[1]), DAYS[1])
    assert rewritten.stat().st_size == touched.stat().st_size
    write(landing, "production.csv", production(1, DAYS[2] + timedelta(days=1)), DAYS[2] + timedelta(days=1))

    assert plan(landing, published) == {
        DAYS[0]: "unchanged",
        DAYS[1]: "changed",
        DAYS[2]: "unchanged",
        DAYS[2] + timedelta(days=1): "new",
    }
    assert load(published, landing, *DAYS) == ["unchanged", "loaded", "unchanged"]
    assert quantities(published) == [1, 7, 1]


def test_a_file_added_to_or_gone_from_a_day_changes_it(tmp_path, landing):
    published = tmp_path / "warehouse.duckdb"
    for day in DAYS[:2]:
        delivered(write(landing, "production.csv", production(1, day), day))
    load(published, landing, *DAYS[:2])
    delivered(write(landing, "production.parquet", "", DAYS[0]))
    (landing / DAYS[1].isoformat() / "production.csv").unlink()
    assert plan(landing, published) == {DAYS[0]: "changed", DAYS[1]: "changed"}


def test_a_file_loaded_right_after_it_was_written_is_read_again(tmp_path, landing):
    # Its size and time could stay as they were through a rewrite in the same tick of the
    # file system's clock, so they are not trusted.
    published = tmp_path / "warehouse.duckdb"
    path = write(landing, "production.csv", production(1))
    load(published, landing, DAY)
    rewrite_keeping_stamp(path, production(7))
    assert plan(landing, published) == {DAY: "changed"}
    assert load(published, landing, DAY) == ["loaded"]
    assert quantities(published) == [7]


def test_a_day_with_a_rejected_file_stays_changed(tmp_path, landing):
    published = tmp_path / "warehouse.duckdb"
    delivered(write(landing, "production.csv", "lot_code\nL1\n"))
    assert load(published, landing, DAY) == ["rejected"]
    assert plan(landing, published) == {DAY: "changed"}
    assert load(published, landing, DAY) == ["rejected"]


def test_a_warehouse_from_before_stamps_plans_by_hash_and_the_next_load_records_them(tmp_path, landing):
    published = tmp_path / "warehouse.duckdb"
    paths = [delivered(write(landing, "production.csv", production(1, day), day)) for day in DAYS[:2]]
    load(published, landing, *DAYS[:2])
    with contextlib.closing(duckdb.connect(str(published))) as con:
        for table in ("loaded_files", "rejected_files"):
            con.execute(f"alter table ingest.{table} drop column file_size")
            con.execute(f"alter table ingest.{table} drop column file_mtime_ns")

    rewrite_keeping_stamp(paths[1], production(7, DAYS[1]))
    delivered(write(landing, "production.csv", production(1, DAYS[2]), DAYS[2]))
    # Without stamps every file is hashed: the rewritten one is seen.
    assert plan(landing, published) == {DAYS[0]: "unchanged", DAYS[1]: "changed", DAYS[2]: "new"}

    # The next run migrates the warehouse and loads the new day; the files of the earlier
    # days that still have their bytes get their stamps, and are not read again.
    assert load(published, landing, DAYS[2]) == ["loaded"]
    rewrite_keeping_stamp(paths[0], production(8))
    assert plan(landing, published) == {DAYS[0]: "unchanged", DAYS[1]: "changed", DAYS[2]: "unchanged"}
    assert load(published, landing, DAYS[1]) == ["loaded"]
    assert quantities(published) == [1, 7, 1]


def test_the_stamps_of_a_load_are_recorded_for_loaded_and_rejected_files(landing, con):
    loaded = delivered(write(landing, "production.csv", production(1)))
    rejected = delivered(write(landing, "shipments.csv", "shipment_id\nS1\n"))
    ingest_feed_day(con, landing, DAY, PRODUCTION)
    ingest_feed_day(con, landing, DAY, FEEDS_BY_NAME["shipments"])
    stamps = con.execute(
        "select source_file, file_size, file_mtime_ns from ingest.loaded_files "
        "union all select source_file, file_size, file_mtime_ns from ingest.rejected_files order by 1"
    ).fetchall()
    assert stamps == [
        (f"{DAY}/production.csv", loaded.stat().st_size, loaded.stat().st_mtime_ns),
        (f"{DAY}/shipments.csv", rejected.stat().st_size, rejected.stat().st_mtime_ns),
    ]
