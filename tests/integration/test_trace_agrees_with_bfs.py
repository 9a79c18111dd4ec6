"""The trace macros agree with an independent breadth-first search over the same edges,
on a generated `medium` network, for many random lots in both directions."""

from __future__ import annotations

import random
from collections import defaultdict, deque

import duckdb
import pytest

from batchtrack.generator import generate

LOTS_PER_DIRECTION = 150


@pytest.fixture(scope="module")
def medium_warehouse(tmp_path_factory, cli):
    root = tmp_path_factory.mktemp("medium")
    landing, warehouse = root / "landing", root / "warehouse.duckdb"
    generate(landing, days=30, seed=3, scale="medium")
    result = cli("ingest", "--warehouse", str(warehouse), "--landing", str(landing))
    assert result.returncode == 0, result.stdout + result.stderr
    con = duckdb.connect(str(warehouse), read_only=True)
    yield con
    con.close()


def bfs(adjacency: dict[str, set[str]], start: str) -> dict[str, int]:
    depth = {start: 0}
    queue = deque([start])
    while queue:
        lot = queue.popleft()
        for nxt in adjacency.get(lot, ()):
            if nxt not in depth:
                depth[nxt] = depth[lot] + 1
                queue.append(nxt)
    return depth


@pytest.mark.parametrize("direction", ["forward", "backward"])
def test_traces_match_breadth_first_search(medium_warehouse, direction):
    con = medium_warehouse
    # The edges straight from the raw layer, not from our models.
    edges = con.execute("select distinct input_lot_code, lot_code from raw.consumption").fetchall()
    assert len(edges) > 50_000
    adjacency: dict[str, set[str]] = defaultdict(set)
    for input_lot, output_lot in edges:
        if direction == "forward":
            adjacency[input_lot].add(output_lot)
        else:
            adjacency[output_lot].add(input_lot)
    # Lots with somewhere to go: inputs of anything (forward), outputs of anything (backward).
    candidates = sorted(adjacency)
    rng = random.Random(20261127)
    sample = rng.sample(candidates, LOTS_PER_DIRECTION)
    macro = "trace_forward" if direction == "forward" else "trace_backward"
    largest = 0
    for lot in sample:
        expected = bfs(adjacency, lot)
        got = dict(con.execute(f"select lot_code, depth from {macro}(?)", [lot]).fetchall())
        assert got == expected, lot
        largest = max(largest, len(got))
    assert largest > 5  # the sample reached real multi-step networks, not just single lots
