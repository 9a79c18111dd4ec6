"""Incremental dbt builds give the same warehouse as one build of everything.

The hand-built network of test_dbt_warehouse is loaded in steps, with a build after each: its
first days; then the later days and the re-sends of earlier days (which change which delivery
of a key wins); then a re-send of 2026-03-06 without its inspection I-3, so the earlier
delivery of I-3 (2026-03-05) wins again, and of 2026-03-04 with lot K1 made at another site
(which moves the consumptions into K1 to that site in the stock ledger of K1's inputs). Every table dbt made must equal, row for row, what
one build of the same final data makes.

Two more days add a first-expired-first-out breach at site P4 (lot FEFO-NEW shipped twice while
FEFO-OLD, expiring earlier, is on the shelf); the last step delivers, late, a scrap of FEFO-OLD
between the two shipments, so the later shipment is no breach any more: an incremental build
must re-check a line it had already judged. Before that, the products are delivered again
unchanged, which rebuilds every lot (and re-judges every line) in an incremental build.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from batchtrack.warehouse_schema import ensure_ingest_schema
from tests.integration.test_dbt_warehouse import (
    NETWORK,
    _movement,
    _production,
    _shipment,
    load_feed_day,
    run_dbt,
    write_network,
)

SCHEMAS = ("staging", "intermediate", "main")
# Run bookkeeping, not data: when each model last caught up, and what changed when.
NOT_DATA = {
    ("intermediate", "incremental_watermarks"),
    ("intermediate", "lot_changes"),
    ("intermediate", "int_changed_lots"),
    ("intermediate", "stock_run_changes"),
}


def _tables(path: Path) -> dict[tuple[str, str], list[tuple]]:
    with duckdb.connect(str(path), read_only=True) as con:
        names = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_catalog = current_database() and table_type = 'BASE TABLE' "
            f"and table_schema in {SCHEMAS} order by all"
        ).fetchall()
        return {
            (schema, table): sorted(
                con.execute(f'select * from "{schema}"."{table}"').fetchall(), key=lambda row: repr(row)
            )
            for schema, table in names
            if (schema, table) not in NOT_DATA
        }


def _fefo_days(path: Path) -> None:
    with duckdb.connect(str(path)) as con:
        ensure_ingest_schema(con)
        load_feed_day(
            con,
            "2026-03-11",
            "production",
            [
                # 5 days of shelf life: sellable (40% left) until 2026-03-14
                _production("FEFO-OLD", "FIN-CAKE", "P4", "L1", "2026-03-11T06:00:00", 100, expiry_date="2026-03-16"),
                _production("FEFO-NEW", "FIN-CAKE", "P4", "L1", "2026-03-11T08:00:00", 100, expiry_date="2026-03-18"),
            ],
        )
        load_feed_day(
            con,
            "2026-03-11",
            "shipments",
            [_shipment("SHF", 1, "FEFO-NEW", "FIN-CAKE", 10, "2026-03-11T12:00:00", "P4", "C1")],
        )
        load_feed_day(
            con,
            "2026-03-12",
            "shipments",
            [_shipment("SHF", 2, "FEFO-NEW", "FIN-CAKE", 10, "2026-03-12T10:00:00", "P4", "C1")],
        )


def _products_resent(path: Path) -> None:
    """The products delivered again, unchanged: every lot is rebuilt, every line re-judged."""
    with duckdb.connect(str(path)) as con:
        load_feed_day(con, "2026-03-01", "products", NETWORK["2026-03-01"]["products"])


def _last_resends(path: Path) -> None:
    k1_moved = [{**NETWORK["2026-03-04"]["production"][0], "site_code": "P3"}]
    with duckdb.connect(str(path)) as con:
        ensure_ingest_schema(con)
        load_feed_day(con, "2026-03-06", "inspections", [])
        load_feed_day(con, "2026-03-04", "production", k1_moved)
        # delivered late: FEFO-OLD left the shelf before the second shipment of FEFO-NEW
        load_feed_day(
            con,
            "2026-03-12",
            "inventory",
            [_movement("MF1", "FEFO-OLD", "FIN-CAKE", "P4", "scrap", 100, "2026-03-12T09:00:00")],
        )


def _build(tmp: Path, warehouse: Path) -> None:
    result = run_dbt(tmp, warehouse, "run")
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]


@pytest.fixture(scope="module")
def warehouses(tmp_path_factory) -> tuple[Path, Path]:
    tmp = tmp_path_factory.mktemp("incremental")
    days = list(NETWORK)
    stepwise = tmp / "stepwise.duckdb"
    write_network(stepwise, days[:4], resends=False)
    _build(tmp, stepwise)
    write_network(stepwise, days[4:])
    _fefo_days(stepwise)
    _build(tmp, stepwise)
    with duckdb.connect(str(stepwise), read_only=True) as con:
        judged = con.execute(
            "select shipment_id, line_no from main.fct_fefo_breaches where shipment_id = 'SHF' order by all"
        ).fetchall()
    assert judged == [("SHF", 1), ("SHF", 2)]
    _products_resent(stepwise)
    _build(tmp, stepwise)
    _last_resends(stepwise)
    _build(tmp, stepwise)
    whole = tmp / "whole.duckdb"
    write_network(whole)
    _fefo_days(whole)
    _last_resends(whole)
    _build(tmp, whole)
    return stepwise, whole


def test_an_incremental_build_equals_a_build_of_everything(warehouses):
    stepwise, whole = _tables(warehouses[0]), _tables(warehouses[1])
    assert sorted(stepwise) == sorted(whole)
    assert [row[:2] for row in whole[("main", "fct_fefo_breaches")] if row[0] == "SHF"] == [("SHF", 1)]
    differing = [name for name in whole if stepwise[name] != whole[name]]
    assert not differing, f"tables that differ after the incremental build: {differing}"


def test_the_last_build_rebuilt_only_the_lots_it_touched(warehouses):
    """The last re-sends change lots K1 and FEFO-OLD alone: the last build rebuilt them and the
    lots consumed into K1 (their consumption rows carry K1's site), nothing else."""
    with duckdb.connect(str(warehouses[0]), read_only=True) as con:
        last_build = con.execute(
            "select list(lot_code order by lot_code) from intermediate.int_changed_lots "
            "where changed_at = (select max(changed_at) from intermediate.int_changed_lots)"
        ).fetchone()[0]
        staged = con.execute(
            "select watermark from intermediate.incremental_watermarks where model_name = 'stg_raw__inspections'"
        ).fetchone()[0]
        inspections_changed = con.execute(
            "select max(changed_at) from ingest.feed_day_changes where feed = 'inspections'"
        ).fetchone()[0]
    assert last_build == ["D2", "FEFO-OLD", "GHOST", "K1", "SG1"]
    assert staged == inspections_changed
