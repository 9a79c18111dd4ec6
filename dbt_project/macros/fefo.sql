-- sqlfluff:exclude_rules:layout.indent,structure.column_order
-- (the indent rule misreads the whitespace around these macro definitions, which render to
-- nothing in the file itself; the SQL they render is linted in the models that call them)
{#-
    First-expired-first-out breaches, built incrementally (fct_fefo_breaches).

    Whether a shipment line broke the rule depends on the runs of usable stock of its site and
    product around the moment it shipped, on the stock of the lots in those runs then, and on
    those lots' dates. The lot-keyed models that hold these log, for the lots they rebuild,
    from when their rows changed (each keeps the rows it deletes, in before_table(), and its
    post-hook compares them with the rebuilt ones):
    - int_lot_stock_runs, per site and product, from where the old and new runs first differ
      (intermediate.stock_run_changes);
    - int_stock_movements_unioned, per lot and site, the first moment whose ledger rows differ
      (intermediate.lot_stock_changes);
    - int_lot_origins_resolved, the lots whose product or dates changed (lot_stock_changes,
      with no site or moment: all of the lot's runs).
    The breaches mart re-checks the shipment lines of those sites and products from then on,
    and every line of a changed lot (a line that is gone, or whose lot's expiry changed), and
    moves its watermark past both logs, which it alone reads, and prunes them. A build of
    every lot logs a row of nulls in stock_run_changes: everything.
-#}

{#- The rows of the changed lots this build computed: the temporary table of the model's
    query that dbt-duckdb's incremental build appends from and keeps until the connection
    closes (named after the model and the time; hooks are rendered when they run). -#}
{% macro rebuilt_rows() -%}
    {%- set newest = run_query(
        "select max(table_name) from duckdb_tables() where temporary and starts_with(table_name, '"
        ~ this.identifier ~ "__dbt_tmp')"
    ).columns[0].values()[0] -%}
    {%- if newest is none -%}
        {{ exceptions.raise_compiler_error("no temporary table of the rows " ~ this ~ " just built") }}
    {%- endif -%}
    "{{ newest }}"
{%- endmacro %}


{% macro log_everything_changed() -%}
    insert into intermediate.stock_run_changes values (null, null, null, now()::timestamp)
{%- endmacro %}


{#- Post-hook of int_lot_stock_runs. A run of the old and one of the new rows with the same
    lot, site, product and start differ from the earlier of their ends; a run with no such
    counterpart differs from its start. The earliest of these per site and product is where
    the usable stock there first changed. -#}
{% macro log_stock_runs_changes() -%}
    {%- if building_incrementally() and not all_lots_changed() -%}
        insert into intermediate.stock_run_changes
        with

        runs_after as (
            select lot_code, site_code, product_code, run_from, run_until
            from {{ rebuilt_rows() }}
        ),

        runs_before as (
            select lot_code, site_code, product_code, run_from, run_until
            from {{ before_rows() }}
        ),

        gone as (
            select * from runs_before
            except
            select * from runs_after
        ),

        added as (
            select * from runs_after
            except
            select * from runs_before
        )

        select
            coalesce(gone.site_code, added.site_code) as site_code,
            coalesce(gone.product_code, added.product_code) as product_code,
            min(
                case
                    when gone.lot_code is null or added.lot_code is null then coalesce(gone.run_from, added.run_from)
                    else least(gone.run_until, added.run_until)
                end
            ) as changed_from,
            now()::timestamp as stamped_at
        from gone
        full join added
            on
                gone.lot_code = added.lot_code
                and gone.site_code = added.site_code
                and gone.product_code is not distinct from added.product_code
                and gone.run_from = added.run_from
        group by all
    {%- else -%}
        {{ log_everything_changed() }}
    {%- endif -%}
{%- endmacro %}


{#- Post-hook of int_stock_movements_unioned: per changed lot and site, the first moment
    whose ledger rows differ (the lot's stock there is the same until then). The rows of a
    lot, site and moment are compared by their count and the sum of their hashes, which is
    ten times cheaper than comparing them row by row. Rows without a site belong to no run. -#}
{% macro log_stock_ledger_changes() -%}
    {%- if building_incrementally() and not all_lots_changed() -%}
        insert into intermediate.lot_stock_changes
        with

        {% for side, rows in [('before', before_rows()), ('after', rebuilt_rows())] -%}
        moments_{{ side }} as (
            select
                ledger.lot_code,
                ledger.site_code,
                ledger.moved_at,
                count(*) as row_count,
                sum(hash(ledger)::hugeint) as row_hashes
            from {{ rows }} as ledger
            where ledger.site_code is not null
            group by ledger.lot_code, ledger.site_code, ledger.moved_at
        ){{ "," if not loop.last }}

        {% endfor -%}

        select
            coalesce(moments_before.lot_code, moments_after.lot_code) as lot_code,
            coalesce(moments_before.site_code, moments_after.site_code) as site_code,
            min(coalesce(moments_before.moved_at, moments_after.moved_at)) as changed_from,
            now()::timestamp as stamped_at
        from moments_before
        full join moments_after
            on
                moments_before.lot_code = moments_after.lot_code
                and moments_before.site_code = moments_after.site_code
                and moments_before.moved_at = moments_after.moved_at
        where
            moments_before.row_count is distinct from moments_after.row_count
            or moments_before.row_hashes is distinct from moments_after.row_hashes
        group by all
    {%- else -%}
        {{ log_everything_changed() }}
    {%- endif -%}
{%- endmacro %}


{#- Post-hook of int_lot_origins_resolved: the changed lots whose product or dates (what the
    breaches read of a lot) are not what they were. A lot that is gone has no runs left. -#}
{% macro log_lot_dates_changes() -%}
    {%- if building_incrementally() and not all_lots_changed() -%}
        insert into intermediate.lot_stock_changes
        select distinct
            lot_code,
            null as site_code,
            null as changed_from,
            now()::timestamp as stamped_at
        from (
            select lot_code, product_code, made_or_received_date, expiry_date
            from {{ before_rows() }}
            except
            select lot_code, product_code, made_or_received_date, expiry_date
            from {{ rebuilt_rows() }}
        ) as differing
    {%- else -%}
        {{ log_everything_changed() }}
    {%- endif -%}
{%- endmacro %}


{#- Whether every line is to be re-checked: a first build, or a logged build of every lot.
    Asked when the model is compiled, which dbt does just before running it. -#}
{% macro fefo_rechecks_everything() -%}
    {%- if not execute or not building_incrementally() -%}
        {{ return(true) }}
    {%- endif -%}
    {%- set everything = run_query(
        "select count(*) from intermediate.stock_run_changes where site_code is null and stamped_at > "
        ~ model_watermark()
    ) -%}
    {{ return(everything.columns[0].values()[0] > 0) }}
{%- endmacro %}


{% macro fefo_rechecks_table() -%}
    fefo_rechecks__{{ this.name }}
{%- endmacro %}


{#- A filter keeping the shipment lines (alias `alias`) to re-check (all when everything is).
    The re-checks hold one row per site and product, so a scalar subquery: DuckDB joins it on
    equality, where an `exists` inside the `or` became a mark join over every line (1.4 s
    against 0.5 s for the lines of the large extra day). -#}
{% macro of_fefo_rechecks(alias) -%}
    {%- if not fefo_rechecks_everything() -%}
        (
            {{ alias }}.shipped_at >= (
                select rechecks.changed_from
                from {{ fefo_rechecks_table() }} as rechecks
                where
                    {{ alias }}.site_code = rechecks.site_code
                    and {{ alias }}.product_code = rechecks.product_code
            )
            or {{ alias }}.lot_code in (select lot_code from {{ changed_lots_table() }})
        )
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}


{#- Pre-hook of fct_fefo_breaches: fix what to re-check, and delete those lines' breaches
    (all of them, when everything is re-checked). -#}
{% macro collect_fefo_rechecks() -%}
    {%- if not building_incrementally() -%}
        select 1
    {%- elif fefo_rechecks_everything() -%}
        delete from {{ this }}
    {%- else -%}
        create or replace temp table {{ fefo_rechecks_table() }} as
        select
            site_code,
            product_code,
            min(changed_from) as changed_from
        from (
            select
                site_code,
                product_code,
                changed_from
            from intermediate.stock_run_changes
            where stamped_at > {{ model_watermark() }}
            union all
            -- a lot's stock or dates changed: the lines its runs met from then on
            select
                runs.site_code,
                runs.product_code,
                greatest(runs.run_from, coalesce(changes.changed_from, runs.run_from)) as changed_from
            from intermediate.lot_stock_changes as changes
            inner join {{ ref('int_lot_stock_runs') }} as runs
                on
                    changes.lot_code = runs.lot_code
                    and (changes.site_code is null or changes.site_code = runs.site_code)
                    and (changes.changed_from is null or runs.run_until > changes.changed_from)
            where changes.stamped_at > {{ model_watermark() }}
        ) as changes
        group by site_code, product_code;

        create or replace temp table {{ changed_lots_table() }} as
        select * from {{ changed_lots() }};

        delete from {{ this }} as built
        where {{ of_fefo_rechecks('built') }}
    {%- endif -%}
{%- endmacro %}


{#- Post-hook of fct_fefo_breaches: move the watermark past both logs and prune what it has
    read (nothing else reads them); with both logs empty, it stays where it was. -#}
{% macro record_fefo_watermark() -%}
    {{ save_watermark(
        "select greatest(" ~ model_watermark() ~ ", "
        ~ "(select max(stamped_at) from intermediate.stock_run_changes), "
        ~ "(select max(stamped_at) from intermediate.lot_stock_changes))"
    ) }};
    delete from intermediate.stock_run_changes where stamped_at <= {{ model_watermark() }};
    delete from intermediate.lot_stock_changes where stamped_at <= {{ model_watermark() }}
{%- endmacro %}
