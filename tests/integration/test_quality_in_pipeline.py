"""Quality checks inside real runs: a structural break blocks the models, data findings
only warn, planted faults are caught by name, and clean data passes everything."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import duckdb

from batchtrack.generator import generate
from batchtrack.settings import Settings
from pipelines.ingest_run import run_ingest
from quality_checks import run_changed_day_checks, run_quality_checks
from tests.integration.test_pipeline import PRODUCTION, ingest, sha256, small_landing


def test_a_schema_break_in_the_raw_layer_blocks_the_models_and_publishing(tmp_path, dbt_manifest):
    landing = small_landing(tmp_path / "landing", days=2)
    warehouse = tmp_path / "warehouse.duckdb"
    assert ingest(warehouse, landing).data_loaded
    with duckdb.connect(str(warehouse)) as con:  # someone "fixes" a quantity by hand
        con.execute("alter table raw.production alter column quantity type varchar")
        con.execute("update raw.production set quantity = 'about 100'")
    before = sha256(warehouse)
    (landing / "2026-06-07").mkdir()
    (landing / "2026-06-07" / "production.csv").write_text(PRODUCTION + "B7,FIN-BREAD,P1,L1,2026-06-07T06:00:00,7\n")

    report = run_ingest(Settings.from_env(warehouse=warehouse, landing=landing, output=tmp_path / "out"))

    assert not report.success
    assert "raw/production: contract_schema" in report.failure
    assert sha256(warehouse) == before  # nothing published
    work = tmp_path / ".warehouse.duckdb.work"
    assert not (work / "dbt_target").exists()  # dbt never ran on the broken layer


def test_clean_generated_days_pass_every_check(tmp_path, cli):
    landing, warehouse = tmp_path / "landing", tmp_path / "warehouse.duckdb"
    generate(landing, days=3, seed=11, scale="small", bad_row_rate=0)
    resend = json.loads((landing / "_generator.json").read_text())["resend"]
    for name in resend["files"]:  # the first delivery of that day carries a planted mistake
        shutil.copyfile(landing / resend["folder"] / name, landing / resend["day"] / name)
    assert cli("ingest", "--warehouse", str(warehouse), "--landing", str(landing)).returncode == 0
    result = cli("quality", "--warehouse", str(warehouse))
    assert result.returncode == 0, result.stdout
    assert "0 errors, 0 warnings" in result.stdout
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("select count(*) from quarantine").fetchone()[0] == 0
        assert con.execute("select bool_and(success) from quality_findings").fetchone()[0] is True


def test_a_late_reference_is_named_while_it_is_unresolved(tmp_path, dbt_manifest):
    full = tmp_path / "full"
    generate(full, days=8, seed=11, scale="small", bad_row_rate=0)
    late = json.loads((full / "_generator.json").read_text())["late_references"][0]
    # Deliver the days up to the one that consumes the lot, not the later one that receives it.
    landing = tmp_path / "landing"
    for day in sorted(p.name for p in full.iterdir() if p.name[:2] == "20"):
        if day <= late["first_consumed_in"]:
            shutil.copytree(full / day, landing / day)
    warehouse = tmp_path / "warehouse.duckdb"
    assert ingest(warehouse, landing).data_loaded
    with duckdb.connect(str(warehouse), read_only=True) as con:
        results = {result.expectation: result for result in run_quality_checks(con)}
    finding = results["consumption.input_lot_known_within_grace"]
    assert not finding.success and finding.severity == "warning"
    assert any(key.startswith(late["lot_code"]) for key in finding.sample_keys)


def test_a_rejected_file_is_an_error_of_the_quality_command(tmp_path, cli):
    landing = small_landing(tmp_path / "landing", days=2)
    (landing / "2026-06-02" / "shipments.csv").write_text("shipment_id,line_no,lot_code\nS9,1,B1\n")
    warehouse = tmp_path / "warehouse.duckdb"
    report = ingest(warehouse, landing)
    assert report.published and not report.data_loaded
    result = cli("quality", "--warehouse", str(warehouse))
    assert result.returncode == 1
    assert "ERROR   landing.files_accepted" in result.stdout
    assert "2026-06-02/shipments.csv" in result.stdout
    assert "landing.no_rows_quarantined" in result.stdout  # the unparseable quantities of small_landing


def test_a_session_that_wrote_into_the_published_file_stops_the_run_instead_of_losing_its_changes(
    tmp_path, dbt_manifest
):
    landing = small_landing(tmp_path / "landing", days=1)
    warehouse = tmp_path / "warehouse.duckdb"
    assert ingest(warehouse, landing).data_loaded
    (landing / "2026-06-05").mkdir()
    (landing / "2026-06-05" / "production.csv").write_text(PRODUCTION + "B5,FIN-BREAD,P1,L1,2026-06-05T06:00:00,7\n")
    # A session writes into the published file and keeps it open: its change sits in the WAL.
    session = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
            "c.execute('create table notes as select 1 as n'); print('ready', flush=True); time.sleep(60)",
            str(warehouse),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert session.stdout.readline().strip() == "ready"
        assert Path(str(warehouse) + ".wal").exists()
        blocked = ingest(warehouse, landing)
        assert not blocked.published
        assert "holds it open read-write" in blocked.failure
    finally:
        session.kill()
        session.wait()
    # Once that session is gone its change is folded in, and the run goes through.
    report = ingest(warehouse, landing)
    assert report.data_loaded
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("select count(*) from notes").fetchone()[0] == 1
        assert con.execute("select count(*) from raw.production").fetchone()[0] == 2


def test_a_daily_run_checks_the_new_day_and_the_latest_findings_keep_the_earlier_days(tmp_path, cli):
    landing = small_landing(tmp_path / "landing", days=2)  # every day has one quarantined row
    warehouse = tmp_path / "warehouse.duckdb"
    settings = Settings.from_env(warehouse=warehouse, landing=landing, output=tmp_path / "out")
    assert run_ingest(settings).success
    dbt_log = tmp_path / "out" / "logs" / "ingest.log"
    assert "Unable to do partial parsing" in dbt_log.read_text()  # a warehouse's first build parses in full
    (landing / "2026-06-03").mkdir()
    (landing / "2026-06-03" / "production.csv").write_text(PRODUCTION + "B3,FIN-BREAD,P1,L1,2026-06-03T06:00:00,9\n")
    assert run_ingest(settings).success
    # The daily run's dbt starts from the state of the warehouse's last parse.
    assert re.search(r"Found \d+ models", dbt_log.read_text())
    assert "Unable to do partial parsing" not in dbt_log.read_text()
    # and builds the models and their data tests, not dbt's unit tests (make test runs those)
    assert re.search(r"Finished running .* data tests", dbt_log.read_text())
    assert not re.search(r"Finished running .*unit test", dbt_log.read_text())

    with duckdb.connect(str(warehouse), read_only=True) as con:
        first, second = (
            row[0] for row in con.execute("select run_id from quality_runs order by run_number").fetchall()
        )
        days_checked = """
            select distinct landing_date from quality_findings
            where run_id = ? and expectation = 'landing.no_rows_quarantined' order by 1
        """
        assert [row[0].isoformat() for row in con.execute(days_checked, [first]).fetchall()] == [
            "2026-06-01",
            "2026-06-02",
        ]
        assert [row[0].isoformat() for row in con.execute(days_checked, [second]).fetchall()] == ["2026-06-03"]
    result = cli("quality", "--warehouse", str(warehouse))
    assert "WARNING landing.no_rows_quarantined [2 days: 2026-06-01, 2026-06-02]: 2 rows" in result.stdout

    # The first day re-sent without its bad row: checked again, and its finding goes.
    (landing / "2026-06-01" / "production.csv").write_text(PRODUCTION + "B0,FIN-BREAD,P1,L1,2026-06-01T06:00:00,100\n")
    assert run_ingest(settings).success
    result = cli("quality", "--warehouse", str(warehouse))
    assert "WARNING landing.no_rows_quarantined [2026-06-02]: 1 row" in result.stdout


FINDING_COLUMNS = "expectation, landing_date, suite, severity, success, failing_count, sample_keys, description"


def validation_times(data_docs: Path) -> dict[str, list[datetime]]:
    """When Great Expectations loaded the batch of each validation page of the Data Docs, by suite:
    one page, and one load, per computation of a suite."""
    times: dict[str, list[datetime]] = {}
    for page in sorted((data_docs / "validations").glob("*.html")):
        suite = page.stem.split("_", 1)[1]
        loaded = re.search(r"ge_load_time.*?(\d{8}T\d{6}\.\d{6})Z", page.read_text(), re.DOTALL).group(1)
        times.setdefault(suite, []).append(datetime.strptime(loaded, "%Y%m%dT%H%M%S.%f").replace(tzinfo=UTC))
    return times


def test_each_check_of_a_run_is_computed_once_and_recorded_as_a_plain_daily_run_finds_it(
    tmp_path, dbt_manifest, monkeypatch
):
    """The asset checks compute the schema, row, reference, timeline, loop and balance checks; the
    quality asset records their results and computes only the landing and volume checks. What it
    records is what the checks computed from scratch on the same warehouse find."""
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))  # keep the runs' event logs
    (tmp_path / "dagster_home").mkdir()
    full, landing = tmp_path / "full", tmp_path / "landing"
    generate(full, days=4, seed=5, scale="small")  # with bad rows, so checks fail
    days = sorted(path.name for path in full.iterdir() if path.name[:2] == "20")
    warehouse = tmp_path / "warehouse.duckdb"
    for run_days in (days[:3], days[3:]):  # the first run checks every day, the second a daily run
        for day in run_days:
            shutil.copytree(full / day, landing / day)
        output = tmp_path / f"out-{run_days[0]}"
        assert run_ingest(Settings.from_env(warehouse=warehouse, landing=landing, output=output)).success

        with dg.DagsterInstance.get() as instance:
            (run,) = instance.get_runs(limit=1)
            quality_started = next(
                datetime.fromtimestamp(entry.timestamp, UTC)
                for entry in instance.all_logs(run.run_id, of_type=dg.DagsterEventType.STEP_START)
                if entry.step_key == "quality__findings"
            )
        times = validation_times(output / "quality" / "data_docs")
        computed_by_quality_asset = {suite for suite, loads in times.items() if max(loads) > quality_started}
        assert computed_by_quality_asset == {"landing", "volume"}
        assert {"raw.shipments", "raw.shipments.keys", "references", "timeline", "genealogy", "marts"} <= set(times)

        # The same findings as the checks computed from scratch, on the warehouse before this record.
        before_record = tmp_path / "before_record.duckdb"
        shutil.copyfile(warehouse, before_record)
        with duckdb.connect(str(before_record)) as con:
            run_id = con.execute("select run_id from quality_runs order by run_number desc limit 1").fetchone()[0]
            assert run_id == run.run_id
            recorded = con.execute(
                f"select {FINDING_COLUMNS} from quality_findings where run_id = ?", [run_id]
            ).fetchall()
            con.execute("delete from quality_findings where run_id = ?", [run_id])
            con.execute("delete from quality_runs where run_id = ?", [run_id])
            from_scratch = run_changed_day_checks(con).results
        assert sorted(recorded, key=str) == sorted(
            (
                (r.expectation, r.landing_date, r.suite, r.severity, r.success, r.failing_count)
                + (json.dumps(list(r.sample_keys)), r.description)
                for r in from_scratch
            ),
            key=str,
        )
        assert any(not row[4] for row in recorded)
