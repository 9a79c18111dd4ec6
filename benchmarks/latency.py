"""Recall latency of the warehouse's own macros, cold and warm, on a seeded sample of lots."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import duckdb

from benchmarks.timing import time_warm

MACROS = ("trace_forward", "trace_backward", "recall_shipments")
# Raw lots are what a supplier reports (forward traces start there); finished lots are what a
# customer complains about (backward traces start there).
LOT_SETS = {
    "raw": (
        "origin_type = 'received'",
        "select input_lot_id as lot_id, count(*) as degree from main.fct_lot_genealogy group by all",
    ),
    "finished": (
        "origin_type = 'produced' and product_category = 'finished'",
        "select output_lot_id as lot_id, count(*) as degree from main.fct_lot_genealogy group by all",
    ),
}


def pick_lots(warehouse: Path, per_set: int, hubs: int, seed: int) -> dict[str, dict]:
    """Per set: the `hubs` lots of highest degree (out-degree for raw, in-degree for finished)
    and random others, seeded; with the degree of each picked lot."""
    rng = random.Random(f"batchtrack-bench-{seed}")
    picked: dict[str, dict] = {}
    with closing(duckdb.connect(str(warehouse), read_only=True)) as con:
        for name, (condition, degrees) in LOT_SETS.items():
            candidates = con.execute(
                f"""
                with degrees as ({degrees})
                select lots.lot_code, coalesce(degrees.degree, 0) as degree
                from main.dim_lots as lots left join degrees using (lot_id)
                where {condition}
                order by degree desc, lots.lot_code
                """
            ).fetchall()
            top, rest = candidates[:hubs], candidates[hubs:]
            chosen = top + rng.sample(rest, min(len(rest), per_set - len(top)))
            picked[name] = {
                "lots": [lot for lot, _ in chosen],
                "hub_lots": [lot for lot, _ in top],
                "degree": {lot: degree for lot, degree in chosen},
                "candidates": len(candidates),
            }
    return picked


def _cold(warehouse: str, macro: str, lot: str) -> dict:
    completed = subprocess.run(
        [sys.executable, "-m", "benchmarks.cold_query", warehouse, macro, lot],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(completed.stdout)


def measure_macros(params: dict) -> dict:
    """Child phase: every macro on every sampled lot, cold (each query in a fresh process on a
    freshly opened warehouse; the OS page cache is not dropped) and warm (one connection)."""
    warehouse, repeats = params["warehouse"], params["repeats"]
    results: dict[str, dict] = {}
    for macro in MACROS:
        for set_name, lots in params["lots"].items():
            cold = {lot: _cold(warehouse, macro, lot) for lot in lots}
            results.setdefault(macro, {})[set_name] = {
                "cold_ms": {lot: entry["query_ms"] for lot, entry in cold.items()},
                "cold_connect_ms": {lot: entry["connect_ms"] for lot, entry in cold.items()},
                "cold_rows": {lot: entry["rows"] for lot, entry in cold.items()},
            }
    with closing(duckdb.connect(warehouse, read_only=True)) as con:
        for macro in MACROS:
            for set_name, lots in params["lots"].items():

                def run(lot: str, sql: str = f"select * from {macro}(?)") -> int:
                    return len(con.execute(sql, [lot]).fetchall())

                warm_ms, rows = time_warm(run, lots, repeats)
                results[macro][set_name].update(warm_ms=warm_ms, rows=rows)
                print(f"  {macro} on {set_name} lots: warm median {sorted(warm_ms.values())[len(lots) // 2]:.1f} ms")
    return {"macros": results}
