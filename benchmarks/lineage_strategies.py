"""Lineage strategies side by side: how fast each layout of the genealogy answers a trace.

Builds every strategy's tables in a scratch DuckDB file from a landing folder (read straight
with read_csv, not through the pipeline) or from a synthetic layered network, then times
trace_forward over root lots (hubs included), trace_backward over leaf lots and
recall_shipments, warm and cold, and prints one table. The numbers in docs/performance.md
come from here:

    .venv/bin/python benchmarks/lineage_strategies.py --landing benchmarks/cache/large/landing
    .venv/bin/python benchmarks/lineage_strategies.py --synthetic-edges 10000000
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb

CSV_OPTIONS = "all_varchar = true, union_by_name = true, delim = ',', quote = '\"', escape = '\"', header = true"

# The raw layer both sources produce: lots(lot_code, product_code, made_at, supplier_code,
# supplier_lot_code), edges(input_lot_code, output_lot_code, quantity_consumed),
# shipment_lines(shipment_id, line_no, lot_code, product_code, customer_code, quantity, shipped_at).
LANDING_SQL = """
create or replace table consumptions as
select trim(input_lot_code) as input_lot_code, trim(lot_code) as output_lot_code,
    try_cast(quantity as double) as quantity, try_cast(consumed_at as timestamp) as consumed_at
from read_csv('{landing}/2*/consumption.csv', {csv});

create or replace table lots as
with produced as (
    select trim(lot_code) as lot_code, first(product_code order by produced_at) as product_code,
        min(try_cast(produced_at as timestamp)) as made_at, null as supplier_code, null as supplier_lot_code
    from read_csv('{landing}/2*/production.csv', {csv})
    where lot_code is not null
    group by all
),
received as (
    select trim(lot_code) as lot_code, first(product_code order by moved_at, movement_id) as product_code,
        min(try_cast(moved_at as timestamp)) as made_at,
        first(supplier_code order by moved_at, movement_id) as supplier_code,
        first(supplier_lot_code order by moved_at, movement_id) as supplier_lot_code
    from read_csv('{landing}/2*/inventory.csv', {csv})
    where movement_type = 'receipt' and lot_code is not null
        and trim(lot_code) not in (select produced.lot_code from produced)
    group by trim(lot_code)
),
origins as (select * from produced union all select * from received),
referenced as (
    select output_lot_code as lot_code, consumed_at from consumptions
    union all
    select input_lot_code, consumed_at from consumptions
)
select * from origins
union all
select lot_code, null, min(consumed_at), null, null
from referenced
where lot_code is not null and lot_code not in (select origins.lot_code from origins)
group by lot_code;

create or replace table edges as
select input_lot_code, output_lot_code, sum(quantity) as quantity_consumed
from consumptions
where input_lot_code is not null and output_lot_code is not null
group by all;

create or replace table shipment_lines as
select shipment_id, try_cast(line_no as integer) as line_no, trim(lot_code) as lot_code, product_code, customer_code,
    try_cast(quantity as double) as quantity, try_cast(shipped_at as timestamp) as shipped_at
from (
    select shipment_id, line_no, lot_code, product_code, customer_code, quantity, shipped_at
    from read_csv('{landing}/2*/shipments.csv', {csv})
    union all
    select shipment_id, cast(line_no as varchar), lot_code, product_code, customer_code,
        cast(quantity as varchar), cast(shipped_at as varchar)
    from read_parquet('{landing}/2*/shipments.parquet', union_by_name = true)
);
drop table consumptions;
"""

# A layered network with the shape of the real one (raw -> intermediate -> finished, lots of a
# day consuming lots of the last few days), plus hub raw lots (a starter culture, salt) that a
# share of all intermediates consume, so they reach tens of thousands of lots, and rework loops.
SYNTHETIC_SQL = """
create or replace table lots as
with days as (select range as day from range({days})),
kinds as (
    select * from (values ('R', {raw}), ('I', {intermediate}), ('F', {finished})) as kinds (kind, per_day)
)
select
    printf('S%d-%s%03d-%06d', seq % 4, kind, day, seq) as lot_code,
    kind || '-' || (seq % 7) as product_code,
    timestamp '2026-01-01' + to_days(cast(day as integer)) + to_seconds(seq % 86400) as made_at,
    case when kind = 'R' then 'SUP-' || (seq % 30) end as supplier_code,
    case when kind = 'R' then 'F' || seq end as supplier_lot_code,
    kind, day, seq
from days, kinds, lateral (select range as seq from range(per_day))
union all
select printf('HUB-%02d', range), 'R-HUB', timestamp '2025-12-31', 'SUP-HUB', 'H' || range, 'H', 0, range
from range({hubs});

create or replace table edges as
with inputs_of as (
    -- intermediates consume 3 raw lots of the last 3 days (sometimes one hub), finished lots
    -- 2 intermediates of the last 2 days and 1 raw lot (packaging)
    select lots.lot_code as output_lot_code, picks.kind, picks.day, picks.seq
    from lots,
    lateral (
        select 'R' as kind, greatest(lots.day - cast(hash(lots.seq, k, 1) % 3 as bigint), 0) as day,
            cast(hash(lots.seq, k, 2) % {raw} as bigint) as seq
        from range(3) as t (k) where lots.kind = 'I'
        union all
        select 'H', 0, cast(hash(lots.seq, lots.day) % {hubs} as bigint)
        where lots.kind = 'I' and hash(lots.seq, lots.day, 3) % 1000 < {hub_permille}
        union all
        -- some intermediates go into other intermediates, so traces run a few steps deep
        select 'I', greatest(lots.day - 1, 0), cast(hash(lots.seq, lots.day, 7) % {intermediate} as bigint)
        where lots.kind = 'I' and hash(lots.seq, lots.day, 8) % 10 < 3
        union all
        select 'I', greatest(lots.day - cast(hash(lots.seq, k, 4) % 2 as bigint), 0),
            cast(hash(lots.seq, k, 5) % {intermediate} as bigint)
        from range(2) as t (k) where lots.kind = 'F'
        union all
        select 'R', lots.day, cast(hash(lots.seq, 6) % {raw} as bigint) where lots.kind = 'F'
    ) as picks
)
select distinct inputs.lot_code as input_lot_code, inputs_of.output_lot_code, 1.0 as quantity_consumed
from inputs_of
inner join lots as inputs on inputs_of.kind = inputs.kind and inputs_of.day = inputs.day and inputs_of.seq = inputs.seq;

-- rework loops: a finished lot consumed back into an intermediate it was made from
insert into edges
select output_lot_code, input_lot_code, 1.0
from (select * from edges where input_lot_code like '%-I%' and output_lot_code like '%-F%' order by all limit 3);

create or replace table shipment_lines as
select 'SHP-' || seq as shipment_id, 1 as line_no, lot_code, product_code, 'C' || (seq % 8000) as customer_code,
    1.0 as quantity, made_at + interval 2 day as shipped_at
from lots where kind = 'F' and seq % 3 = 0;
alter table lots drop column kind;
alter table lots drop column day;
alter table lots drop column seq;
"""


@dataclass(frozen=True)
class Strategy:
    name: str
    summary: str
    build_sql: str
    forward_sql: str  # a table macro body with parameter `lot`
    backward_sql: str
    shipments_sql: str | None = None


def ids_sql(order: str) -> str:
    """dim_lots and the two sorted integer edge tables, lot ids given in `order`."""
    return f"""
create or replace table {{p}}_lots as
select row_number() over (order by {order}) as lot_id, lots.* from lots order by lot_id;
create or replace table {{p}}_edges as
select inputs.lot_id as input_lot_id, outputs.lot_id as output_lot_id, edges.input_lot_code, edges.output_lot_code,
    outputs.product_code as output_product_code, inputs.product_code as input_product_code,
    inputs.supplier_code as input_supplier_code, inputs.supplier_lot_code as input_supplier_lot_code,
    edges.quantity_consumed
from edges
inner join {{p}}_lots as inputs on edges.input_lot_code = inputs.lot_code
inner join {{p}}_lots as outputs on edges.output_lot_code = outputs.lot_code
order by input_lot_id, output_lot_id;
create or replace table {{p}}_edges_by_output as
select output_lot_id, input_lot_id, input_lot_code, input_product_code, input_supplier_code, input_supplier_lot_code
from {{p}}_edges order by output_lot_id, input_lot_id;
create or replace table {{p}}_shipments as
select lots.lot_id, shipment_lines.* from shipment_lines inner join {{p}}_lots as lots using (lot_code)
order by lot_id, shipment_id, line_no;
"""


CODE_ORDER = "lot_code"
TIME_ORDER = "made_at nulls last, lot_code"
LOOKUP_SQL = """
create or replace table {p}_lookup as
select md5_number_upper(lot_code) as lot_code_key, lot_code, lot_id from {p}_lots order by lot_code_key, lot_code;
"""
START_BY_CODE = "select lot_id from {p}_lots where lot_code = trim(lot)"
START_BY_KEY = "select lot_id from {p}_lookup where lot_code_key = md5_number_upper(trim(lot)) and lot_code = trim(lot)"


# hubs: lots with many paths of two steps (a cheap upper bound of their reach); their whole
# forward trace, as dbt_project/models/marts/fct_lot_genealogy_hub_closure.sql builds it
HUB_CLOSURE_SQL = """
create or replace table {{p}}_hub_closure as
with recursive
fan_out as (select input_lot_id as lot_id, count(*) as children from {{p}}_edges group by all),
hubs as (
    select edges.input_lot_id as lot_id
    from {{p}}_edges as edges inner join fan_out on edges.output_lot_id = fan_out.lot_id
    group by all having sum(fan_out.children) >= {hub_paths}
),
reach (hub_lot_id, lot_id, depth) using key (hub_lot_id, lot_id) as (
    select lot_id, lot_id, 0 from hubs
    union all
    select step.* from (
        select reach.hub_lot_id, edges.output_lot_id, reach.depth + 1 from reach
        inner join {{p}}_edges as edges on reach.lot_id = edges.input_lot_id
    ) as step (hub_lot_id, lot_id, depth)
    anti join recurring.reach as reached on step.hub_lot_id = reached.hub_lot_id and step.lot_id = reached.lot_id
)
select * from reach order by hub_lot_id, lot_id;
"""


def ids_reach(step: str, start: str, closure: str | None = None) -> str:
    """Frontier-at-a-time on lot ids only; a lot enters once, at its fewest steps. With
    `closure`, a hub lot reads its reach from there and the recursion starts from nothing
    (the form of dbt_project/macros/recall_macros.sql)."""
    closure_cte = anchor_filter = closure_rows = ""
    if closure:
        closure_cte = f"""closure_reach as (
    select closure.lot_id, closure.depth from {closure} as closure
    where closure.hub_lot_id = (select start_lot.lot_id from start_lot)
),"""
        anchor_filter = "where not exists (select 1 from closure_reach)"
        closure_rows = "union all select lot_id, depth from closure_reach"
    return f"""with recursive
start_lot as ({start}),
{closure_cte}
reach (lot_id, depth) using key (lot_id) as (
    select lot_id, 0 from start_lot {anchor_filter}
    union all
    select step.lot_id, step.depth from ({step}) as step
    anti join recurring.reach as reached on step.lot_id = reached.lot_id
),
-- one row, unnested: the planner then builds the hash join on the reach, and the id-sorted
-- table behind it is pruned by the join's dynamic filters
reached as (
    select unnest(lot_ids) as lot_id, unnest(depths) as depth
    from (
        select list(lot_id) as lot_ids, list(depth) as depths
        from (select lot_id, depth from reach {closure_rows})
    )
)"""


def edge_step(table: str, from_column: str, to_column: str) -> str:
    return (
        f"select edges.{to_column} as lot_id, reach.depth + 1 as depth "
        f"from reach inner join {table} as edges on reach.lot_id = edges.{from_column}"
    )


def adjacency_step(table: str) -> str:
    return (
        f"select unnest(adjacent.lot_ids) as lot_id, reach.depth + 1 as depth "
        f"from reach inner join {table} as adjacent on reach.lot_id = adjacent.lot_id"
    )


def ids_strategy(
    name: str, summary: str, prefix: str, order: str, lookup: bool, adjacency: bool = False, hub_paths: int = 0
) -> Strategy:
    start = START_BY_KEY if lookup else START_BY_CODE
    build = ids_sql(order) + (LOOKUP_SQL if lookup else "")
    closure = None
    if hub_paths:
        closure = "{p}_hub_closure"
        build += HUB_CLOSURE_SQL.format(hub_paths=hub_paths)
    if adjacency:
        build += """
create or replace table {p}_children as
select input_lot_id as lot_id, list(output_lot_id order by output_lot_id) as lot_ids
from {p}_edges group by all order by 1;
create or replace table {p}_parents as
select output_lot_id as lot_id, list(input_lot_id order by input_lot_id) as lot_ids
from {p}_edges_by_output group by all order by 1;
"""
        forward_step, backward_step = adjacency_step("{p}_children"), adjacency_step("{p}_parents")
    else:
        forward_step = edge_step("{p}_edges", "input_lot_id", "output_lot_id")
        backward_step = edge_step("{p}_edges_by_output", "output_lot_id", "input_lot_id")
    forward = (
        ids_reach(forward_step, start, closure)
        + """
select lots.lot_code, lots.product_code, reached.depth, reached.lot_id
from reached inner join {p}_lots as lots on reached.lot_id = lots.lot_id
order by reached.depth, lots.lot_code"""
    )
    backward = (
        ids_reach(backward_step, start)
        + """
select lots.lot_code, lots.product_code, reached.depth, lots.supplier_code, lots.supplier_lot_code, reached.lot_id
from reached inner join {p}_lots as lots on reached.lot_id = lots.lot_id
order by reached.depth, lots.lot_code"""
    )
    shipments = (
        ids_reach(forward_step, start, closure)
        + """
select shipments.shipment_id, shipments.line_no, shipments.lot_code, shipments.product_code, shipments.customer_code,
    shipments.quantity, shipments.shipped_at, reached.depth
from reached inner join {p}_shipments as shipments on reached.lot_id = shipments.lot_id
order by shipments.shipped_at, shipments.shipment_id, shipments.line_no"""
    )
    return Strategy(
        name,
        summary,
        build.replace("{p}", prefix),
        forward.replace("{p}", prefix),
        backward.replace("{p}", prefix),
        shipments.replace("{p}", prefix),
    )


def using_key_codes_strategy() -> Strategy:
    """The layout before issue 6: lot codes carried through the recursion."""
    p = "coded"

    def reach(table: str, from_column: str, to_column: str, columns: str, carried: str) -> str:
        return f"""with recursive
start_lot as (select lot_id, {columns}, 0 as depth from {p}_lots where lot_code = trim(lot)),
reach (lot_id, {columns}, depth) using key (lot_id) as (
    select * from start_lot
    union all
    select edges.{to_column}, {carried}, reach.depth + 1
    from reach inner join {table} as edges on reach.lot_id = edges.{from_column}
    where not exists (select 1 from recurring.reach as reached where reached.lot_id = edges.{to_column})
)"""

    forward_reach = reach(
        f"{p}_edges",
        "input_lot_id",
        "output_lot_id",
        "lot_code, product_code",
        "edges.output_lot_code, edges.output_product_code",
    )
    backward = reach(
        f"{p}_edges_by_output",
        "output_lot_id",
        "input_lot_id",
        "lot_code, product_code, supplier_code, supplier_lot_code",
        "edges.input_lot_code, edges.input_product_code, edges.input_supplier_code, edges.input_supplier_lot_code",
    )
    return Strategy(
        "using_key_codes",
        "USING KEY on integer ids (lot_code order), codes carried on the edges (the layout before)",
        ids_sql(CODE_ORDER).replace("{p}", p),
        forward_reach + " select lot_code, product_code, depth, lot_id from reach order by depth, lot_code",
        backward + " select lot_code, product_code, depth, supplier_code, supplier_lot_code, lot_id from reach"
        " order by depth, lot_code",
        forward_reach
        + f"""
select shipments.shipment_id, shipments.line_no, shipments.lot_code, shipments.product_code, shipments.customer_code,
    shipments.quantity, shipments.shipped_at, reach.depth
from reach inner join {p}_shipments as shipments on reach.lot_id = shipments.lot_id
order by shipments.shipped_at, shipments.shipment_id, shipments.line_no""",
    )


def plain_text_strategy() -> Strategy:
    """A textbook recursive CTE on lot codes (needs a depth cap, else a loop never ends)."""

    def reach(from_column: str, to_column: str) -> str:
        return f"""with recursive
reach (lot_code, depth) as (
    select trim(lot), 0
    union
    select edges.{to_column}, reach.depth + 1 from reach
    inner join edges on reach.lot_code = edges.{from_column}
    where reach.depth < 64
),
shortest as (select lot_code, min(depth) as depth from reach group by lot_code)
select shortest.lot_code, lots.product_code, shortest.depth
from shortest left join lots on shortest.lot_code = lots.lot_code
order by shortest.depth, shortest.lot_code"""

    return Strategy(
        "plain_cte_text",
        "plain recursive CTE (union, depth cap) on text codes, unsorted edges: the baseline",
        "",
        reach("input_lot_code", "output_lot_code"),
        reach("output_lot_code", "input_lot_code"),
    )


def strategies(hub_reach: int) -> list[Strategy]:
    return [
        plain_text_strategy(),
        using_key_codes_strategy(),
        ids_strategy(
            "ids_code",
            "ids-only recursion, lot_code-ordered ids, start by code scan",
            "coded",
            CODE_ORDER,
            lookup=False,
        ),
        ids_strategy(
            "ids_time",
            "ids-only recursion, time-ordered ids, start by md5-sorted lookup",
            "timed",
            TIME_ORDER,
            lookup=True,
        ),
        ids_strategy(
            "adjacency_time",
            "adjacency lists (one row per lot, LIST of ids), unnest per frontier",
            "timed",
            TIME_ORDER,
            lookup=True,
            adjacency=True,
        ),
        ids_strategy(
            "hub_closure_time",
            f"ids_time + the whole forward trace of hub lots (>= {hub_reach} two-step paths)",
            "timed",
            TIME_ORDER,
            lookup=True,
            hub_paths=hub_reach,
        ),
    ]


def build(con: duckdb.DuckDBPyConnection, strategy: Strategy, built: dict[str, float]) -> float:
    """Seconds to build all the strategy's tables; a table shared with an earlier strategy is
    built once, and its seconds are counted for each strategy that reads it."""
    for statement in strategy.build_sql.split(";"):
        if statement.strip() and statement not in built:
            started = time.perf_counter()
            con.execute(statement)
            con.execute("checkpoint")
            built[statement] = time.perf_counter() - started
    return sum(built[statement] for statement in strategy.build_sql.split(";") if statement.strip())


def create_macros(con: duckdb.DuckDBPyConnection, strategy: Strategy) -> None:
    con.execute(f"create or replace macro {strategy.name}_forward(lot) as table {strategy.forward_sql}")
    con.execute(f"create or replace macro {strategy.name}_backward(lot) as table {strategy.backward_sql}")
    if strategy.shipments_sql:
        con.execute(f"create or replace macro {strategy.name}_shipments(lot) as table {strategy.shipments_sql}")


def sample_lots(con: duckdb.DuckDBPyConnection, size: int, seed: int) -> tuple[list[str], list[str]]:
    """Root lots (nothing goes into them; the 5 with the most paths of two steps are hubs) and leaf lots."""
    roots = [
        row[0]
        for row in con.execute("""
        with fan_out as (select input_lot_code as lot_code, count(*) as children from edges group by all),
        two_steps as (
            select edges.input_lot_code as lot_code, sum(fan_out.children) as paths
            from edges inner join fan_out on edges.output_lot_code = fan_out.lot_code group by all
        )
        select fan_out.lot_code from fan_out left join two_steps using (lot_code)
        where fan_out.lot_code not in (select output_lot_code from edges)
        order by two_steps.paths desc nulls last, fan_out.lot_code
    """).fetchall()
    ]
    leaves = [
        row[0]
        for row in con.execute("""
        select distinct output_lot_code from edges
        where output_lot_code not in (select input_lot_code from edges) order by 1
    """).fetchall()
    ]
    pick = random.Random(seed)
    return roots[:5] + pick.sample(roots[5:], size - 5), pick.sample(leaves, size)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def timed(run: Callable[[], int]) -> tuple[float, int, float]:
    """Wall milliseconds, rows, and CPU milliseconds of this process (all DuckDB threads): on a
    shared machine the CPU time tells strategies apart when the wall time is mostly waiting."""
    started, cpu_started = time.perf_counter(), time.process_time()
    rows = run()
    return (time.perf_counter() - started) * 1000, rows, (time.process_time() - cpu_started) * 1000


def measure(path: str, macro: str, lots: list[str], repeats: int, cold_lots: int) -> dict[str, float]:
    """Warm: every lot `repeats` times after one warm-up; cold: first query after connecting.
    A strategy slower than a second a trace gets 10 lots, once."""
    query = f"select * from {macro}(?)"
    warm, sizes, cpu = [], [], []
    with duckdb.connect(path, read_only=True) as con:
        con.execute("set threads = 2")
        started = time.perf_counter()
        for lot in lots[:5]:
            con.execute(query, [lot]).fetchall()
        if time.perf_counter() - started > 5:
            lots, repeats, cold_lots = lots[:10], 1, min(cold_lots, 3)
        for lot in lots[5:]:
            con.execute(query, [lot]).fetchall()
        for _ in range(repeats):
            for lot in lots:
                elapsed, rows, cpu_used = timed(lambda lot=lot, con=con: len(con.execute(query, [lot]).fetchall()))
                warm.append(elapsed)
                sizes.append(rows)
                cpu.append(cpu_used)
    cold = []
    for lot in lots[:cold_lots]:
        with duckdb.connect(path, read_only=True) as con:
            con.execute("set threads = 2")
            cold.append(timed(lambda lot=lot, con=con: len(con.execute(query, [lot]).fetchall()))[0])
    return {
        "p50": statistics.median(warm),
        "p95": percentile(warm, 0.95),
        "cpu_p50": statistics.median(cpu),
        "cold_p50": statistics.median(cold),
        "cold_p95": percentile(cold, 0.95),
        "rows_p50": statistics.median(sizes),
        "rows_max": max(sizes),
    }


def check_agreement(path: str, strategy: Strategy, roots: list[str], leaves: list[str]) -> int:
    """Lots whose trace (lot, depth) differs from the ids_code strategy's; 0 when all agree."""
    differing = 0
    with duckdb.connect(path, read_only=True) as con:
        for macro, lots in (("forward", roots), ("backward", leaves)):
            reference = f"ids_code_{macro}"
            for lot in lots[:10]:
                query = "select lot_code, depth from {}(?) order by all"
                mine = con.execute(query.format(f"{strategy.name}_{macro}"), [lot]).fetchall()
                if mine != con.execute(query.format(reference), [lot]).fetchall():
                    differing += 1
    return differing


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--landing", type=Path, help="a landing folder (day folders YYYY-MM-DD)")
    parser.add_argument("--synthetic-edges", type=int, help="build a synthetic layered network of about N edges")
    parser.add_argument("--scratch", type=Path, help="scratch DuckDB file (default: a temporary one)")
    parser.add_argument("--sample", type=int, default=50, help="root lots forward and leaf lots backward")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--cold-lots", type=int, default=10)
    parser.add_argument("--hub-reach", type=int, default=20000, help="two-step paths that make a lot a hub")
    parser.add_argument("--skip", nargs="*", default=[], help="strategy names to leave out")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--reuse", action="store_true", help="measure the tables an earlier run left in --scratch")
    args = parser.parse_args()
    if (args.landing is None) == (args.synthetic_edges is None):
        parser.error("give exactly one of --landing and --synthetic-edges")

    scratch = args.scratch or Path(tempfile.mkdtemp(prefix="lineage-")) / "strategies.duckdb"
    reuse = args.reuse and scratch.exists()
    if not reuse:
        scratch.unlink(missing_ok=True)
    path = str(scratch)
    with duckdb.connect(path) as con:
        con.execute("set threads = 2")
        started = time.perf_counter()
        if reuse:
            pass
        elif args.landing:
            con.execute(LANDING_SQL.format(landing=args.landing.resolve(), csv=CSV_OPTIONS))
        else:
            per_day = args.synthetic_edges // 365 // 6  # intermediates and finished lots make 3 edges each
            con.execute(
                SYNTHETIC_SQL.format(
                    days=365,
                    raw=per_day * 2 // 3,
                    intermediate=per_day,
                    finished=per_day,
                    hubs=20,
                    hub_permille=150,
                )
            )
        con.execute("checkpoint")
        print(f"source loaded in {time.perf_counter() - started:.1f} s")
        counts = "select (select count(*) from edges), (select count(*) from lots)"
        edge_count, lot_count = con.execute(counts).fetchone()
        print(f"{edge_count:,} edges, {lot_count:,} lots")
        roots, leaves = sample_lots(con, args.sample, args.seed)
        chosen = [strategy for strategy in strategies(args.hub_reach) if strategy.name not in args.skip]
        built: dict[str, float] = {}
        build_seconds = {}
        for strategy in chosen:
            build_seconds[strategy.name] = float("nan") if reuse else build(con, strategy, built)
            create_macros(con, strategy)
            print(f"built {strategy.name} in {build_seconds[strategy.name]:.1f} s", flush=True)

    header = f"{'strategy':18} {'build s':>7} {'trace':9} {'p50 ms':>8} {'p95 ms':>8} {'cpu p50':>8}"
    header += f" {'cold p50':>8} {'cold p95':>8}"
    lines = [header + f" {'rows p50':>8} {'rows max':>8}"]
    for strategy in chosen:
        macros = [("forward", roots), ("backward", leaves)]
        if strategy.shipments_sql:
            macros.append(("shipments", roots))
        for macro, lots in macros:
            result = measure(path, f"{strategy.name}_{macro}", lots, args.repeats, args.cold_lots)
            lines.append(
                f"{strategy.name:18} {build_seconds[strategy.name]:7.1f} {macro:9} {result['p50']:8.1f} "
                f"{result['p95']:8.1f} {result['cpu_p50']:8.1f} {result['cold_p50']:8.1f} {result['cold_p95']:8.1f} "
                f"{result['rows_p50']:8.0f} {result['rows_max']:8.0f}"
            )
            print(lines[-1], flush=True)
    if "ids_code" not in args.skip:
        for strategy in chosen:
            differing = check_agreement(path, strategy, roots, leaves)
            print(f"{strategy.name}: {differing} of 20 traces differ from ids_code")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
