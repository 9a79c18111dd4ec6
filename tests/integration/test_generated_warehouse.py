"""Generated landing days through the real `batchtrack` commands: every row accounted
for, every planted fault quarantined where the generator put it, a re-send applied."""

from __future__ import annotations

import csv
import json
import os
import shutil
from pathlib import Path
from types import SimpleNamespace

import duckdb
import polars as pl
import pytest

from batchtrack.generator import generate

DAYS = 14


@pytest.fixture(scope="module")
def generated(tmp_path_factory, cli):
    root = tmp_path_factory.mktemp("generated")
    landing, warehouse = root / "landing", root / "warehouse.duckdb"
    generate(landing, days=DAYS, seed=11, scale="small", bad_row_rate=0.004)
    first = cli("ingest", "--warehouse", str(warehouse), "--landing", str(landing))
    manifest = json.loads((landing / "_generator.json").read_text())
    return SimpleNamespace(landing=landing, warehouse=warehouse, manifest=manifest, first=first)


def query(warehouse: Path, sql: str, params=None):
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def records_in(path: Path) -> int:
    if path.suffix == ".parquet":
        return pl.read_parquet(path).height
    with path.open(newline="", encoding="utf-8") as handle:
        return sum(1 for _ in csv.reader(handle)) - 1


def test_ingest_of_generated_days_succeeds_and_reports_each_file(generated):
    assert generated.first.returncode == 0, generated.first.stdout + generated.first.stderr
    assert f"{DAYS} day(s):" in generated.first.stdout
    assert "production.csv" in generated.first.stdout


def test_rows_in_equal_rows_loaded_plus_rows_quarantined_for_every_file(generated):
    files = sorted(p for p in generated.landing.glob("20*/*") if p.suffix in (".csv", ".parquet"))
    assert len(files) > DAYS * 5
    loaded = {
        source_file: (rows_in, rows_loaded, rows_quarantined)
        for source_file, rows_in, rows_loaded, rows_quarantined in query(
            generated.warehouse, "select source_file, rows_in, rows_loaded, rows_quarantined from ingest.loaded_files"
        )
    }
    for path in files:
        source_file = f"{path.parent.name}/{path.name}"
        feed = path.stem
        rows_in, rows_loaded, rows_quarantined = loaded[source_file]
        in_raw = query(generated.warehouse, f"select count(*) from raw.{feed} where source_file = ?", [source_file])
        in_quarantine = query(
            generated.warehouse, "select count(*) from quarantine where source_file = ?", [source_file]
        )
        assert records_in(path) == rows_in == rows_loaded + rows_quarantined, source_file
        assert (in_raw[0][0], in_quarantine[0][0]) == (rows_loaded, rows_quarantined), source_file


def test_exactly_the_planted_bad_rows_are_quarantined_with_their_reasons(generated):
    planted = {(row["file"], row["line_number"]): row for row in generated.manifest["bad_rows"]}
    assert {row["kind"] for row in planted.values()} >= {"missing_required", "duplicate_key", "negative_quantity"}
    quarantined = {
        (source_file, line_number): reason
        for source_file, line_number, reason in query(
            generated.warehouse, "select source_file, line_number, reason from quarantine"
        )
    }
    assert set(quarantined) == set(planted)
    for place, row in planted.items():
        assert row["expected_reason"] in quarantined[place], (place, quarantined[place])


def test_quality_checks_ran_in_the_pipeline_and_the_command_reports_them(generated, cli):
    findings = query(
        generated.warehouse,
        "select count(*), count(distinct run_id), count(*) filter (where severity = 'error' and not success) "
        "from quality_findings",
    )
    checks, runs, failed_errors = findings[0]
    assert checks >= 50 and runs == 1 and failed_errors == 0
    result = cli("quality", "--warehouse", str(generated.warehouse))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 errors" in result.stdout
    docs = Path(os.environ["BATCHTRACK_OUTPUT"]) / "quality" / "data_docs" / "index.html"
    assert "inventory.movement_type_in_set" in docs.read_text()


def test_recall_of_the_contaminated_supplier_lot_reaches_its_customers(generated, cli, tmp_path):
    example = generated.manifest["recall_example"]
    notify, fsma = tmp_path / "notify.csv", tmp_path / "fsma204.csv"
    result = cli(
        "recall",
        example["lot_code"],
        "--format",
        "json",
        "--notify",
        str(notify),
        "--fsma204",
        str(fsma),
        "--warehouse",
        str(generated.warehouse),
    )
    assert result.returncode == 0, result.stderr
    scope = json.loads(result.stdout)
    assert len(scope["lots"]) == example["downstream_lots"] + 1
    assert len(scope["shipments"]) == example["shipment_lines"]
    assert len(scope["customers"]) == example["customers"]
    assert scope["mass_balance_total"]["quantity_unaccounted"] == 0
    assert {row["lot_code"] for row in scope["mass_balance"]} == {row["lot_code"] for row in scope["lots"]}
    with notify.open(newline="") as handle:
        notified = list(csv.DictReader(handle))
    assert {row["customer_code"] for row in notified} == {row["customer_code"] for row in scope["customers"]}
    assert all(row["customer_contact_email"] for row in notified)
    with fsma.open(newline="") as handle:
        events = list(csv.DictReader(handle))
    shipped = {row["shipment_id"] + "/" + str(row["line_no"]) for row in scope["shipments"]}
    assert sum(
        row["event_type"] == "Shipping" and row["immediate_subsequent_recipient"] != "" for row in events
    ) >= len(shipped)
    assert {row["event_type"] for row in events} == {"Receiving", "Transformation", "Shipping"}
    backward = cli(
        "recall", example["lot_code"], "--backward", "--format", "json", "--warehouse", str(generated.warehouse)
    )
    assert json.loads(backward.stdout)["lots"][0]["supplier_lot_code"] == example["supplier_lot_code"]


def test_a_lot_that_does_not_exist_is_an_error(generated, cli):
    result = cli("recall", "NO-SUCH-LOT'", "--warehouse", str(generated.warehouse))
    assert result.returncode == 1
    assert "NO-SUCH-LOT'" in result.stderr and "not in the warehouse" in result.stderr


def test_the_resent_day_replaces_itself_and_its_corrections_win(generated, cli):
    resend = generated.manifest["resend"]
    day = resend["day"]
    for name in resend["files"]:
        shutil.copyfile(generated.landing / resend["folder"] / name, generated.landing / day / name)
    result = cli("ingest", "--warehouse", str(generated.warehouse), "--landing", str(generated.landing))
    assert result.returncode == 0, result.stdout + result.stderr
    reloaded_days = {line.split()[0] for line in result.stdout.splitlines() if line[:4].isdigit()}
    assert reloaded_days == {day}
    for change in resend["changes"]:
        feed = change["file"].removesuffix(".csv")
        where = " and ".join(f"{column} = ?" for column in change["key"])
        params = [int(v) if column == "line_no" else v for column, v in change["key"].items()]
        rows = (
            query(generated.warehouse, f"select quantity from raw.{feed} where {where}", params)
            if "corrected" in change
            else query(generated.warehouse, f"select count(*) from raw.{feed} where {where}", params)
        )
        if "corrected" in change:
            assert rows == [(float(change["corrected"]),)], change
        else:
            assert rows == [(0,)], change
    duplicates = query(generated.warehouse, "select count(*) - count(distinct lot_code) from raw.production")
    assert duplicates == [(0,)]


def test_planted_loops_are_reported_by_name_and_their_lots_still_trace(generated):
    loops = {loop["lot_code"] for loop in generated.manifest["genealogy_loops"]}
    assert loops
    rows = query(
        generated.warehouse,
        "select success, severity, sample_keys from quality_findings where expectation = 'genealogy.no_loops'",
    )
    success, severity, sample_keys = rows[0]
    assert (success, severity) == (False, "warning")
    assert loops <= set(json.loads(sample_keys))
    for lot in loops:  # findings warn; the data stays fully queryable
        traced = query(generated.warehouse, "select lot_code, depth from trace_forward(?)", [lot])
        assert (lot, 0) in traced and len(traced) > 1


def test_ingest_draws_the_dashboards_and_recall_writes_its_report(generated, cli, tmp_path):
    output = Path(os.environ["BATCHTRACK_OUTPUT"])
    index = (output / "index.html").read_text()
    for page in ("defect_trends.html", "expiry_waste.html", "data_quality.html"):
        assert page in index and (output / page).stat().st_size > 100_000
    lot = generated.manifest["recall_example"]["lot_code"]
    report = tmp_path / "recall.html"
    result = cli("recall", lot, "--report", str(report), "--warehouse", str(generated.warehouse))
    assert result.returncode == 0, result.stderr
    assert lot in report.read_text()
    redrawn = cli("reports", "--warehouse", str(generated.warehouse), "--output", str(tmp_path / "pages"))
    assert redrawn.returncode == 0, redrawn.stderr
    assert (tmp_path / "pages" / "index.html").exists()
