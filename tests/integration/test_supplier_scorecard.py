"""The supplier scorecard and the supplier sets it reads, on a small network written straight
into the marts the sets are built from (dim_lots, fct_lot_genealogy, fct_inspection_defects):
more suppliers than one 64-bit word holds, a loop of two intermediate lots, a reworked finished
lot, a received finished lot and a finished lot inspected twice for one check. A real
`dbt build` of rpt_supplier_bits and rpt_lot_supplier_sets walks the genealogy, and the
scorecard must be what walking back from every finished lot to its received ancestors gives.

Then the network changes as a day's deliveries would change it (a new supplier whose code sorts
first, a consumption corrected away, another added) and the changed lots are stamped: the
incremental build recomputes them and the lots downstream, and every lot's suppliers must again
be what walking back gives, with every supplier keeping its number."""

from __future__ import annotations

import shutil
from collections import defaultdict
from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest

from dashboards import queries
from tests.integration.test_dbt_warehouse import run_dbt

SUPPLIERS = 70  # two words of supplier bits
FINISHED = 20
MODELS = ("--select", "rpt_supplier_bits", "rpt_lot_supplier_sets")
# The lots a day's deliveries changed in the second network, as the staging models stamp them
# (both lots of a consumption that came or went, the new received lot).
CHANGED = ("RA", "M3", "R05", "M5", "M9", "F00")


def network(changed: bool = False) -> tuple[list[tuple], list[tuple], list[tuple]]:
    """Lots (lot_id, lot_code, product_category, origin_type, supplier_code), genealogy edges
    (input_lot_id, output_lot_id) and defect facts (lot_id, check_code, inspected_date, samples,
    defects). `changed`: received lot RA of a new supplier A00 goes into M3, the consumption of
    R05 into M5 is gone and M9 goes into F00 as well."""
    lots, edges, facts = [], [], []
    ids = {}

    def lot(code: str, category: str, origin: str, supplier: str | None = None) -> int:
        ids[code] = len(ids) + 1
        lots.append((ids[code], code, category, origin, supplier))
        return ids[code]

    for number in range(SUPPLIERS):
        lot(f"R{number:02d}", "raw", "received", f"S{number:02d}")
    lot("RX", "raw", "received")  # a received lot without a supplier
    for number in range(10):
        made = lot(f"M{number}", "intermediate", "produced")
        edges += [(ids[f"R{raw:02d}"], made) for raw in range(number, SUPPLIERS, 10)]
    edges += [(ids["M0"], ids["M1"]), (ids["M1"], ids["M0"]), (ids["RX"], ids["M2"])]  # a loop
    for number in range(FINISHED):
        made = lot(f"F{number:02d}", "finished", "produced")
        edges += [(ids[f"M{number % 10}"], made), (ids[f"R{(3 * number + 1) % SUPPLIERS:02d}"], made)]
        facts.append((made, "MICRO", date(2026, 3, 1), 10 + number, number % 3))
        facts.append((made, "WEIGHT", date(2026, 3, 2), 20, 1 if number % 4 == 0 else 0))
    edges.append((ids["F04"], ids["F05"]))  # rework
    facts.append((ids["F07"], "MICRO", date(2026, 3, 3), 5, 1))  # a second MICRO inspection
    bought = lot("FR", "finished", "received", "S69")
    facts.append((bought, "MICRO", date(2026, 3, 1), 8, 2))
    alone = lot("FZ", "finished", "produced")  # no inputs: no supplier
    facts.append((alone, "MICRO", date(2026, 3, 1), 50, 9))
    facts.append((ids["M0"], "MICRO", date(2026, 3, 1), 10, 5))  # not a finished lot
    if changed:
        edges.append((lot("RA", "raw", "received", "A00"), ids["M3"]))
        edges.remove((ids["R05"], ids["M5"]))
        edges.append((ids["M9"], ids["F00"]))
    return lots, edges, facts


def write_network(con: duckdb.DuckDBPyConnection, changed: bool = False) -> None:
    lots, edges, facts = network(changed)
    con.execute(
        "create or replace table main.dim_lots (lot_id bigint, lot_code varchar, product_category varchar, "
        "origin_type varchar, supplier_code varchar)"
    )
    con.executemany("insert into main.dim_lots values (?, ?, ?, ?, ?)", lots)
    con.execute("create schema if not exists intermediate")
    con.execute(
        "create or replace table intermediate.int_lot_ids_assigned as select lot_id, lot_code from main.dim_lots"
    )
    con.execute("create or replace table main.fct_lot_genealogy (input_lot_id bigint, output_lot_id bigint)")
    con.executemany("insert into main.fct_lot_genealogy values (?, ?)", edges)
    con.execute(
        "create or replace table main.fct_inspection_defects (lot_id bigint, check_code varchar, "
        "inspected_date date, samples hugeint, defects hugeint)"
    )
    con.executemany("insert into main.fct_inspection_defects values (?, ?, ?, ?, ?)", facts)
    con.execute(
        """
        create or replace table main.fct_inspection_defects as
        select facts.*, lots.product_category, 'P1' as site_code, 'L1' as line_code, 'PRODUCT' as product_code
        from main.fct_inspection_defects as facts
        inner join main.dim_lots as lots on facts.lot_id = lots.lot_id
        """
    )


def build(tmp: Path, warehouse: Path) -> None:
    result = run_dbt(tmp, warehouse, "build", *MODELS)
    assert result.returncode == 0, result.stdout[-4000:]


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """The first network, its sets built by a first (whole) build."""
    tmp = tmp_path_factory.mktemp("supplier_sets")
    warehouse = tmp / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        write_network(con)
        # the stamps the lot-keyed models read; the first build takes everything
        con.execute("create table intermediate.int_changed_lots (lot_code varchar, changed_at timestamp)")
        con.execute("insert into intermediate.int_changed_lots values ('R00', timestamp '2026-03-01')")
    build(tmp, warehouse)
    return warehouse


@pytest.fixture
def con(built):
    connection = duckdb.connect(str(built), read_only=True)
    yield connection
    connection.close()


def suppliers_of_every_lot(changed: bool = False) -> dict[str, set[str]]:
    """Walking back from every lot to its received ancestors: the lot's suppliers, by lot code."""
    lots, edges, _ = network(changed)
    inputs = defaultdict(set)
    for input_lot, output_lot in edges:
        inputs[output_lot].add(input_lot)
    supplier_of = {lot_id: supplier for lot_id, _, _, origin, supplier in lots if origin == "received" and supplier}
    found = {}
    for lot_id, lot_code, *_ in lots:
        seen, frontier = {lot_id}, [lot_id]
        while frontier:
            frontier = [parent for child in frontier for parent in inputs[child] if parent not in seen]
            seen.update(frontier)
        found[lot_code] = {supplier_of[ancestor] for ancestor in seen if ancestor in supplier_of}
    return found


def stored_suppliers(con: duckdb.DuckDBPyConnection) -> dict[str, set[str]]:
    """What rpt_lot_supplier_sets holds, decoded through rpt_supplier_bits, by lot code."""
    found = {code: set() for (code,) in con.execute("select lot_code from main.dim_lots").fetchall()}
    rows = con.execute(
        """
        select lots.lot_code, bits.supplier_code
        from main.rpt_lot_supplier_sets as sets
        inner join main.dim_lots as lots on sets.lot_id = lots.lot_id
        inner join main.rpt_supplier_bits as bits
            on sets.word = bits.word and sets.supplier_set & bits.supplier_bit != 0
        """
    ).fetchall()
    for lot_code, supplier_code in rows:
        found[lot_code].add(supplier_code)
    return found


def expected_scorecard(changed: bool = False) -> list[tuple]:
    """Walking back from every finished lot: (supplier, check, finished lots, with defects,
    samples, defects, defect rate, overall rate, relative rate)."""
    lots, _, facts = network(changed)
    suppliers = suppliers_of_every_lot(changed)
    code_of = {lot_id: code for lot_id, code, *_ in lots}
    finished = {lot_id for lot_id, _, category, _, _ in lots if category == "finished"}
    cells = defaultdict(lambda: {"lots": set(), "defective": set(), "samples": 0, "defects": 0})
    overall = defaultdict(lambda: [0, 0])
    for lot_id, check, _, samples, defects in facts:
        if lot_id not in finished:
            continue
        overall[check][0] += defects
        overall[check][1] += samples
        for supplier in suppliers[code_of[lot_id]]:
            cell = cells[supplier, check]
            cell["lots"].add(lot_id)
            cell["samples"] += samples
            if defects > 0:
                cell["defective"].add(lot_id)
                cell["defects"] += defects
    rows = []
    for (supplier, check), cell in sorted(cells.items()):
        rate = cell["defects"] / cell["samples"]
        overall_rate = overall[check][0] / overall[check][1]
        rows.append(
            (
                supplier,
                check,
                len(cell["lots"]),
                len(cell["defective"]),
                cell["samples"],
                cell["defects"],
                rate,
                overall_rate,
                rate / overall_rate if overall_rate > 0 else None,
            )
        )
    return rows


def assert_scorecard(con: duckdb.DuckDBPyConnection, expected: list[tuple]) -> None:
    scorecard = [tuple(row) for row in queries.supplier_scorecard(con).iter_rows()]
    assert [row[:6] for row in scorecard] == [row[:6] for row in expected]
    for got, want in zip(scorecard, expected, strict=True):
        assert got[6:] == pytest.approx(want[6:], rel=1e-12), got[:2]


def test_supplier_scorecard_equals_walking_back_from_every_finished_lot(con):
    expected = expected_scorecard()
    assert {row[0] for row in expected} >= {"S00", "S63", "S64", "S69"}  # both words are used
    assert stored_suppliers(con) == suppliers_of_every_lot()
    assert_scorecard(con, expected)


def test_supplier_scorecard_reads_the_copy_the_same(con):
    with queries.defect_facts_copy(con) as facts:
        assert facts != queries.DEFECT_FACTS  # the mart stores HUGEINT, as dbt makes it
        from_copy = queries.supplier_scorecard(con, facts)
    assert from_copy.equals(queries.supplier_scorecard(con))


def test_a_mart_storing_bigint_is_read_as_it_is(built, tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copyfile(built, warehouse)
    with duckdb.connect(str(warehouse)) as con:
        expected = queries.supplier_scorecard(con)
        con.execute(
            """
            create or replace table main.fct_inspection_defects as
            select * replace (cast(samples as bigint) as samples, cast(defects as bigint) as defects)
            from main.fct_inspection_defects
            """
        )
        with queries.defect_facts_copy(con) as facts:
            assert facts == queries.DEFECT_FACTS
            assert queries.supplier_scorecard(con, facts).equals(expected)


def test_an_incremental_build_recomputes_the_changed_lots_and_those_downstream(built, tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copyfile(built, warehouse)
    with duckdb.connect(str(warehouse)) as con:
        numbers = dict(con.execute("select supplier_code, supplier_number from main.rpt_supplier_bits").fetchall())
        kept = con.execute("select lot_id, word, supplier_set from main.rpt_lot_supplier_sets order by all").fetchall()
        write_network(con, changed=True)
        con.executemany(
            "insert into intermediate.int_changed_lots values (?, ?)",
            [(code, datetime(2026, 3, 2)) for code in CHANGED],
        )
    before = suppliers_of_every_lot()
    after = suppliers_of_every_lot(changed=True)
    # what the change reaches: M3's and M5's lots downstream, and F00
    assert {code for code in after if after[code] != before.get(code)} == {
        "RA",
        "M3",
        "F03",
        "F13",
        "M5",
        "F05",
        "F15",
        "F00",
    }

    build(tmp_path, warehouse)

    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert stored_suppliers(con) == after
        assert_scorecard(con, expected_scorecard(changed=True))
        renumbered = dict(con.execute("select supplier_code, supplier_number from main.rpt_supplier_bits").fetchall())
        # the new supplier sorts first and takes the next number; every other keeps its own
        assert renumbered == {**numbers, "A00": SUPPLIERS}
        untouched = con.execute(
            "select lot_id, word, supplier_set from main.rpt_lot_supplier_sets "
            "where lot_id in (select lot_id from main.dim_lots where lot_code in ('R10', 'M4', 'F04'))"
        ).fetchall()
    assert untouched and set(untouched) <= set(kept)


def test_a_warehouse_without_the_supplier_sets_says_what_to_run(built, tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copyfile(built, warehouse)
    with duckdb.connect(str(warehouse)) as con:
        con.execute("drop table main.rpt_lot_supplier_sets")
        with pytest.raises(queries.ModelMissing, match=r"no main\.rpt_lot_supplier_sets .*batchtrack ingest"):
            queries.supplier_scorecard(con)


def test_a_register_built_whole_again_drops_the_sets_of_its_old_numbers(built, tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copyfile(built, warehouse)
    with duckdb.connect(str(warehouse)) as con:
        write_network(con, changed=True)
        con.executemany(
            "insert into intermediate.int_changed_lots values (?, ?)",
            [(code, datetime(2026, 3, 2)) for code in CHANGED],
        )
    build(tmp_path, warehouse)  # A00 comes after the others: number 70
    # Built whole again, the register numbers by code: A00 first, every other supplier one on.
    result = run_dbt(tmp_path, warehouse, "build", *MODELS, "--full-refresh", "--exclude", "rpt_lot_supplier_sets")
    assert result.returncode == 0, result.stdout[-4000:]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute(
            "select supplier_number from main.rpt_supplier_bits where supplier_code = 'A00'"
        ).fetchone() == (0,)
        assert not con.execute(
            "select count(*) from duckdb_tables() where table_name = 'rpt_lot_supplier_sets'"
        ).fetchone()[0]
    build(tmp_path, warehouse)  # the next build makes the sets whole again, in the new numbers
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert stored_suppliers(con) == suppliers_of_every_lot(changed=True)
        assert_scorecard(con, expected_scorecard(changed=True))
