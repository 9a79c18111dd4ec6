"""The same traces through engines a user might reach for instead: a plain recursive CTE in a
separate DuckDB file and a Python breadth-first search over adjacency maps (PostgreSQL is in
`benchmarks.postgres`). All of them read the warehouse's own edges, exported once."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import duckdb

from benchmarks.timing import time_once, time_warm

# What a user writes: text lot codes, `union` (not `union all`) so loops end, no depth column.
# `:lot` is the lot code, bound as a parameter (DuckDB) or inlined as a literal (psql).
_REACH = (
    "with recursive reach(lot_code) as (select cast(:lot as text) union "
    "select edges.{to} from edges join reach on edges.{frm} = reach.lot_code) "
)
COMPETITOR_SQL = {
    "trace_forward": _REACH.format(frm="input_lot_code", to="output_lot_code") + "select lot_code from reach",
    "trace_backward": _REACH.format(frm="output_lot_code", to="input_lot_code") + "select lot_code from reach",
    "recall_shipments": _REACH.format(frm="input_lot_code", to="output_lot_code")
    + "select shipment_lines.shipment_id, shipment_lines.line_no, shipment_lines.lot_code "
    "from reach join shipment_lines on shipment_lines.lot_code = reach.lot_code",
}
FETCH_BATCH = 200_000


def sql_literal(value: object) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def extract_edges(params: dict) -> dict:
    """Child phase: the warehouse's genealogy edges (text codes, deduplicated) and shipment
    lines into a plain DuckDB file, and as CSV files for PostgreSQL's COPY."""
    edges_db, csv_dir = Path(params["edges_db"]), Path(params["csv_dir"])
    edges_db.unlink(missing_ok=True)
    csv_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with closing(duckdb.connect(str(edges_db))) as con:
        con.execute(f"attach {sql_literal(params['warehouse'])} as warehouse (read_only)")
        con.execute(
            "create table edges as select distinct input_lot_code, output_lot_code "
            "from warehouse.main.fct_lot_genealogy"
        )
        con.execute(
            "create table shipment_lines as "
            "select shipment_id, line_no, lot_code from warehouse.main.fct_shipment_lines"
        )
        con.execute("detach warehouse")
        for table in ("edges", "shipment_lines"):
            con.execute(f"copy {table} to {sql_literal(csv_dir / f'{table}.csv')} (header, format csv)")
        counts = {
            table: con.execute(f"select count(*) from {table}").fetchone()[0] for table in ("edges", "shipment_lines")
        }
    return {"seconds": time.perf_counter() - started, **counts}


def measure_duckdb_cte(params: dict) -> dict:
    """Child phase: the plain recursive CTE over the unindexed edge table, one run per lot."""
    results: dict[str, dict] = {}
    with closing(duckdb.connect(params["edges_db"], read_only=True)) as con:
        for macro, sql in COMPETITOR_SQL.items():
            statement = sql.replace(":lot", "?")
            for set_name, lots in params["lots"].items():

                def run(lot: str, statement: str = statement) -> int:
                    return len(con.execute(statement, [lot]).fetchall())

                # One timed run per lot: a trace takes seconds here, and the benchmark an hour.
                warm_ms, rows = time_once(run, lots)
                results.setdefault(macro, {})[set_name] = {"warm_ms": warm_ms, "rows": rows}
            print(f"  duckdb recursive CTE {macro}: done")
    return {"macros": results}


def _batches(con: duckdb.DuckDBPyConnection, sql: str) -> Iterator[list[tuple]]:
    cursor = con.execute(sql)
    while batch := cursor.fetchmany(FETCH_BATCH):
        yield batch


def _reach(adjacency: dict[str, list[str]], lot: str) -> set[str]:
    reached, frontier = {lot}, [lot]
    while frontier:
        following = []
        for current in frontier:
            for neighbour in adjacency.get(current, ()):
                if neighbour not in reached:
                    reached.add(neighbour)
                    following.append(neighbour)
        frontier = following
    return reached


def measure_python_bfs(params: dict) -> dict:
    """Child phase: breadth-first search over dict adjacency maps built once (timed apart)."""
    intern = sys.intern
    forward: dict[str, list[str]] = {}
    backward: dict[str, list[str]] = {}
    shipments: dict[str, list[tuple[str, int]]] = {}
    started = time.perf_counter()
    with closing(duckdb.connect(params["edges_db"], read_only=True)) as con:
        for batch in _batches(con, "select input_lot_code, output_lot_code from edges"):
            for input_lot, output_lot in batch:
                input_lot, output_lot = intern(input_lot), intern(output_lot)
                forward.setdefault(input_lot, []).append(output_lot)
                backward.setdefault(output_lot, []).append(input_lot)
        for batch in _batches(con, "select shipment_id, line_no, lot_code from shipment_lines"):
            for shipment_id, line_no, lot in batch:
                shipments.setdefault(intern(lot), []).append((intern(shipment_id), line_no))
    build_seconds = time.perf_counter() - started

    runs = {
        "trace_forward": lambda lot: len(_reach(forward, lot)),
        "trace_backward": lambda lot: len(_reach(backward, lot)),
        "recall_shipments": lambda lot: len([line for one in _reach(forward, lot) for line in shipments.get(one, ())]),
    }
    results: dict[str, dict] = {}
    for macro, run in runs.items():
        for set_name, lots in params["lots"].items():
            warm_ms, rows = time_warm(run, lots, params["repeats"])
            results.setdefault(macro, {})[set_name] = {"warm_ms": warm_ms, "rows": rows}
    return {"build_seconds": build_seconds, "macros": results}
