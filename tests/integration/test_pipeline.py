"""Real runs of the daily_warehouse Dagster job into temporary DuckDB files."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import duckdb

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent

PRODUCTS = (
    "product_code,description,category,base_unit,shelf_life_days,unit_cost\n"
    "RAW-FLOUR,Wheat flour,raw,kg,60,0.8\n"
    "FIN-BREAD,Bread,finished,ea,5,1.2\n"
)
PRODUCTION = "lot_code,product_code,site_code,line_code,produced_at,quantity\n"
SHIPMENTS = "shipment_id,line_no,lot_code,product_code,quantity,shipped_at,site_code,customer_code\n"


def small_landing(root: Path, days: int = 3) -> Path:
    """A few consistent day folders with one bad row each."""
    for index in range(days):
        day = f"2026-06-0{index + 1}"
        folder = root / day
        folder.mkdir(parents=True)
        if index == 0:
            (folder / "products.csv").write_text(PRODUCTS)
        (folder / "production.csv").write_text(
            PRODUCTION
            + f"B{index},FIN-BREAD,P1,L1,{day}T06:00:00,100\n"
            + f"B{index}-bad,FIN-BREAD,P1,L1,{day}T06:00:00,lots\n"
        )
        (folder / "shipments.csv").write_text(SHIPMENTS + f"S{index},1,B{index},FIN-BREAD,40,{day}T12:00:00,P1,C1\n")
    return root


def ingest(warehouse: Path, landing: Path, **options):
    """The daily_warehouse job in this process, raw layer and publishing only (no dbt)."""
    from batchtrack.settings import Settings
    from pipelines.ingest_run import run_ingest

    settings = Settings.from_env(warehouse=warehouse, landing=landing, output=warehouse.parent / "output")
    return run_ingest(settings, build_models=False, **options)


def count(path: Path, sql: str):
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).fetchone()[0]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_definitions_load(dbt_manifest):
    result = subprocess.run(
        [str(BIN / "dagster"), "definitions", "validate", "-m", "pipelines.definitions"],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, "DAGSTER_HOME": ""},
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_definitions_have_the_job_schedule_and_sensor(dbt_manifest):
    from pipelines.definitions import defs

    assert defs.resolve_job_def("daily_warehouse") is not None
    assert defs.resolve_schedule_def("nightly_ingest").cron_schedule == "0 2 * * *"
    assert defs.resolve_sensor_def("landing_sensor") is not None
    keys = {key.to_user_string() for key in defs.resolve_asset_graph().get_all_asset_keys()}
    assert {"raw/production", "raw/shipments", "warehouse/published"} <= keys


def test_ingest_loads_quarantines_and_publishes_then_skips_unchanged_days(tmp_path, cli):
    landing = small_landing(tmp_path / "landing")
    warehouse = tmp_path / "wh" / "warehouse.duckdb"
    args = ("--warehouse", str(warehouse), "--landing", str(landing))

    first = cli("ingest", *args)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "2026-06-02  production.csv" in first.stdout
    assert count(warehouse, "select count(*) from raw.production") == 3
    assert count(warehouse, "select count(*) from quarantine") == 3
    assert (
        count(warehouse, "select sum(rows_in) - sum(rows_loaded) - sum(rows_quarantined) from ingest.loaded_files") == 0
    )
    assert not (warehouse.parent / ".warehouse.duckdb.work").exists()

    second = cli("ingest", *args)
    assert second.returncode == 0, second.stderr
    assert "no new or changed day folders" in second.stdout


def test_resent_day_replaces_itself_and_corrected_values_win(tmp_path, dbt_manifest):
    landing = small_landing(tmp_path / "landing")
    warehouse = tmp_path / "warehouse.duckdb"
    assert ingest(warehouse, landing).data_loaded
    (landing / "2026-06-02" / "production.csv").write_text(PRODUCTION + "B1,FIN-BREAD,P1,L1,2026-06-02T06:00:00,95\n")
    resent = ingest(warehouse, landing)
    assert resent.data_loaded
    assert resent.days_requested == [date(2026, 6, 2)]  # only the re-sent day is reloaded
    assert [(row["feed"], row["status"]) for row in resent.results] == [("production", "loaded")]
    rows = (
        duckdb.connect(str(warehouse), read_only=True)
        .execute("select lot_code, quantity from raw.production order by lot_code")
        .fetchall()
    )
    assert rows == [("B0", 100.0), ("B1", 95.0), ("B2", 100.0)]
    assert count(warehouse, "select count(*) from quarantine where landing_date = '2026-06-02'") == 0


def test_file_missing_a_required_column_fails_the_command_but_the_rest_loads(tmp_path, cli):
    # The one CLI run here that builds the dbt models on top.
    landing = small_landing(tmp_path / "landing")
    (landing / "2026-06-03" / "shipments.csv").write_text("shipment_id,line_no,lot_code\nS9,1,B2\n")
    warehouse = tmp_path / "warehouse.duckdb"
    result = cli("ingest", "--warehouse", str(warehouse), "--landing", str(landing))
    assert result.returncode == 1
    assert "2026-06-03/shipments.csv" in result.stderr and "customer_code" in result.stderr
    assert count(warehouse, "select count(*) from raw.shipments") == 2
    assert count(warehouse, "select count(*) from raw.production") == 3


def test_ingest_of_a_missing_day_says_so(tmp_path, cli):
    landing = small_landing(tmp_path / "landing", days=1)
    result = cli("ingest", "--date", "2026-07-01", "--warehouse", str(tmp_path / "w.duckdb"), "--landing", str(landing))
    assert result.returncode == 1
    assert "no day folder 2026-07-01" in result.stderr


def test_a_reader_holding_the_warehouse_open_neither_blocks_the_run_nor_sees_half_a_day(tmp_path, cli):
    landing = small_landing(tmp_path / "landing", days=2)
    warehouse = tmp_path / "warehouse.duckdb"
    args = ("--warehouse", str(warehouse), "--landing", str(landing))
    assert cli("ingest", *args).returncode == 0
    # A quality engineer's shell: read-write (the default), which locks the file.
    reader = duckdb.connect(str(warehouse))
    try:
        assert reader.execute("select count(*) from raw.production").fetchone()[0] == 2
        (landing / "2026-06-05").mkdir()
        (landing / "2026-06-05" / "production.csv").write_text(
            PRODUCTION + "B5,FIN-BREAD,P1,L1,2026-06-05T06:00:00,7\n"
        )
        run = cli("ingest", *args)
        assert run.returncode == 0, run.stdout + run.stderr
        # The open session keeps its complete snapshot...
        assert reader.execute("select count(*) from raw.production").fetchone()[0] == 2
    finally:
        reader.close()
    # ...and whoever opens the warehouse now sees the new day whole.
    assert count(warehouse, "select count(*) from raw.production") == 3


def test_a_run_killed_half_way_leaves_the_published_warehouse_as_it_was(tmp_path, dbt_manifest):
    landing = small_landing(tmp_path / "landing", days=2)
    warehouse = tmp_path / "warehouse.duckdb"
    assert ingest(warehouse, landing).data_loaded
    before = sha256(warehouse)
    for day in range(10, 28):
        folder = landing / f"2026-06-{day}"
        folder.mkdir()
        (folder / "production.csv").write_text(
            PRODUCTION + "".join(f"D{day}-{n},FIN-BREAD,P1,L1,2026-06-{day}T06:00:00,{n}\n" for n in range(1, 500))
        )
    owner = warehouse.parent / ".warehouse.duckdb.work" / "owner.json"
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from tests.integration.test_pipeline import ingest; from pathlib import Path; "
            "ingest(Path(sys.argv[1]), Path(sys.argv[2]))",
            str(warehouse),
            str(landing),
        ],
        cwd=REPO,
    )
    deadline = time.monotonic() + 120
    while not owner.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert process.poll() is None, "the run finished before it could be killed"
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert sha256(warehouse) == before
    assert count(warehouse, "select count(*) from raw.production") == 2
    # The next run finishes the job.
    assert ingest(warehouse, landing).data_loaded
    assert count(warehouse, "select count(*) from raw.production") == 2 + 18 * 499


def test_two_warehouses_never_share_load_state(tmp_path, dbt_manifest):
    landing = small_landing(tmp_path / "landing", days=1)
    first, second = tmp_path / "a.duckdb", tmp_path / "b.duckdb"
    assert ingest(first, landing).data_loaded
    result = ingest(second, landing)
    assert result.data_loaded
    assert {row["feed"] for row in result.results} == {"products", "production", "shipments"}
    shutil.rmtree(tmp_path / "landing")
    assert count(second, "select count(*) from raw.production") == 1


def test_a_warehouse_named_like_a_schema_works(tmp_path, cli):
    # DuckDB names a file's catalog after it: raw.duckdb's catalog "raw" meets schema "raw".
    landing = small_landing(tmp_path / "landing", days=1)
    warehouse = tmp_path / "raw.duckdb"
    assert ingest(warehouse, landing).data_loaded
    result = cli("quality", "--warehouse", str(warehouse))
    assert "landing.no_rows_quarantined" in result.stdout, result.stdout + result.stderr
