"""The SQL the dashboards read: marts into Polars frames, over a connection the caller opened
(read-only is enough). One function per question a page asks; no figure code here.

Customer contact details (names, e-mails, phones) are read by `recall_notification_list` only:
every other query names customers by code at most."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import duckdb
import polars as pl

# Lines are named by site and line, because line codes repeat across plants.
LINE_LABEL = "site_code || ' ' || line_code"


def _frame(con: duckdb.DuckDBPyConnection, sql: str, parameters: list | dict | None = None) -> pl.DataFrame:
    return con.execute(sql, parameters or []).pl()


def _table_exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return bool(
        con.execute(
            "select count(*) from duckdb_tables() where schema_name = ? and table_name = ?", [schema, table]
        ).fetchone()[0]
    )


# ---------------------------------------------------------------- freshness


def freshness(con: duckdb.DuckDBPyConnection) -> dict:
    """The data's date range and freshness: first and last landing day loaded, the as-of date
    the marts are computed for, when the last file was loaded and when the checks last ran."""
    loaded = con.execute(
        "select min(landing_date), max(landing_date), max(loaded_at), count(distinct landing_date) "
        "from ingest.loaded_files"
    ).fetchone()
    as_of = con.execute("select max(as_of_date) from main.dim_lots").fetchone()[0]
    checked_at = None
    if _table_exists(con, "main", "quality_findings"):
        checked_at = con.execute("select max(checked_at) from main.quality_findings").fetchone()[0]
    return {
        "first_landing_date": loaded[0],
        "last_landing_date": loaded[1],
        "last_loaded_at": loaded[2],
        "landing_days": loaded[3],
        "as_of_date": as_of,
        "last_checked_at": checked_at,
    }


# ---------------------------------------------------------------- defects

# The defect questions read main.fct_inspection_defects, or the copy of it that
# `defect_facts_copy` makes for a page that asks them all (their `facts` argument).
DEFECT_FACTS = "main.fct_inspection_defects"

_DIMENSION_SQL = {"line": LINE_LABEL, "product": "product_code", "check": "check_code"}


@contextmanager
def defect_facts_copy(con: duckdb.DuckDBPyConnection) -> Iterator[str]:
    """A temporary copy of the fct_inspection_defects columns the defect questions read, with
    samples and defects as BIGINT; yields its name, to pass as `facts`, and drops it after.
    The mart stores the two sums as HUGEINT (dbt's type for a sum), which DuckDB decompresses
    at about half a microsecond a value: the copy reads them once for every question of a page.
    A mart that stores them as BIGINT is read as it is (yields DEFECT_FACTS)."""
    stored_types = con.execute(
        """
        select data_type from duckdb_columns()
        where database_name = current_database() and schema_name = 'main'
            and table_name = 'fct_inspection_defects' and column_name in ('samples', 'defects')
        """
    ).fetchall()
    if stored_types == [("BIGINT",), ("BIGINT",)]:
        yield DEFECT_FACTS
        return
    con.execute(
        """
        create or replace temp table defect_facts as
        select
            lot_id,
            check_code,
            inspected_date,
            product_code,
            product_category,
            site_code,
            line_code,
            cast(samples as bigint) as samples,
            cast(defects as bigint) as defects
        from main.fct_inspection_defects
        """
    )
    try:
        yield "temp.defect_facts"
    finally:
        con.execute("drop table if exists temp.defect_facts")


def daily_defects(con: duckdb.DuckDBPyConnection, dimension: str, facts: str = DEFECT_FACTS) -> pl.DataFrame:
    """Samples and defects per member of `dimension` (line, product or check) and inspection day:
    the points of a p-chart. Columns: member, inspected_date, samples, defects."""
    member = _DIMENSION_SQL[dimension]
    return _frame(
        con,
        f"""
        select
            {member} as member,
            inspected_date,
            cast(sum(samples) as bigint) as samples,
            cast(sum(defects) as bigint) as defects
        from {facts}
        where {member} is not null
        group by all
        having sum(samples) > 0
        order by member, inspected_date
        """,
    )


def defects_by_check_code(
    con: duckdb.DuckDBPyConnection, since_days: int | None = None, facts: str = DEFECT_FACTS
) -> pl.DataFrame:
    """Defects per check code (for a Pareto), over the whole period or the last `since_days`
    days up to the as-of date. Columns: check_code, defects, samples."""
    window = ""
    if since_days is not None:
        window = f"where inspected_date > (select max(as_of_date) from main.dim_lots) - {int(since_days)}"
    return _frame(
        con,
        f"""
        select
            check_code,
            cast(sum(defects) as bigint) as defects,
            cast(sum(samples) as bigint) as samples
        from {facts}
        {window}
        group by check_code
        order by defects desc, check_code
        """,
    )


def worst_lots(
    con: duckdb.DuckDBPyConnection, limit: int = 25, min_samples: int = 100, facts: str = DEFECT_FACTS
) -> pl.DataFrame:
    """The lots with the highest defect rate over all their checks (lots with at least
    `min_samples` samples, so a 2-of-5 micro test does not top the list), with the suppliers
    their raw materials came from when they are finished lots with defects."""
    return _frame(
        con,
        f"""
        with

        lots as (

            select
                lot_id,
                cast(sum(samples) as bigint) as samples,
                cast(sum(defects) as bigint) as defects
            from {facts}
            group by lot_id
            having sum(samples) >= {int(min_samples)}

        ),

        -- The lots that can make the list, ties at its end included (the lot code settles them
        -- below): only these are described, so no text is built for two million lots.
        listed as (

            select * from lots
            qualify rank() over (order by defects / samples desc, defects desc) <= {int(limit)}

        ),

        details as (

            select
                lot_id,
                any_value(product_code) as product_code,
                any_value({LINE_LABEL}) as line,
                min(inspected_date) as first_inspected_date,
                string_agg(distinct check_code, ', ' order by check_code) filter (where defects > 0)
                    as defective_checks
            from {facts}
            where lot_id in (select listed.lot_id from listed)
            group by lot_id

        ),

        suppliers as (

            select
                finished_lot_id as lot_id,
                string_agg(distinct supplier_code, ', ' order by supplier_code) as supplier_codes
            from main.fct_supplier_defect_attribution
            where finished_lot_id in (select listed.lot_id from listed)
            group by finished_lot_id

        )

        select
            lots.lot_code,
            details.product_code,
            details.line,
            details.first_inspected_date,
            listed.samples,
            listed.defects,
            details.defective_checks,
            listed.defects / listed.samples as defect_rate,
            suppliers.supplier_codes
        from listed
        inner join main.dim_lots as lots on listed.lot_id = lots.lot_id
        inner join details on listed.lot_id = details.lot_id
        left join suppliers on listed.lot_id = suppliers.lot_id
        order by defect_rate desc, listed.defects desc, lots.lot_code
        limit {int(limit)}
        """,
    )


class ModelMissing(LookupError):
    """The warehouse lacks a model a page reads: it was built by an older Batchtrack."""


def supplier_scorecard(con: duckdb.DuckDBPyConnection, facts: str = DEFECT_FACTS) -> pl.DataFrame:
    """Per supplier and check code: the inspected finished lots that hold the supplier's
    material (through the genealogy, at any depth) and their samples, those of them with defects
    and their defects, the resulting rate and that rate relative to all finished lots for the
    check. The suppliers each lot holds are the bit sets of rpt_lot_supplier_sets, which the
    build keeps current; the defects are attributed as fct_supplier_defect_attribution does
    (each finished lot's defect fact counted once per supplier however many of its lots went
    in), so the mart's row per defect fact and raw lot is not read.
    Columns: supplier_code, check_code, finished_lots, defective_lots, samples, defects,
    defect_rate, overall_rate, relative_rate."""
    for model in ("rpt_supplier_bits", "rpt_lot_supplier_sets"):
        if not _table_exists(con, "main", model):
            raise ModelMissing(
                f"the warehouse has no main.{model} (the supplier scorecard reads it): it was built by an "
                "older Batchtrack; run `batchtrack ingest` once to build the models"
            )
    return _frame(
        con,
        f"""
        with

        supplier_bits as (

            select
                supplier_code,
                word,
                supplier_bit
            from main.rpt_supplier_bits

        ),

        lot_suppliers as (

            select
                lot_id,
                word,
                supplier_set
            from main.rpt_lot_supplier_sets

        ),

        -- finished lots counted once per set of suppliers they hold, then once per supplier of the set
        by_supplier_set as (

            select
                lot_suppliers.word,
                lot_suppliers.supplier_set,
                facts.check_code,
                count(distinct facts.lot_id) as finished_lots,
                count(distinct facts.lot_id) filter (where facts.defects > 0) as defective_lots,
                sum(facts.samples) as samples,
                sum(facts.defects) filter (where facts.defects > 0) as defects
            from {facts} as facts
            inner join lot_suppliers on facts.lot_id = lot_suppliers.lot_id
            where facts.product_category = 'finished'
            group by all

        ),

        exposure as (

            select
                supplier_bits.supplier_code,
                by_supplier_set.check_code,
                sum(by_supplier_set.finished_lots) as finished_lots,
                sum(by_supplier_set.defective_lots) as defective_lots,
                sum(by_supplier_set.samples) as samples,
                coalesce(sum(by_supplier_set.defects), 0) as defects
            from by_supplier_set
            inner join supplier_bits
                on
                    by_supplier_set.word = supplier_bits.word
                    and by_supplier_set.supplier_set & supplier_bits.supplier_bit != 0
            group by all

        ),

        overall as (

            select
                check_code,
                sum(defects) / sum(samples) as overall_rate
            from {facts}
            where product_category = 'finished'
            group by check_code

        )

        select
            exposure.supplier_code,
            exposure.check_code,
            cast(exposure.finished_lots as bigint) as finished_lots,
            cast(exposure.defective_lots as bigint) as defective_lots,
            cast(exposure.samples as bigint) as samples,
            cast(exposure.defects as bigint) as defects,
            exposure.defects / exposure.samples as defect_rate,
            overall.overall_rate,
            case when overall.overall_rate > 0
                then exposure.defects / exposure.samples / overall.overall_rate
            end as relative_rate
        from exposure
        left join overall on exposure.check_code = overall.check_code
        order by exposure.supplier_code, exposure.check_code
        """,
    )


# ---------------------------------------------------------------- expiry

MONTHLY_WRITEOFFS_SQL = """
with

writeoffs as (

    select
        date_trunc('month', writeoff_date) as month,
        site_code,
        sum(quantity_written_off) as quantity_written_off,
        sum(value_written_off) as value_written_off
    from main.fct_expiry_writeoffs
    group by all

),

made as (

    select
        date_trunc('month', lots.made_or_received_date) as month,
        lots.site_code,
        sum(lots.quantity_made_or_received * products.unit_cost) as value_made
    from main.dim_lots as lots
    left join main.dim_products as products on lots.product_code = products.product_code
    where lots.origin_type in ('produced', 'received')
    group by all

)

select
    cast(coalesce(writeoffs.month, made.month) as date) as month,
    coalesce(writeoffs.site_code, made.site_code) as site_code,
    cast(coalesce(writeoffs.quantity_written_off, 0) as double) as quantity_written_off,
    cast(coalesce(writeoffs.value_written_off, 0) as double) as value_written_off,
    cast(coalesce(made.value_made, 0) as double) as value_made
from writeoffs
full outer join made on writeoffs.month = made.month and writeoffs.site_code = made.site_code
order by month, site_code
"""


def monthly_writeoffs(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Expiry write-offs per month and site (quantity and value), beside the value made or
    received there that month. Columns: month, site_code, quantity_written_off,
    value_written_off, value_made. Stock written off at a DC was made at a plant, so a DC's
    value made is 0 and shares are read per month over all sites."""
    return _frame(con, MONTHLY_WRITEOFFS_SQL)


def product_writeoffs(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Per product with any expiry write-off: quantity and value written off over the whole
    period, the quantity made or received, and the share written off (same unit, so a share)."""
    return _frame(
        con,
        """
        with

        writeoffs as (

            select product_code, sum(quantity_written_off) as quantity_written_off,
                sum(value_written_off) as value_written_off
            from main.fct_expiry_writeoffs
            group by product_code

        ),

        made as (

            select product_code, sum(quantity_made_or_received) as quantity_made
            from main.dim_lots
            where origin_type in ('produced', 'received')
            group by product_code

        )

        select
            writeoffs.product_code,
            products.base_unit,
            cast(writeoffs.quantity_written_off as double) as quantity_written_off,
            cast(writeoffs.value_written_off as double) as value_written_off,
            cast(made.quantity_made as double) as quantity_made,
            cast(writeoffs.quantity_written_off / nullif(made.quantity_made, 0) as double) as share_written_off
        from writeoffs
        left join made on writeoffs.product_code = made.product_code
        left join main.dim_products as products on writeoffs.product_code = products.product_code
        order by value_written_off desc, product_code
        """,
    )


def stock_at_risk(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """rpt_stock_at_risk: value and quantity expiring within 7, 14 and 30 days, per site and product."""
    return _frame(
        con,
        """
        select
            site_code,
            product_code,
            cast(coalesce(value_expiring_7_days, 0) as double) as value_expiring_7_days,
            cast(coalesce(value_expiring_14_days, 0) as double) as value_expiring_14_days,
            cast(coalesce(value_expiring_30_days, 0) as double) as value_expiring_30_days,
            cast(coalesce(quantity_expiring_7_days, 0) as double) as quantity_expiring_7_days,
            cast(coalesce(quantity_expiring_14_days, 0) as double) as quantity_expiring_14_days,
            cast(coalesce(quantity_expiring_30_days, 0) as double) as quantity_expiring_30_days,
            lot_count
        from main.rpt_stock_at_risk
        order by site_code, product_code
        """,
    )


STOCK_AGE_BUCKETS = ["0-7 days", "8-30 days", "31-90 days", "over 90 days", "unknown"]


def stock_age(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Stock on hand per site and age bucket (days since made or received), value and lots."""
    return _frame(
        con,
        """
        select
            site_code,
            stock_age_bucket,
            cast(sum(coalesce(stock_value, 0)) as double) as stock_value,
            cast(sum(quantity_on_hand) as double) as quantity_on_hand,
            count(distinct lot_code) as lot_count
        from main.fct_stock_on_hand
        group by all
        order by site_code, stock_age_bucket
        """,
    )


# First-expired-first-out breaches are a mart (main.fct_fefo_breaches, its rule in its model),
# built incrementally with the day's data: the page reads totals, weeks and the latest lines.


def fefo_breach_count(con: duckdb.DuckDBPyConnection) -> int:
    return con.execute("select count(*) from main.fct_fefo_breaches").fetchone()[0]


def fefo_breaches_by_week(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Breaching shipment lines per week (Monday) and shipping site.
    Columns: week, site_code, lines, quantity_shipped."""
    return _frame(
        con,
        """
        select
            date_trunc('week', shipped_date) as week,
            site_code,
            count(*) as lines,
            cast(sum(quantity_shipped) as double) as quantity_shipped
        from main.fct_fefo_breaches
        group by all
        order by week, site_code
        """,
    )


def latest_fefo_breaches(con: duckdb.DuckDBPyConnection, limit: int = 100) -> pl.DataFrame:
    """The most recent breaching shipment lines, newest first."""
    return _frame(
        con,
        """
        select
            shipped_at,
            shipment_id,
            line_no,
            site_code,
            product_code,
            lot_code,
            expiry_date,
            first_expiring_lot_code,
            first_expiring_expiry_date,
            earlier_expiring_lot_count,
            cast(earlier_expiring_quantity_on_hand as double) as earlier_expiring_quantity_on_hand,
            customer_code
        from main.fct_fefo_breaches
        order by shipped_at desc, shipment_id, line_no
        limit ?
        """,
        [limit],
    )


def shipment_line_count(con: duckdb.DuckDBPyConnection) -> int:
    return con.execute("select count(*) from main.fct_shipment_lines").fetchone()[0]


# ---------------------------------------------------------------- data quality

# Reason texts quote the offending value; a page shows the kind and the column only, since a
# value from customers.csv can be personal data.
REASON_KIND_SQL = """
case
    when reason like 'missing required value%' then 'missing required value'
    when reason like 'unparseable ISO 8601%' then 'unparseable date or time'
    when reason like 'unparseable%number%' then 'unparseable number'
    when reason like 'unparseable%' then 'unparseable value'
    when reason like 'negative quantity%' then 'negative quantity'
    when reason like 'duplicate key%' then 'duplicate key'
    when reason like 'defect_count%above sample_size%' then 'defects above sample size'
    when reason like 'unknown movement_type%' then 'unknown movement type'
    else 'other'
end
"""

REASON_COLUMN_SQL = """
coalesce(
    nullif(regexp_extract(reason, '^missing required value: ([A-Za-z_]+)', 1), ''),
    nullif(regexp_extract(reason, '^unparseable .* in ([A-Za-z_]+):', 1), ''),
    nullif(regexp_extract(reason, '^duplicate key ([A-Za-z_]+)=', 1), ''),
    case
        when reason like 'negative quantity%' then 'quantity'
        when reason like 'defect_count%' then 'defect_count'
        when reason like 'unknown movement_type%' then 'movement_type'
    end
)
"""


def quarantine_by_day(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Quarantined rows per feed, landing day and reason kind."""
    return _frame(
        con,
        f"""
        select
            feed,
            landing_date,
            {REASON_KIND_SQL} as reason_kind,
            count(*) as quarantined_rows
        from main.quarantine
        group by all
        order by landing_date, feed, reason_kind
        """,
    )


def quarantine_rows(con: duckdb.DuckDBPyConnection, limit: int = 200) -> pl.DataFrame:
    """The most recent quarantined rows, by file and line, with the reason kind and column
    (never the raw record or the quoted value)."""
    return _frame(
        con,
        f"""
        select
            feed,
            landing_date,
            source_file,
            line_number,
            {REASON_KIND_SQL} as reason_kind,
            {REASON_COLUMN_SQL} as column_name
        from main.quarantine
        order by landing_date desc, source_file, line_number
        limit {int(limit)}
        """,
    )


# A daily quality run re-checks only the landing days that changed (and those they reach), so the
# result of a check for a day is the one of the latest run that checked that day. main.quality_runs
# numbers the runs; a run that checked every day supersedes all before it. Findings without a
# recorded run (a warehouse from before quality_runs) count as one whole run: the latest.
def _runs_sql(con: duckdb.DuckDBPyConnection) -> str:
    latest_whole_run = (
        "select arg_max(run_id, checked_at) as run_id, 0 as run_number, true as is_full from main.quality_findings"
    )
    if not _table_exists(con, "main", "quality_runs"):
        return latest_whole_run
    return (
        "select run_id, run_number, is_full from main.quality_runs "
        f"union all {latest_whole_run} having not exists (select 1 from main.quality_runs)"
    )


def quality_findings_by_day(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Failing rows per day and expectation from main.quality_findings: for a check per landing
    day, the latest result of that day; for a check of all the data, the latest run of each day
    it ran on."""
    if not _table_exists(con, "main", "quality_findings"):
        return pl.DataFrame(
            schema={"finding_date": pl.Date, "expectation": pl.String, "severity": pl.String, "failing_count": pl.Int64}
        )
    return _frame(
        con,
        f"""
        with

        runs as ({_runs_sql(con)}),

        findings as (

            select
                coalesce(findings.landing_date, cast(findings.checked_at as date)) as finding_date,
                findings.landing_date is null as is_whole,
                findings.expectation,
                findings.severity,
                findings.failing_count,
                findings.checked_at,
                runs.run_number
            from main.quality_findings as findings
            left join runs on findings.run_id = runs.run_id

        ),

        latest as (

            select * from findings
            qualify row_number() over (
                partition by expectation, finding_date, is_whole
                -- by run, not clock: a wall clock can step back
                order by run_number desc nulls last, checked_at desc
            ) = 1

        )

        select finding_date, expectation, severity, cast(sum(failing_count) as bigint) as failing_count
        from latest
        group by finding_date, expectation, severity
        having sum(failing_count) > 0
        order by finding_date, expectation
        """,
    )


def latest_findings(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """The latest result of every check, failures first (errors before warnings), with sample keys
    (the newest failing days' first); a check per landing day sums the latest result of each day
    and names the days it fails on."""
    if not _table_exists(con, "main", "quality_findings"):
        return pl.DataFrame()
    return _frame(
        con,
        f"""
        with

        runs as ({_runs_sql(con)}),

        latest as (

            select findings.*
            from main.quality_findings as findings
            join runs on findings.run_id = runs.run_id
            -- since the latest run of every day (all runs while none has checked every day)
            where runs.run_number >= coalesce((select max(run_number) from runs where is_full), 0)
            qualify row_number() over (
                partition by findings.expectation, findings.landing_date order by runs.run_number desc
            ) = 1

        ),

        by_check as (

            select
                suite,
                expectation,
                severity,
                bool_and(success) as success,
                coalesce(sum(failing_count) filter (where not success), 0) as failing_count,
                flatten(
                    list(cast(sample_keys as varchar[]) order by landing_date desc) filter (where not success)
                ) as sample_keys,
                string_agg(cast(landing_date as varchar), ', ' order by landing_date)
                    filter (where not success) as failing_days,
                any_value(description) as description,
                max(checked_at) as checked_at
            from latest
            group by suite, expectation, severity

        )

        select
            suite,
            expectation,
            severity,
            success,
            cast(failing_count as bigint) as failing_count,
            cast(to_json(coalesce(sample_keys, [])[1:20]) as varchar) as sample_keys,
            failing_days,
            description,
            checked_at
        from by_check
        order by success, case severity when 'error' then 0 else 1 end, failing_count desc, expectation
        """,
    )


# ---------------------------------------------------------------- recall


def recall_flows(con: duckdb.DuckDBPyConnection, lot_code: str) -> pl.DataFrame:
    """The links of a recall's flow diagram: supplier -> received lot, input lot -> output lot
    (within the forward trace of `lot_code`), lot -> customer (by code), lot -> on hand at a
    site. Columns: source, target, source_kind, target_kind, quantity, unit_of_measure."""
    return _frame(
        con,
        """
        with

        scope as (

            select lot_code from trace_forward($lot_code)

        ),

        scope_lots as (

            select lots.lot_code, lots.supplier_code, lots.origin_type, lots.quantity_made_or_received,
                products.base_unit
            from main.dim_lots as lots
            left join main.dim_products as products on lots.product_code = products.product_code
            where lots.lot_code in (select scope.lot_code from scope)

        ),

        links as (

            select supplier_code as source, lot_code as target, 'supplier' as source_kind, 'lot' as target_kind,
                quantity_made_or_received as quantity, base_unit as unit_of_measure
            from scope_lots
            where origin_type = 'received' and supplier_code is not null
            union all
            select genealogy.input_lot_code, genealogy.output_lot_code, 'lot', 'lot',
                genealogy.quantity_consumed, scope_lots.base_unit
            from main.fct_lot_genealogy as genealogy
            inner join scope_lots on genealogy.input_lot_code = scope_lots.lot_code
            where genealogy.output_lot_code in (select scope.lot_code from scope)
            union all
            select shipments.lot_code, shipments.customer_code, 'lot', 'customer',
                sum(shipments.quantity_shipped), any_value(scope_lots.base_unit)
            from main.fct_shipment_lines as shipments
            inner join scope_lots on shipments.lot_code = scope_lots.lot_code
            group by shipments.lot_code, shipments.customer_code
            union all
            select on_hand.lot_code, 'on hand at ' || on_hand.site_code, 'lot', 'on_hand',
                sum(on_hand.quantity_on_hand), any_value(scope_lots.base_unit)
            from main.fct_stock_on_hand as on_hand
            inner join scope_lots on on_hand.lot_code = scope_lots.lot_code
            group by on_hand.lot_code, on_hand.site_code

        )

        select source, target, source_kind, target_kind, cast(quantity as double) as quantity, unit_of_measure
        from links
        where quantity > 0
        order by source_kind desc, source, target
        """,
        {"lot_code": lot_code},
    )


def recall_on_hand_by_site(con: duckdb.DuckDBPyConnection, lot_code: str) -> pl.DataFrame:
    """Stock of the recalled scope still on hand, per site, lot and status."""
    return _frame(
        con,
        """
        select site_code, lot_code, status, cast(sum(quantity_on_hand) as double) as quantity_on_hand
        from recall_on_hand(?)
        group by all
        order by site_code, lot_code, status
        """,
        [lot_code],
    )
