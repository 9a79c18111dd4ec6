"""Generated landing days through the real `batchtrack` commands: every row accounted
for, every planted fault quarantined where the generator put it, a re-send applied."""

from __future__ import annotations

import csv
import json
import os
import shutil
from datetime import timedelta
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


def test_the_loop_check_reads_the_mart_and_names_what_the_raw_edges_loop_through(generated):
    from quality_checks.cross_feed import genealogy_loop_checks, lots_on_loops

    with duckdb.connect(str(generated.warehouse), read_only=True) as con:
        (result,) = genealogy_loop_checks(con)
        edges = con.execute("select distinct input_lot_code, lot_code from raw.consumption").fetchall()
        mart_lots = {row[0] for row in con.execute("select lot_code from rpt_lot_genealogy_loops").fetchall()}
    assert not result.success
    assert set(result.sample_keys) == set(lots_on_loops(edges)) == mart_lots
    assert result.checked_count == len({lot for edge in edges for lot in edge})


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


# The first-expired-first-out rule asked the plain way: every shipment line against every
# stock position (the running sum of a lot's ledger at a site) of its site and product, of a
# lot expiring earlier with at least 40% of its shelf life left.
# Too slow for a large history, which is why the mart works from runs of usable stock, day by
# day and incrementally; on small data both must name the same lines, counts and stock.
FEFO_RULE_ASKED_DIRECTLY = """
with

lines as (
    select shipment_lines.shipment_id, shipment_lines.line_no, shipment_lines.lot_code,
        shipment_lines.product_code, shipment_lines.site_code, shipment_lines.shipped_at,
        shipment_lines.shipped_date, coalesce(lots.expiry_date, date '9999-12-31') as expiry_date
    from main.fct_shipment_lines as shipment_lines
    inner join main.dim_lots as lots on shipment_lines.lot_code = lots.lot_code
),

positions as (
    select ledger.lot_code, ledger.site_code, lots.product_code, lots.expiry_date, lots.made_or_received_date,
        ledger.moved_at as held_from,
        coalesce(ledger.next_moved_at, timestamp '9999-12-31') as held_until, ledger.quantity_after
    from (
        select lot_code, site_code, moved_at,
            sum(quantity_change) over (partition by lot_code, site_code order by moved_at, movement_key
                rows between unbounded preceding and current row) as quantity_after,
            lead(moved_at) over (partition by lot_code, site_code order by moved_at, movement_key) as next_moved_at
        from intermediate.int_stock_movements_unioned
    ) as ledger
    inner join main.dim_lots as lots on ledger.lot_code = lots.lot_code
    where ledger.quantity_after > 0 and lots.expiry_date is not null
)

select lines.shipment_id, lines.line_no, count(*), sum(positions.quantity_after)
from lines
inner join positions
    on lines.site_code = positions.site_code and lines.product_code = positions.product_code
    and positions.lot_code != lines.lot_code and positions.expiry_date < lines.expiry_date
    and positions.expiry_date - lines.shipped_date
        >= 0.4 * greatest(positions.expiry_date - positions.made_or_received_date, 0)
    and lines.shipped_at >= positions.held_from and lines.shipped_at < positions.held_until
where not coalesce((
    select holds.movement_type = 'hold' from staging.stg_raw__inventory_movements as holds
    where holds.lot_code = positions.lot_code and holds.movement_type in ('hold', 'release')
        and holds.moved_at <= lines.shipped_at
    order by holds.moved_at desc limit 1
), false)
group by all
"""


def test_a_picked_newer_lot_is_a_fefo_breach_and_the_mart_is_the_rule_asked_directly(generated, cli):
    """A day after the generated ones ships, at a site holding two sellable lots of a product,
    the one expiring later: the incremental run names that line a breach (the generator picks
    first-expired-first-out, so its own days may have none), and the mart holds exactly the
    lines, counts and stock the rule asked directly gives."""
    older, newer, site, product, as_of = query(
        generated.warehouse,
        """
        select older.lot_code, newer.lot_code, older.site_code, older.product_code, older.as_of_date
        from main.fct_stock_on_hand as older
        inner join main.fct_stock_on_hand as newer
            on older.site_code = newer.site_code and older.product_code = newer.product_code
            and older.expiry_date < newer.expiry_date
        where older.status = 'released' and newer.status = 'released' and newer.quantity_on_hand >= 1
            and older.expiry_date - older.as_of_date - 1
                >= 0.4 * (older.expiry_date - older.made_or_received_date) + 1
        order by older.site_code, older.product_code, older.lot_code, newer.lot_code
        limit 1
        """,
    )[0]
    customer = query(generated.warehouse, "select min(customer_code) from main.fct_shipment_lines")[0][0]
    day = as_of + timedelta(days=1)
    folder = generated.landing / day.isoformat()
    folder.mkdir()
    (folder / "shipments.csv").write_text(
        "shipment_id,line_no,lot_code,product_code,quantity,shipped_at,site_code,customer_code\n"
        f"SH-PICKED-NEWER,1,{newer},{product},1,{day}T10:00:00,{site},{customer}\n"
    )
    result = cli("ingest", "--warehouse", str(generated.warehouse), "--landing", str(generated.landing))
    assert result.returncode == 0, result.stdout + result.stderr
    planted = query(
        generated.warehouse,
        "select lot_code, earlier_expiring_lot_count > 0 from main.fct_fefo_breaches "
        "where shipment_id = 'SH-PICKED-NEWER'",
    )
    assert planted == [(newer, True)], (older, newer, site, product)
    breaches = query(
        generated.warehouse,
        "select shipment_id, line_no, earlier_expiring_lot_count, earlier_expiring_quantity_on_hand "
        "from main.fct_fefo_breaches",
    )
    assert sorted(breaches) == sorted(query(generated.warehouse, FEFO_RULE_ASKED_DIRECTLY))
