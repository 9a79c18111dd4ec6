"""Rules that join feeds: references to unknown lots, events out of order, shipments of held or
expired lots, genealogy loops, open mass balances and daily volume anomalies.

Each rule is computed in DuckDB SQL into a frame (one row per referencing row or lot) and then
asserted with a Great Expectations expectation on that frame, whose result is what we report.

The per-row rules answer per landing day; unlike a raw row suite, a day's answer also depends on
other days (a lot produced later, a hold sent late, the days before it). Each such rule says
which days a change can reach (`*_days_reached`), so a daily run re-checks those and no others.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date, timedelta

import duckdb
import great_expectations.expectations as gxe
import pandas as pd

from batchtrack.feeds import FEEDS
from batchtrack.warehouse_schema import table_columns
from quality_checks.raw_suites import DAYS_PER_VALIDATION, day_chunks, days_covered
from quality_checks.results import CheckResult
from quality_checks.validation import Check, validate_frame

# Lots with an origin: produced, or received from a supplier. Production wins when both.
LOT_ORIGINS_SQL = """
with latest_products as (
    select product_code, shelf_life_days
    from raw.products
    qualify row_number() over (partition by product_code order by landing_date desc, line_number desc) = 1
),
produced as (
    select
        production.lot_code,
        min(production.produced_at) as made_at,
        max(coalesce(
            production.expiry_date,
            cast(production.produced_at as date) + cast(latest_products.shelf_life_days as integer)
        )) as expiry_date
    from raw.production
    left join latest_products on production.product_code = latest_products.product_code
    group by production.lot_code
),
received as (
    select
        inventory.lot_code,
        min(inventory.moved_at) as made_at,
        max(coalesce(
            inventory.expiry_date,
            cast(inventory.moved_at as date) + cast(latest_products.shelf_life_days as integer)
        )) as expiry_date
    from raw.inventory
    left join latest_products on inventory.product_code = latest_products.product_code
    where inventory.movement_type = 'receipt'
    group by inventory.lot_code
),
lot_origins as (
    select lot_code, made_at, expiry_date, 'produced' as origin_type from produced
    union all
    select lot_code, made_at, expiry_date, 'received' as origin_type from received
    where lot_code not in (select lot_code from produced)
)
"""

# The temp table that `lot_origins_computed` keeps the lot origins in, on the connection.
LOT_ORIGINS_TABLE = "lot_origins_computed"


@contextmanager
def lot_origins_computed(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Compute LOT_ORIGINS_SQL once for the checks run inside the block, not once per query: over
    all production and receipts it costs seconds on a long history, and a run asks for it about
    six times. A temp table on `con` (a read-only connection can make one too), dropped at the
    end; a nested block shares the outer one. The raw layer must not change inside the block."""
    if _has_lot_origins_table(con):
        yield
        return
    con.execute(f"create temp table {LOT_ORIGINS_TABLE} as {LOT_ORIGINS_SQL} select * from lot_origins")
    try:
        yield
    finally:
        con.execute(f"drop table if exists temp.main.{LOT_ORIGINS_TABLE}")


def _has_lot_origins_table(con: duckdb.DuckDBPyConnection) -> bool:
    return bool(
        con.execute(
            "select count(*) from duckdb_tables() where temporary and table_name = ?", [LOT_ORIGINS_TABLE]
        ).fetchone()[0]
    )


def lot_origins_cte(con: duckdb.DuckDBPyConnection) -> str:
    """`with lot_origins as (...)`: read from the table of `lot_origins_computed` inside its block,
    computed in the query outside one."""
    if _has_lot_origins_table(con):
        return f"with lot_origins as (select * from temp.main.{LOT_ORIGINS_TABLE})"
    return LOT_ORIGINS_SQL


@dataclass(frozen=True)
class Reference:
    """A feed column that names a lot which must have an origin (produced, or received)."""

    name: str  # expectation name
    feed: str
    lot_column: str
    key_columns: tuple[str, ...]  # besides the lot, what names the referencing row
    what: str  # "consumed lot", for the description
    origins: str = "lot_origins"  # which lots count as known
    where: str = "true"  # which referencing rows count, on the alias `referencing`


REFERENCES: tuple[Reference, ...] = (
    Reference("consumption.input_lot_known", "consumption", "input_lot_code", ("lot_code",), "consumed input lot"),
    Reference(
        "consumption.output_lot_known",
        "consumption",
        "lot_code",
        ("input_lot_code",),
        "output lot of a consumption",
        origins="(select lot_code from lot_origins where origin_type = 'produced')",
    ),
    Reference("inspections.lot_known", "inspections", "lot_code", ("inspection_id",), "inspected lot"),
    Reference(
        "inventory.lot_known",
        "inventory",
        "lot_code",
        ("movement_id",),
        "lot of a stock movement",
        where="referencing.movement_type != 'receipt'",
    ),
    Reference("shipments.lot_known", "shipments", "lot_code", ("shipment_id", "line_no"), "shipped lot"),
)


def _day_filter(alias: str, days: list[date] | None) -> tuple[str, list]:
    if days is None:
        return "true", []
    return f"{alias}.landing_date in (select unnest(?::date[]))", [days]


def reference_days_reached(
    con: duckdb.DuckDBPyConnection, changed: Collection[date], *, after_a_run: bool = False
) -> set[date]:
    """The days whose reference checks a change can alter, besides the days whose latest result
    failed (the runner adds those): the changed days, and every day with a reference that has
    no origin now. The second is not the day's own doing: its lot can be produced on any later
    day, a re-sent day can take an origin away, and `as_of` moving on turns a reference within
    grace into an overdue one. A day whose references all resolve stays resolved (origins are
    never taken away by time), and a day that failed and is now resolved is found from its
    stored finding.

    Origins only come from rows, so when `changed` only adds deliveries (no production or
    inventory delivery of a changed day was checked by an earlier run: none came again or
    went), no reference lost its origin: a day with an unresolved reference failed at the last
    run and is among the failing days, so the changed days are all. Else one anti-join over
    every referencing row in DuckDB (a second on a long history), no frame. `after_a_run`:
    there is a recorded run (the failing days are known)."""
    if after_a_run and not _origin_deliveries_checked_before(con, changed):
        return set(changed)
    unresolved = " union ".join(
        f"""
        select distinct referencing.landing_date
        from raw.{reference.feed} as referencing
        left join {reference.origins} as known on referencing.{reference.lot_column} = known.lot_code
        where known.lot_code is null and ({reference.where})
        """
        for reference in REFERENCES
    )
    rows = con.execute(f"{lot_origins_cte(con)} {unresolved}").fetchall()
    return set(changed) | {row[0] for row in rows}


def reference_checks(
    con: duckdb.DuckDBPyConnection,
    *,
    as_of: date,
    grace_days: int,
    day: date | None = None,
    days: Collection[date] | None = None,
) -> list[CheckResult]:
    """Every referenced lot is known. Late data is normal: a reference stays a warning for
    `grace_days` after the day it landed, and is an error after that. All rows, those of `day`,
    or one result per day of `days`, read a month of days at a time (`in_chunks`)."""

    def check(day_list: list[date] | None) -> list[CheckResult]:
        return _reference_checks(con, as_of=as_of, grace_days=grace_days, day_list=day_list)

    return in_chunks(days_covered(day, days), check)


def in_chunks(
    day_list: list[date] | None, check: Callable[[list[date] | None], list[CheckResult]]
) -> list[CheckResult]:
    """`check` on `day_list` (None: all rows) a month of days at a time, so that no frame holds
    a whole year of history (the first run over it); one result per day either way, in the
    order one call on every day would give them (each expectation's days in order)."""
    if day_list is None or len(day_list) <= DAYS_PER_VALIDATION:
        return check(day_list)
    results: list[CheckResult] = []
    for chunk in day_chunks(day_list):
        results += check(chunk)
    first_seen: dict[str, int] = {}
    for result in results:
        first_seen.setdefault(result.expectation, len(first_seen))
    return sorted(results, key=lambda result: first_seen[result.expectation])


def _reference_checks(
    con: duckdb.DuckDBPyConnection, *, as_of: date, grace_days: int, day_list: list[date] | None
) -> list[CheckResult]:
    results: list[CheckResult] = []
    for reference in REFERENCES:
        day_sql, params = _day_filter("referencing", day_list)
        keys = ", ".join(f"referencing.{column}" for column in reference.key_columns)
        frame = con.execute(
            f"""
            {lot_origins_cte(con)}
            select
                referencing.{reference.lot_column} as referenced_lot_code,
                {keys},
                referencing.landing_date,
                known.lot_code as known_lot_code,
                date_diff('day', referencing.landing_date, cast(? as date)) > ? as is_overdue
            from raw.{reference.feed} as referencing
            left join {reference.origins} as known on referencing.{reference.lot_column} = known.lot_code
            where {day_sql} and ({reference.where})
            """,
            [as_of, grace_days, *params],
        ).df()
        key_columns = ["referenced_lot_code", *reference.key_columns]
        overdue = frame[frame["is_overdue"]].reset_index(drop=True)
        recent = frame[~frame["is_overdue"]].reset_index(drop=True)
        results += validate_frame(
            overdue,
            suite="references",
            checks=[
                Check(
                    reference.name,
                    "error",
                    f"Every {reference.what} was produced or received; still unknown more than "
                    f"{grace_days} days after the row landed.",
                    gxe.ExpectColumnValuesToNotBeNull(column="known_lot_code"),
                )
            ],
            key_columns=key_columns,
            days=day_list,
        )
        results += validate_frame(
            recent,
            suite="references",
            checks=[
                Check(
                    f"{reference.name}_within_grace",
                    "warning",
                    f"A {reference.what} not (yet) produced or received, landed within the last "
                    f"{grace_days} days: late data is normal, an error after that.",
                    gxe.ExpectColumnValuesToNotBeNull(column="known_lot_code"),
                )
            ],
            key_columns=key_columns,
            days=day_list,
        )
    return results


def timeline_days_reached(con: duckdb.DuckDBPyConnection, changed: Collection[date]) -> set[date]:
    """The days whose timeline checks a change can alter: the changed days, and the days that
    consume or ship a lot whose origin (made_at, expiry) or hold status the changed days speak
    about: its production or receipt, its holds and releases. A day that failed and is now fixed
    (a row taken away) is found from its stored finding instead.

    What a delivery took away no longer names its lots: a products delivery (a shelf life
    corrected back, a product row dropped), or a production or inventory day that an earlier
    run checked, delivered again or removed (a release dropped puts its lot back on hold).
    Those reach every day that consumes or ships."""
    if not changed:
        return set()
    if _changes_without_names(con, changed):
        every_day = con.execute(
            "select distinct landing_date from raw.consumption union select distinct landing_date from raw.shipments"
        ).fetchall()
        return set(changed) | {row[0] for row in every_day}
    rows = con.execute(
        """
        with changed_days as (select unnest(?::date[]) as landing_date),
        touched_lots as (
            select lot_code from raw.production
            where landing_date in (select landing_date from changed_days)
            union
            select lot_code from raw.inventory
            where landing_date in (select landing_date from changed_days)
                and movement_type in ('receipt', 'hold', 'release')
        )
        select distinct landing_date from raw.consumption
        where input_lot_code in (select lot_code from touched_lots)
        union
        select distinct landing_date from raw.shipments
        where lot_code in (select lot_code from touched_lots)
        """,
        [sorted(changed)],
    ).fetchall()
    return set(changed) | {row[0] for row in rows}


def _changes_without_names(con: duckdb.DuckDBPyConnection, changed: Collection[date]) -> bool:
    """Whether `changed` holds a products delivery, or a production or inventory delivery
    that an earlier run checked (it came again, or went)."""
    products = con.execute(
        "select count(*) from ingest.feed_day_changes where landing_date in (select unnest(?::date[])) "
        "and feed = 'products'",
        [sorted(changed)],
    ).fetchone()[0]
    return bool(products) or _origin_deliveries_checked_before(con, changed)


def _origin_deliveries_checked_before(con: duckdb.DuckDBPyConnection, changed: Collection[date]) -> bool:
    """Whether a recorded run checked the production or inventory rows of a day in `changed`:
    the day's delivery then came again or went since (a run checks every feed of the days it
    looks at, so a day it saw has findings of both suites, of no rows if the feed had none).
    From the findings, not from ingest.feed_day_changes, whose stamp a re-send or removal
    overwrites. A day loaded and changed again before any run recorded it counts as new: no
    recorded answer relied on what it took away."""
    if not table_columns(con, "main", "quality_findings"):
        return False
    return bool(
        con.execute(
            """
            select count(*) from main.quality_findings
            where landing_date in (select unnest(?::date[])) and suite in ('raw.production', 'raw.inventory')
            """,
            [sorted(changed)],
        ).fetchone()[0]
    )


def timeline_checks(
    con: duckdb.DuckDBPyConnection, *, day: date | None = None, days: Collection[date] | None = None
) -> list[CheckResult]:
    """Events in order: no lot consumed or shipped before it was made, none shipped on hold or expired.
    All rows, those of `day`, or one result per day of `days`, a month of days at a time."""
    return in_chunks(days_covered(day, days), lambda day_list: _timeline_checks(con, day_list))


def _timeline_checks(con: duckdb.DuckDBPyConnection, day_list: list[date] | None) -> list[CheckResult]:
    day_sql, params = _day_filter("consumption", day_list)
    consumed = con.execute(
        f"""
        {lot_origins_cte(con)}
        select
            consumption.input_lot_code,
            consumption.lot_code,
            consumption.landing_date,
            consumption.consumed_at,
            lot_origins.made_at as input_made_at
        from raw.consumption as consumption
        left join lot_origins on consumption.input_lot_code = lot_origins.lot_code
        where {day_sql}
        """,
        params,
    ).df()
    results = validate_frame(
        consumed,
        suite="timeline",
        checks=[
            Check(
                "consumption.consumed_after_made",
                "warning",
                "No lot is consumed before it was produced or received.",
                gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                    column_A="consumed_at",
                    column_B="input_made_at",
                    or_equal=True,
                    ignore_row_if="either_value_is_missing",
                ),
            )
        ],
        key_columns=["input_lot_code", "lot_code"],
        days=day_list,
    )

    day_sql, params = _day_filter("shipments", day_list)
    shipped = con.execute(
        f"""
        {lot_origins_cte(con)},
        checked as (
            select * from raw.shipments as shipments
            where {day_sql}
        ),
        -- the holds and releases of the lots shipped on the days checked only: the as-of join
        -- sorts every row it is given, and all of them take a second on a long history
        holds as (
            select lot_code, moved_at, movement_type
            from raw.inventory
            where movement_type in ('hold', 'release') and lot_code in (select lot_code from checked)
        )
        select
            shipments.lot_code,
            shipments.shipment_id,
            shipments.line_no,
            shipments.landing_date,
            shipments.shipped_at,
            cast(cast(shipments.shipped_at as date) as timestamp) as shipped_date,
            lot_origins.made_at,
            cast(lot_origins.expiry_date as timestamp) as expiry_date,
            coalesce(holds.movement_type, 'release') as status_at_shipment
        from checked as shipments
        left join lot_origins on shipments.lot_code = lot_origins.lot_code
        asof left join holds
            on shipments.lot_code = holds.lot_code and shipments.shipped_at >= holds.moved_at
        """,
        params,
    ).df()
    results += validate_frame(
        shipped,
        suite="timeline",
        checks=[
            Check(
                "shipments.shipped_after_made",
                "warning",
                "No lot is shipped before it was produced or received.",
                gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                    column_A="shipped_at", column_B="made_at", or_equal=True, ignore_row_if="either_value_is_missing"
                ),
            ),
            Check(
                "shipments.not_on_hold",
                "warning",
                "No lot is shipped while on hold (its latest hold/release movement before shipping is a hold).",
                gxe.ExpectColumnValuesToNotBeInSet(column="status_at_shipment", value_set=["hold"]),
            ),
            Check(
                "shipments.not_expired",
                "warning",
                "No lot is shipped after its expiry date.",
                gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                    column_A="expiry_date",
                    column_B="shipped_date",
                    or_equal=True,
                    ignore_row_if="either_value_is_missing",
                ),
            ),
        ],
        key_columns=["lot_code", "shipment_id", "line_no"],
        days=day_list,
    )
    return results


def lots_on_loops(edges: list[tuple[str, str]]) -> dict[str, int]:
    """Lots that are their own ancestor -> size of their loop (strongly connected component).

    Iterative Tarjan, so a deep genealogy cannot overflow the stack and loops cannot hang it.
    """
    graph: dict[str, list[str]] = {}
    for source, target in edges:
        graph.setdefault(source, []).append(target)
        graph.setdefault(target, [])
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    looped: dict[str, int] = {}
    counter = 0
    for root in graph:
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            node, child_position = work.pop()
            if child_position == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            children = graph[node]
            if child_position < len(children):
                work.append((node, child_position + 1))
                child = children[child_position]
                if child not in index:
                    work.append((child, 0))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1 or node in graph[node]:
                    for member in component:
                        looped[member] = len(component)
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return looped


# Consumption edges that can be on a loop: an edge whose input lot is no lot's output, or whose
# output lot is no lot's input, is on none; three rounds of peeling those leave a small rest for
# the loop search (the same peeling as rpt_lot_genealogy_loops).
LOOP_CANDIDATE_EDGES_SQL = """
with recursive edges_0 as (
    select distinct input_lot_code, lot_code as output_lot_code
    from raw.consumption
    where input_lot_code is not null and lot_code is not null
),
edges_1 as (
    select * from edges_0
    where input_lot_code in (select output_lot_code from edges_0)
        and output_lot_code in (select input_lot_code from edges_0)
),
edges_2 as (
    select * from edges_1
    where input_lot_code in (select output_lot_code from edges_1)
        and output_lot_code in (select input_lot_code from edges_1)
)
select * from edges_2
where input_lot_code in (select output_lot_code from edges_2)
    and output_lot_code in (select input_lot_code from edges_2)
"""


def genealogy_loop_checks(con: duckdb.DuckDBPyConnection) -> list[CheckResult]:
    """No lot is its own ancestor, over all days. Reads the dbt mart rpt_lot_genealogy_loops when
    it is built from the consumptions loaded now; otherwise (a warehouse built before the mart,
    raw data loaded since the last dbt run) finds the loops in the raw consumption edges itself.
    Both name the same lots: lots on a loop of two or more, and lots consuming themselves,
    unresolved lots included (dim_lots keeps every referenced lot)."""
    if _loops_mart_is_current(con):
        looped = con.execute(
            "select lot_code, len(other_loop_lot_codes) + 1 as loop_size from main.rpt_lot_genealogy_loops"
        ).fetchall()
        lot_count = con.execute(
            """
            select count(*) from (
                select input_lot_id from main.fct_lot_genealogy
                union
                select output_lot_id from main.fct_lot_genealogy
            )
            """
        ).fetchone()[0]
    else:
        looped = list(lots_on_loops(con.execute(LOOP_CANDIDATE_EDGES_SQL).fetchall()).items())
        lot_count = con.execute(
            """
            select count(*) from (
                select input_lot_code from raw.consumption where lot_code is not null
                union
                select lot_code from raw.consumption where input_lot_code is not null
            )
            where input_lot_code is not null
            """
        ).fetchone()[0]
    # Only the lots on loops go to Great Expectations (a frame of every lot costs seconds); the
    # lots checked are counted in SQL.
    frame = pd.DataFrame(sorted(looped), columns=["lot_code", "loop_size"])
    results = validate_frame(
        frame,
        suite="genealogy",
        checks=[
            Check(
                "genealogy.no_loops",
                "warning",
                "No lot is recorded as its own ancestor (a loop in the consumption genealogy).",
                gxe.ExpectColumnValuesToBeNull(column="loop_size"),
            )
        ],
        key_columns=["lot_code"],
    )
    return [replace(result, checked_count=int(lot_count)) for result in results]


def _loops_mart_is_current(con: duckdb.DuckDBPyConnection) -> bool:
    """The loops mart exists and dbt has staged every consumption day loaded (its incremental
    watermark covers the latest ingest.feed_day_changes stamp of the feed). Within a dbt run the
    marts are built after staging, and the quality asset runs only after the whole run."""
    if not (
        table_columns(con, "main", "rpt_lot_genealogy_loops")
        and table_columns(con, "intermediate", "incremental_watermarks")
        and table_columns(con, "ingest", "feed_day_changes")
    ):
        return False
    return con.execute(
        """
        select coalesce(
            (select watermark from intermediate.incremental_watermarks where model_name = 'stg_raw__consumptions')
                >= (select max(changed_at) from ingest.feed_day_changes where feed = 'consumption'),
            false
        )
        """
    ).fetchone()[0]


def mass_balance_checks(con: duckdb.DuckDBPyConnection) -> list[CheckResult]:
    """Every resolved lot's mass balance closes (reads the fct_lot_mass_balance mart, when built)."""
    if not table_columns(con, "main", "fct_lot_mass_balance"):
        return []
    # Only the lots whose balance does not close go to Great Expectations (a frame of every lot
    # costs seconds); a null is_balanced passes, as the expectation would let it.
    frame = con.execute(
        """
        select lot_code, coalesce(finding, 'balance does not close') as finding, balance_difference, is_balanced
        from main.fct_lot_mass_balance
        where origin_type != 'unresolved' and not is_balanced
        """
    ).df()
    lot_count = con.execute(
        "select count(*) from main.fct_lot_mass_balance where origin_type != 'unresolved'"
    ).fetchone()[0]
    results = validate_frame(
        frame,
        suite="marts",
        checks=[
            Check(
                "mass_balance.closes",
                "warning",
                "Made or received + returned + adjusted = consumed + shipped + scrapped + written off + on hand, "
                "per lot (fct_lot_mass_balance; lots without origin are reported by the *.lot_known checks).",
                gxe.ExpectColumnValuesToBeInSet(column="is_balanced", value_set=[True]),
            )
        ],
        key_columns=["lot_code", "finding"],
    )
    return [replace(result, checked_count=int(lot_count)) for result in results]


TRANSACTION_FEEDS = tuple(feed.name for feed in FEEDS if not feed.master_data)


def daily_counts(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Rows delivered per transaction feed and landing day (loaded + quarantined); 0 when absent."""
    raw_counts = " union all ".join(
        f"select '{feed}' as feed, landing_date, count(*) as row_count from raw.{feed} group by landing_date"
        for feed in TRANSACTION_FEEDS
    )
    return con.execute(
        f"""
        with counts as (
            {raw_counts}
            union all
            select feed, landing_date, count(*) from main.quarantine group by feed, landing_date
        ),
        days as (
            select landing_date from counts
            union
            select landing_date from ingest.loaded_files
        ),
        feeds as (select unnest(?) as feed)
        select feeds.feed, days.landing_date, coalesce(sum(counts.row_count), 0) as row_count
        from feeds
        cross join days
        left join counts on counts.feed = feeds.feed and counts.landing_date = days.landing_date
        group by feeds.feed, days.landing_date
        order by feeds.feed, days.landing_date
        """,
        [list(TRANSACTION_FEEDS)],
    ).df()


def _deviation(count: int, previous: list[int]) -> tuple[float, float, float]:
    """(|count - median| / spread, median, spread); spread is the MAD with a floor of 5 % of the
    median (at least 1 row), so a perfectly steady feed does not flag every small wobble."""
    median = statistics.median(previous)
    mad = statistics.median(abs(value - median) for value in previous)
    spread = max(mad, 0.05 * median, 1.0)
    return abs(count - median) / spread, median, spread


def volume_days_reached(
    con: duckdb.DuckDBPyConnection, changed: Collection[date], *, window_days: int = 14, weekday_weeks: int = 5
) -> set[date]:
    """The days whose volume checks a change can alter: a changed day itself, the `window_days`
    delivered days after it (it is in their window) and the same weekday in the `weekday_weeks`
    weeks after it (it is in their weekday normal)."""
    if not changed:
        return set()
    delivered = sorted({pd.Timestamp(value).date() for value in daily_counts(con)["landing_date"]})
    reached = set(changed)
    for position, landing_date in enumerate(delivered):
        later = delivered[position + 1 : position + 1 + window_days]
        if landing_date in changed:
            reached.update(later)
            reached.update(
                day
                for day in delivered[position + 1 :]
                if day.weekday() == landing_date.weekday() and day <= landing_date + timedelta(weeks=weekday_weeks)
            )
    return reached


def volume_checks(
    con: duckdb.DuckDBPyConnection,
    *,
    day: date | None = None,
    days: Collection[date] | None = None,
    window_days: int = 14,
    min_history_days: int = 7,
    mad_multiplier: float = 5.0,
    weekday_weeks: int = 5,
) -> list[CheckResult]:
    """A day's row count per feed within median ± k·MAD of the previous `window_days` delivered days.

    Plants run a weekly rhythm (a quiet Sunday is normal), so a day outside the recent normal is
    still accepted when it is within the normal of the same weekday over the previous
    `weekday_weeks` weeks. Every day, `day`, or one result per day of `days`."""
    day_list = days_covered(day, days)
    wanted = None if day_list is None else set(day_list)
    counts = daily_counts(con)
    results: list[CheckResult] = []
    for feed in TRANSACTION_FEEDS:
        history = counts[counts["feed"] == feed].sort_values("landing_date").reset_index(drop=True)
        history["landing_date"] = [pd.Timestamp(value).date() for value in history["landing_date"]]
        rows = []
        for position, row in history.iterrows():
            landing_date = row["landing_date"]
            if wanted is not None and landing_date not in wanted:
                continue
            previous = history.iloc[max(0, position - window_days) : position]
            if len(previous) < min_history_days:
                continue
            count = int(row["row_count"])
            deviation, median, spread = _deviation(count, previous["row_count"].tolist())
            earliest = landing_date - timedelta(weeks=weekday_weeks)
            same_weekday = history.iloc[:position]
            same_weekday = same_weekday[
                [
                    value.weekday() == landing_date.weekday() and value >= earliest
                    for value in same_weekday["landing_date"]
                ]
            ]
            if deviation > mad_multiplier and len(same_weekday):
                weekday_deviation, *_ = _deviation(count, same_weekday["row_count"].tolist())
                deviation = min(deviation, weekday_deviation)
            rows.append(
                {
                    "volume_key": (
                        f"{landing_date.isoformat()}: {count} rows, normal {median:g} ± {mad_multiplier:g}·{spread:g}"
                    ),
                    "landing_date": landing_date,
                    "row_count": count,
                    "deviation_in_mads": deviation,
                }
            )
        frame = pd.DataFrame(rows, columns=["volume_key", "landing_date", "row_count", "deviation_in_mads"])
        results += validate_frame(
            frame,
            suite="volume",
            checks=[
                Check(
                    f"{feed}.daily_volume",
                    "warning",
                    f"A day's {feed} row count is within median ± {mad_multiplier:g}·MAD of the previous "
                    f"{window_days} delivered days (or of the same weekday in the last {weekday_weeks} weeks).",
                    gxe.ExpectColumnValuesToBeBetween(column="deviation_in_mads", max_value=mad_multiplier),
                )
            ],
            key_columns=["volume_key"],
            days=day_list,
        )
    return results
