"""One cold recall query: a fresh process opens the warehouse read-only and runs one macro once.

python -m benchmarks.cold_query WAREHOUSE MACRO LOT    -> {"connect_ms", "query_ms", "rows"}
"""

from __future__ import annotations

import json
import sys
import time

import duckdb


def main(warehouse: str, macro: str, lot: str) -> None:
    started = time.perf_counter()
    con = duckdb.connect(warehouse, read_only=True)
    connected = time.perf_counter()
    rows = len(con.execute(f"select * from {macro}(?)", [lot]).fetchall())
    finished = time.perf_counter()
    con.close()
    print(
        json.dumps(
            {"connect_ms": (connected - started) * 1000, "query_ms": (finished - connected) * 1000, "rows": rows}
        )
    )


if __name__ == "__main__":
    main(*sys.argv[1:])
