"""The supplier scorecard's walk through the genealogy, on a small network written straight into
the three marts it reads: more suppliers than one 64-bit word holds, a loop of two intermediate
lots, a reworked finished lot, a received finished lot and a finished lot inspected twice for one
check. The answer must be what walking back from every finished lot to its received ancestors
gives."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

import duckdb
import pytest

from dashboards import queries

SUPPLIERS = 70  # two words of supplier bits
FINISHED = 20


def network() -> tuple[list[tuple], list[tuple], list[tuple]]:
    """Lots (lot_id, lot_code, product_category, origin_type, supplier_code), genealogy edges
    (input_lot_id, output_lot_id) and defect facts (lot_id, check_code, inspected_date, samples,
    defects)."""
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
    return lots, edges, facts


@pytest.fixture
def con():
    lots, edges, facts = network()
    connection = duckdb.connect()
    connection.execute(
        "create table main.dim_lots (lot_id bigint, lot_code varchar, product_category varchar, "
        "origin_type varchar, supplier_code varchar)"
    )
    connection.executemany("insert into main.dim_lots values (?, ?, ?, ?, ?)", lots)
    connection.execute("create table main.fct_lot_genealogy (input_lot_id bigint, output_lot_id bigint)")
    connection.executemany("insert into main.fct_lot_genealogy values (?, ?)", edges)
    connection.execute(
        "create table main.fct_inspection_defects (lot_id bigint, check_code varchar, inspected_date date, "
        "samples hugeint, defects hugeint)"
    )
    connection.executemany("insert into main.fct_inspection_defects values (?, ?, ?, ?, ?)", facts)
    connection.execute(
        """
        create or replace table main.fct_inspection_defects as
        select facts.*, lots.product_category, 'P1' as site_code, 'L1' as line_code, 'PRODUCT' as product_code
        from main.fct_inspection_defects as facts
        inner join main.dim_lots as lots on facts.lot_id = lots.lot_id
        """
    )
    yield connection
    connection.close()


def expected_scorecard() -> list[tuple]:
    """Walking back from every finished lot: (supplier, check, finished lots, with defects,
    samples, defects, defect rate, overall rate, relative rate)."""
    lots, edges, facts = network()
    inputs = defaultdict(set)
    for input_lot, output_lot in edges:
        inputs[output_lot].add(input_lot)
    supplier_of = {lot_id: supplier for lot_id, _, _, origin, supplier in lots if origin == "received" and supplier}
    finished = {lot_id for lot_id, _, category, _, _ in lots if category == "finished"}

    def suppliers(lot_id: int) -> set[str]:
        seen, frontier = {lot_id}, [lot_id]
        while frontier:
            frontier = [parent for child in frontier for parent in inputs[child] if parent not in seen]
            seen.update(frontier)
        return {supplier_of[ancestor] for ancestor in seen if ancestor in supplier_of}

    cells = defaultdict(lambda: {"lots": set(), "defective": set(), "samples": 0, "defects": 0})
    overall = defaultdict(lambda: [0, 0])
    for lot_id, check, _, samples, defects in facts:
        if lot_id not in finished:
            continue
        overall[check][0] += defects
        overall[check][1] += samples
        for supplier in suppliers(lot_id):
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


def test_supplier_scorecard_equals_walking_back_from_every_finished_lot(con):
    expected = expected_scorecard()
    assert {row[0] for row in expected} >= {"S00", "S63", "S64", "S69"}  # both words are used
    scorecard = [tuple(row) for row in queries.supplier_scorecard(con).iter_rows()]
    assert [row[:6] for row in scorecard] == [row[:6] for row in expected]
    for got, want in zip(scorecard, expected, strict=True):
        assert got[6:] == pytest.approx(want[6:], rel=1e-12), got[:2]


def test_supplier_scorecard_reads_the_copy_the_same(con):
    with queries.defect_facts_copy(con) as facts:
        assert facts != queries.DEFECT_FACTS  # the mart stores HUGEINT, as dbt makes it
        from_copy = queries.supplier_scorecard(con, facts)
    assert from_copy.equals(queries.supplier_scorecard(con))


def test_a_mart_storing_bigint_is_read_as_it_is(con):
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
