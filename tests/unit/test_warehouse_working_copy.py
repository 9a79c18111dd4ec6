"""The working copy a run writes: prepared ahead of the run (in a thread of `batchtrack
ingest`) and adopted by the run's first writing step only while it is a copy of the file
now published."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from batchtrack.warehouse import Warehouse, WarehouseBusy


def _published(tmp_path: Path, rows: int = 3) -> Warehouse:
    path = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create table lots as select range as lot_id from range(?)", [rows])
    return Warehouse(path)


def _lot_count(path: Path) -> int:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute("select count(*) from lots").fetchone()[0]


def test_a_run_adopts_the_copy_prepared_for_it(tmp_path):
    warehouse = _published(tmp_path)
    warehouse.prepare()
    prepared = warehouse.working_file.stat().st_ino

    assert warehouse.begin("run-1") == warehouse.working_file
    assert warehouse.working_file.stat().st_ino == prepared  # adopted, not copied again
    assert json.loads((warehouse.work_dir / "owner.json").read_text())["run_id"] == "run-1"
    assert _lot_count(warehouse.working_file) == 3
    warehouse.prepare()  # already a copy of the published file: left alone
    assert warehouse.working_file.stat().st_ino == prepared


def test_a_copy_prepared_before_the_published_file_changed_is_not_adopted(tmp_path):
    warehouse = _published(tmp_path)
    warehouse.prepare()
    with duckdb.connect(str(warehouse.published)) as con:
        con.execute("insert into lots values (99)")

    warehouse.begin("run-1")
    assert _lot_count(warehouse.working_file) == 4


def test_nothing_is_prepared_over_the_copy_of_a_live_run(tmp_path):
    warehouse = _published(tmp_path)
    warehouse.work_dir.mkdir()
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        owner = {"run_id": "other-run", "pid": other.pid, "source": None}
        (warehouse.work_dir / "owner.json").write_text(json.dumps(owner))
        warehouse.prepare()
        assert not warehouse.working_file.exists()
        with pytest.raises(WarehouseBusy, match="other-run"):
            warehouse.begin("run-1")
    finally:
        other.kill()
        other.wait()


def test_no_copy_is_prepared_of_a_warehouse_not_yet_published(tmp_path):
    warehouse = Warehouse(tmp_path / "warehouse.duckdb")
    warehouse.prepare()
    assert not warehouse.work_dir.exists()
