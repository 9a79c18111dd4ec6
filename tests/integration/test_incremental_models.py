"""Incremental dbt builds give the same warehouse as one build of everything.

The hand-built network of test_dbt_warehouse is loaded in steps, with a build after each: its
first days; then the later days and the re-sends of earlier days (which change which delivery
of a key wins); then a re-send of 2026-03-06 without its inspection I-3, so the earlier
delivery of I-3 (2026-03-05) wins again, and of 2026-03-04 with lot K1 made at another site
(which moves the consumptions into K1 to that site in the stock ledger of K1's inputs). Every table dbt made must equal, row for row, what
one build of the same final data makes.

Two more days add a first-expired-first-out breach at site P4 (lot FEFO-NEW shipped twice while
FEFO-OLD, expiring earlier, is on the shelf). Incremental builds must re-judge lines they had
already judged, though the line's own lot (FEFO-NEW) did not change. The products are
delivered again unchanged, which rebuilds every lot (and re-judges every line); then raw lot
F2's supplier lot number is corrected, which changes the supplier attribution of the defects
of B2 and K1, made from F2 two steps down, and FEFO-OLD's expiry date, which the breaches
name; then an adjustment of FEFO-OLD before the first shipment, which changes the stock the
breaches name but not when FEFO-OLD was on the shelf; the last step delivers, late, a scrap of
FEFO-OLD between the two shipments, so the later shipment is no breach any more.
"""

from __future__ import annotations

import shutil
from datetime import date
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
    ("intermediate", "lot_stock_changes"),
    ("intermediate", "mart_appends"),
    ("intermediate", "test_scope"),
    # Lot ids are handed out once per lot, build by build, so the stepwise build numbers the
    # lots differently from one build of everything; the id columns are compared as the lot
    # codes they stand for, through each warehouse's own register.
    ("intermediate", "int_lot_ids_assigned"),
}
# Suppliers are numbered once too, in the order builds first see them, so the supplier sets
# are compared as the (lot, supplier) pairs they stand for, and the register as its suppliers.
DECODED = {
    ("main", "rpt_supplier_bits"): "select supplier_code from main.rpt_supplier_bits",
    ("main", "rpt_lot_supplier_sets"): """
        select ids.lot_code, bits.supplier_code
        from main.rpt_lot_supplier_sets as sets
        inner join intermediate.int_lot_ids_assigned as ids on sets.lot_id = ids.lot_id
        inner join main.rpt_supplier_bits as bits
            on sets.word = bits.word and sets.supplier_set & bits.supplier_bit != 0
    """,
}


def _as_codes(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> str:
    """A select of the table with every lot id column replaced by the lot's code."""
    columns = [
        name
        for (name,) in con.execute(
            "select column_name from information_schema.columns "
            "where table_schema = ? and table_name = ? order by ordinal_position",
            [schema, table],
        ).fetchall()
    ]
    selected = [
        f'(select lot_code from intermediate.int_lot_ids_assigned as ids where ids.lot_id = t."{name}") as "{name}"'
        if name.endswith("lot_id")
        else f't."{name}"'
        for name in columns
    ]
    return f'select {", ".join(selected)} from "{schema}"."{table}" as t'


def _tables(path: Path) -> dict[tuple[str, str], list[tuple]]:
    with duckdb.connect(str(path), read_only=True) as con:
        names = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_catalog = current_database() and table_type = 'BASE TABLE' "
            f"and table_schema in {SCHEMAS} order by all"
        ).fetchall()
        return {
            (schema, table): sorted(
                con.execute(DECODED.get((schema, table)) or _as_codes(con, schema, table)).fetchall(),
                key=lambda row: repr(row),
            )
            for schema, table in names
            if (schema, table) not in NOT_DATA
        }


def _fefo_old(expiry_date: str) -> dict:
    return _production("FEFO-OLD", "FIN-CAKE", "P4", "L1", "2026-03-10T18:00:00", 100, expiry_date=expiry_date)


def _fefo_days(path: Path) -> None:
    with duckdb.connect(str(path)) as con:
        ensure_ingest_schema(con)
        # 5 days of shelf life: sellable (40% left) until 2026-03-13 (at 6 days, corrected, too)
        load_feed_day(con, "2026-03-10", "production", [_fefo_old(expiry_date="2026-03-15")])
        load_feed_day(
            con,
            "2026-03-11",
            "production",
            [_production("FEFO-NEW", "FIN-CAKE", "P4", "L1", "2026-03-11T08:00:00", 100, expiry_date="2026-03-18")],
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


def _quiet_lot(path: Path) -> None:
    """A lot made before the network, at a site of its own, that nothing touches again."""
    with duckdb.connect(str(path)) as con:
        ensure_ingest_schema(con)
        load_feed_day(
            con,
            "2026-02-28",
            "production",
            [_production("QUIET", "FIN-BREAD", "P9", "L1", "2026-02-28T08:00:00", 50, expiry_date="2026-03-13")],
        )


def _later_day(path: Path) -> None:
    """A day after the others, with one lot of its own: the as-of day moves past QUIET's expiry."""
    with duckdb.connect(str(path)) as con:
        load_feed_day(
            con, "2026-03-14", "production", [_production("LATER", "FIN-BREAD", "P9", "L1", "2026-03-14T08:00:00", 5)]
        )


def _products_resent(path: Path) -> None:
    """The products delivered again, unchanged: every lot is rebuilt, every line re-judged."""
    with duckdb.connect(str(path)) as con:
        load_feed_day(con, "2026-03-01", "products", NETWORK["2026-03-01"]["products"])


def _supplier_lot_corrected(path: Path) -> None:
    """The receipts of 2026-03-01 again, with F2's supplier lot number corrected: F2 has no
    defects of its own, but the defects of B2 and K1, made from it two steps down, are
    attributed to its supplier lot, so their attribution rows must change too."""
    receipts = [
        {**row, "supplier_lot_code": "M-78B"} if row["lot_code"] == "F2" else row
        for row in NETWORK["2026-03-01"]["inventory"]
    ]
    with duckdb.connect(str(path)) as con:
        load_feed_day(con, "2026-03-01", "inventory", receipts)


def _fefo_old_expiry_corrected(path: Path) -> None:
    """FEFO-OLD's production day again, expiring a day later (still before FEFO-NEW): the
    breaches of FEFO-NEW's lines change, though FEFO-NEW did not."""
    with duckdb.connect(str(path)) as con:
        load_feed_day(con, "2026-03-10", "production", [_fefo_old(expiry_date="2026-03-16")])


def _fefo_old_adjusted(path: Path) -> None:
    """Delivered late: 30 of FEFO-OLD were missing before the first shipment of FEFO-NEW. It
    stays on the shelf, with less stock: the breaches name the stock left."""
    with duckdb.connect(str(path)) as con:
        load_feed_day(
            con,
            "2026-03-11",
            "inventory",
            [_movement("MF0", "FEFO-OLD", "FIN-CAKE", "P4", "adjustment", -30, "2026-03-11T10:00:00")],
        )


def _last_resends(path: Path) -> None:
    k1_moved = [{**NETWORK["2026-03-04"]["production"][0], "site_code": "P3"}]
    with duckdb.connect(str(path)) as con:
        ensure_ingest_schema(con)
        load_feed_day(con, "2026-03-06", "inspections", [])
        load_feed_day(con, "2026-03-04", "production", k1_moved)
        # delivered late: the 70 left of FEFO-OLD left the shelf before the second shipment
        load_feed_day(
            con,
            "2026-03-12",
            "inventory",
            [_movement("MF1", "FEFO-OLD", "FIN-CAKE", "P4", "scrap", 70, "2026-03-12T09:00:00")],
        )


def _build(tmp: Path, warehouse: Path, *args: str) -> None:
    result = run_dbt(tmp, warehouse, "run", *args)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]


@pytest.fixture(scope="module")
def warehouses(tmp_path_factory) -> tuple[Path, Path]:
    tmp = tmp_path_factory.mktemp("incremental")
    days = list(NETWORK)
    stepwise = tmp / "stepwise.duckdb"
    write_network(stepwise, days[:4], resends=False)
    _quiet_lot(stepwise)
    _build(tmp, stepwise)
    write_network(stepwise, days[4:])
    _fefo_days(stepwise)
    # this build leaves its appended rows where they are: a later build must sort them
    _build(tmp, stepwise, "--vars", "{resort_after_appended_share: 1000}")
    with duckdb.connect(str(stepwise), read_only=True) as con:
        judged = con.execute(
            "select shipment_id, line_no from main.fct_fefo_breaches where shipment_id = 'SHF' order by all"
        ).fetchall()
        unsorted = dict(con.execute("select model_name, appended_rows from intermediate.mart_appends").fetchall())
    assert judged == [("SHF", 1), ("SHF", 2)]
    assert unsorted["fct_lot_genealogy"] > 0 and unsorted["fct_shipment_lines"] > 0
    assert unsorted["fct_lot_genealogy_lot_keys"] > 0
    _products_resent(stepwise)
    _build(tmp, stepwise)
    _supplier_lot_corrected(stepwise)
    _fefo_old_expiry_corrected(stepwise)
    _build(tmp, stepwise)
    with duckdb.connect(str(stepwise), read_only=True) as con:
        rejudged = con.execute(
            "select line_no, first_expiring_expiry_date from main.fct_fefo_breaches where shipment_id = 'SHF' "
            "order by all"
        ).fetchall()
    assert rejudged == [(1, date(2026, 3, 16)), (2, date(2026, 3, 16))]
    _fefo_old_adjusted(stepwise)
    _later_day(stepwise)
    quiet = "select current_status, as_of_date from main.dim_lots where lot_code = 'QUIET'"
    with duckdb.connect(str(stepwise), read_only=True) as con:
        assert con.execute(quiet).fetchall() == [("released", date(2026, 3, 12))]
    _build(tmp, stepwise)
    with duckdb.connect(str(stepwise), read_only=True) as con:
        # QUIET did not change, but the as-of day passed its expiry
        assert con.execute(quiet).fetchall() == [("expired", date(2026, 3, 14))]
        assert con.execute("select count(distinct as_of_date) from main.dim_lots").fetchone()[0] == 1
    _last_resends(stepwise)
    _build(tmp, stepwise)
    whole = tmp / "whole.duckdb"
    write_network(whole)
    _quiet_lot(whole)
    _fefo_days(whole)
    _supplier_lot_corrected(whole)
    _fefo_old_expiry_corrected(whole)
    _fefo_old_adjusted(whole)
    _later_day(whole)
    _last_resends(whole)
    _build(tmp, whole)
    return stepwise, whole


def test_an_incremental_build_equals_a_build_of_everything(warehouses):
    stepwise, whole = _tables(warehouses[0]), _tables(warehouses[1])
    assert sorted(stepwise) == sorted(whole)
    breaches = [row for row in whole[("main", "fct_fefo_breaches")] if row[0] == "SHF"]
    assert [row[:2] for row in breaches] == [("SHF", 1)]
    # FEFO-OLD, with its corrected expiry date and the 70 left of it after the adjustment
    assert [row[-3:] for row in breaches] == [("FEFO-OLD", date(2026, 3, 16), 70)]
    corrected = {row[5] for row in whole[("main", "fct_supplier_defect_attribution")] if row[6] == "F2"}
    assert corrected == {"M-78B"}
    assert len(whole[("main", "rpt_lot_supplier_sets")]) > len(whole[("main", "rpt_supplier_bits")]) > 1
    differing = [name for name in whole if stepwise[name] != whole[name]]
    assert not differing, f"tables that differ after the incremental build: {differing}"


SORTED_MARTS = {
    "dim_lots": "lot_id",
    "fct_lot_genealogy": "input_lot_id, output_lot_id",
    "fct_lot_genealogy_by_output": "output_lot_id, input_lot_id",
    "fct_lot_genealogy_lot_keys": "lot_code_key, lot_code",
    "fct_shipment_lines": "lot_id, shipment_id, line_no",
    "fct_inspection_defects": "lot_id, check_code, inspected_date",
}


@pytest.mark.parametrize("mart", SORTED_MARTS)
def test_the_lot_keyed_marts_end_sorted(warehouses, mart):
    """The recall macros rely on the marts' physical order (zone maps): after appending the
    changed lots' rows, a build sorts a mart again once enough of it is out of order."""
    order = SORTED_MARTS[mart]
    with duckdb.connect(str(warehouses[0]), read_only=True) as con:
        stored = con.execute(f"select {order} from main.{mart} order by rowid").fetchall()
        appended = con.execute("select appended_rows from intermediate.mart_appends where model_name = ?", [mart])
        assert appended.fetchone() == (0,)
    assert len(stored) > 1
    assert stored == sorted(stored, key=lambda row: tuple((value is None, value) for value in row))


def test_the_last_build_rebuilt_only_the_lots_it_touched(warehouses):
    """The last re-sends change lots K1 and FEFO-OLD alone: the last build rebuilt them and the
    lots consumed into K1 (their consumption rows carry K1's site), nothing else."""
    with duckdb.connect(str(warehouses[0]), read_only=True) as con:
        last_build, max_changed_at = con.execute(
            "select list(lot_code order by lot_code), any_value(changed_at) from intermediate.int_changed_lots "
            "where changed_at = (select max(changed_at) from intermediate.int_changed_lots)"
        ).fetchone()
        staged = con.execute(
            "select watermark from intermediate.incremental_watermarks where model_name = 'stg_raw__inspections'"
        ).fetchone()[0]
        inspections_changed = con.execute(
            "select max(changed_at) from ingest.feed_day_changes where feed = 'inspections'"
        ).fetchone()[0]
        breaches_caught_up = con.execute(
            "select watermark from intermediate.incremental_watermarks where model_name = 'fct_fefo_breaches'"
        ).fetchone()[0]
        unread = con.execute(
            "select (select count(*) from intermediate.stock_run_changes) "
            "+ (select count(*) from intermediate.lot_stock_changes)"
        ).fetchone()[0]
    assert last_build == ["D2", "FEFO-OLD", "GHOST", "K1", "SG1"]
    assert staged == inspections_changed
    # the breaches read the last build's change logs, moved past them and pruned them
    assert breaches_caught_up > max_changed_at and unread == 0


# The lots the last build of the stepwise warehouse stamped.
LAST_BUILD_LOTS = (
    "select lot_code from intermediate.int_changed_lots "
    "where changed_at = (select max(changed_at) from intermediate.int_changed_lots)"
)


def _duplicate_a_movement(warehouse: Path, *, of_last_build: bool) -> str:
    """Insert a second copy of one stock-ledger row, of a lot the last build rebuilt or not."""
    with duckdb.connect(str(warehouse)) as con:
        lot_code = con.execute(
            "select min(lot_code) from intermediate.int_stock_movements_unioned "
            f"where lot_code {'in' if of_last_build else 'not in'} ({LAST_BUILD_LOTS})"
        ).fetchone()[0]
        con.execute(
            "insert into intermediate.int_stock_movements_unioned "
            "select * from intermediate.int_stock_movements_unioned where lot_code = ? limit 1",
            [lot_code],
        )
    return lot_code


def _data_test(tmp: Path, warehouse: Path, test: str, *args: str, command: str = "test") -> str:
    """`dbt test` (or `command`) of the one data test `test`: "pass" or "fail"."""
    result = run_dbt(tmp, warehouse, command, "--select", test, *args)
    assert "Nothing to do" not in result.stdout, result.stdout[-3000:]
    return "fail" if result.returncode else "pass"


def _unique_movement_key_test(tmp: Path, warehouse: Path, *args: str, command: str = "test") -> str:
    return _data_test(tmp, warehouse, "unique_int_stock_movements_unioned_movement_key", *args, command=command)


def test_a_build_tests_the_rows_of_the_lots_it_rebuilt(warehouses, tmp_path):
    """The scoped data tests (where: __changed_lots__(...)) see every row of the lots the last
    build stamped, duplicates included, and only those; --vars test_everything sees all."""
    rebuilt = tmp_path / "rebuilt.duckdb"
    shutil.copy(warehouses[0], rebuilt)
    assert _duplicate_a_movement(rebuilt, of_last_build=True) in {"D2", "FEFO-OLD", "GHOST", "K1", "SG1"}
    assert _unique_movement_key_test(tmp_path, rebuilt) == "fail"

    untouched = tmp_path / "untouched.duckdb"
    shutil.copy(warehouses[0], untouched)
    _duplicate_a_movement(untouched, of_last_build=False)
    assert _unique_movement_key_test(tmp_path, untouched) == "pass"
    assert _unique_movement_key_test(tmp_path, untouched, "--vars", "{test_everything: true}") == "fail"


def test_the_lots_of_a_build_that_failed_its_tests_stay_in_scope(warehouses, tmp_path):
    """A build whose tests fail is not published, but its models' watermarks have moved on; the
    next build still tests its lots, and so does every build after it until one passes."""
    warehouse = tmp_path / "failed.duckdb"
    shutil.copy(warehouses[0], warehouse)
    _duplicate_a_movement(warehouse, of_last_build=True)
    with duckdb.connect(str(warehouse)) as con:
        # (the fixture builds with `dbt run`, which tests nothing and so records no passed build)
        assert con.execute("select count(*) from intermediate.tests_passed").fetchone()[0] == 0
        # as if the last build had failed its tests: the last build that passed ended before it
        con.execute(
            "insert into intermediate.tests_passed "
            "select min(changed_at) - interval 1 second from intermediate.int_changed_lots"
        )

    def build() -> str:
        return _unique_movement_key_test(tmp_path, warehouse, command="build")

    assert build() == "fail"
    assert build() == "fail"  # the failed build did not move the point its successors test from
    with duckdb.connect(str(warehouse)) as con:
        con.execute(
            "create or replace table intermediate.int_stock_movements_unioned as "
            "select distinct * from intermediate.int_stock_movements_unioned"
        )
        failed_through = con.execute("select through from intermediate.tests_passed").fetchone()[0]
    assert build() == "pass"
    with duckdb.connect(str(warehouse)) as con:
        assert con.execute("select through from intermediate.tests_passed").fetchone()[0] > failed_through


def _duplicate_an_edge(warehouse: Path, *, of_last_build: bool) -> str:
    """Insert a second copy of one fct_lot_genealogy_by_output row (keyed by lot ids), whose
    output lot the last build rebuilt or not; returns that lot's code."""
    with duckdb.connect(str(warehouse)) as con:
        ids = "select lot_id from intermediate.int_lot_ids_assigned"
        output_lot_id, input_lot_id = con.execute(
            "select output_lot_id, input_lot_id from main.fct_lot_genealogy_by_output "
            f"where output_lot_id {'in' if of_last_build else 'not in'} ({ids} where lot_code in ({LAST_BUILD_LOTS})) "
            f"and input_lot_id not in ({ids} where lot_code in ({LAST_BUILD_LOTS})) "
            "order by all limit 1"
        ).fetchone()
        con.execute(
            "insert into main.fct_lot_genealogy_by_output select * from main.fct_lot_genealogy_by_output "
            "where output_lot_id = ? and input_lot_id = ?",
            [output_lot_id, input_lot_id],
        )
        return con.execute(
            "select lot_code from intermediate.int_lot_ids_assigned where lot_id = ?", [output_lot_id]
        ).fetchone()[0]


def test_a_test_scoped_by_lot_ids_sees_the_rows_of_the_lots_the_build_rebuilt(warehouses, tmp_path):
    """where: __changed_lot_ids__(...) scopes a test of a table keyed by lot ids the same way."""
    test = "unique_combination_of_columns_fct_lot_genealogy_by_output_output_lot_id__input_lot_id"

    def outcome(warehouse: Path, *args: str) -> str:
        return _data_test(tmp_path, warehouse, test, *args)

    rebuilt = tmp_path / "rebuilt.duckdb"
    shutil.copy(warehouses[0], rebuilt)
    assert _duplicate_an_edge(rebuilt, of_last_build=True) in {"D2", "FEFO-OLD", "GHOST", "K1", "SG1"}
    assert outcome(rebuilt) == "fail"

    untouched = tmp_path / "untouched.duckdb"
    shutil.copy(warehouses[0], untouched)
    _duplicate_an_edge(untouched, of_last_build=False)
    assert outcome(untouched) == "pass"
    assert outcome(untouched, "--vars", "{test_everything: true}") == "fail"


def test_a_build_narrows_the_hugeint_sums_of_an_older_warehouse(warehouses, tmp_path):
    """Older builds stored the defect sums as HUGEINT (the type of a sum), which DuckDB reads
    slowly; the models now cast them to BIGINT, and an incremental build of an older warehouse
    converts its tables instead of failing on the changed schema."""
    older = tmp_path / "older.duckdb"
    shutil.copy(warehouses[0], older)
    marts = ("fct_inspection_defects", "fct_supplier_defect_attribution")
    types = (
        "select table_name, column_name, data_type from information_schema.columns "
        "where table_schema = 'main' and column_name in ('samples', 'defects') order by all"
    )
    with duckdb.connect(str(older)) as con:
        for mart in marts:
            for column in ("samples", "defects"):
                con.execute(f"alter table main.{mart} alter column {column} type hugeint")
        assert {row[2] for row in con.execute(types).fetchall()} == {"HUGEINT"}
    _build(tmp_path, older)
    with duckdb.connect(str(older), read_only=True) as con:
        assert con.execute(types).fetchall() == [
            (mart, column, "BIGINT") for mart in marts for column in ("defects", "samples")
        ]
    assert _tables(older) == _tables(warehouses[1])
