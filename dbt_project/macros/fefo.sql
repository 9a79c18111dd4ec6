-- sqlfluff:exclude_rules:layout.indent,structure.column_order
-- (the indent rule misreads the whitespace around these macro definitions, which render to
-- nothing in the file itself; the SQL they render is linted in the models that call them)
{#-
    First-expired-first-out breaches, built incrementally (fct_fefo_breaches).

    Whether a shipment line broke the rule depends on the runs of usable stock of its site and
    product around the moment it shipped. int_lot_stock_runs logs, for the lots it rebuilds,
    from when their old and their new runs (and shipment lines) begin per site and product, in
    intermediate.stock_run_changes. The breaches mart re-checks the shipment lines of those
    sites and products from then on, and every line of a changed lot (a line that is gone, or
    whose lot's expiry changed), and moves its watermark past the log.
-#}

{#- Log from when the runs and shipment lines of the changed lots begin, per site and product
    (hook of int_lot_stock_runs: run before its delete for the old runs, after its build for
    the new ones). A build of every lot logs a row of nulls: everything. -#}
{% macro log_stock_run_changes() -%}
    {%- if building_incrementally() and not all_lots_changed() -%}
        insert into intermediate.stock_run_changes
        select
            site_code,
            product_code,
            min(changed_from),
            now()::timestamp
        from (
            select
                site_code,
                product_code,
                run_from as changed_from
            from {{ this }}
            where lot_code in (select lot_code from {{ changed_lots_table() }})
            union all
            select
                site_code,
                product_code,
                shipped_at
            from {{ ref('stg_raw__shipment_lines') }}
            where lot_code in (select lot_code from {{ changed_lots_table() }})
        ) as changes
        group by site_code, product_code
    {%- else -%}
        insert into intermediate.stock_run_changes values (null, null, null, now()::timestamp)
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


{#- A filter keeping the shipment lines (alias `alias`) to re-check (all when everything is). -#}
{% macro of_fefo_rechecks(alias) -%}
    {%- if not fefo_rechecks_everything() -%}
        (
            exists (
                select 1
                from {{ fefo_rechecks_table() }} as rechecks
                where
                    {{ alias }}.site_code = rechecks.site_code
                    and {{ alias }}.product_code = rechecks.product_code
                    and {{ alias }}.shipped_at >= rechecks.changed_from
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
        from intermediate.stock_run_changes
        where stamped_at > {{ model_watermark() }}
        group by site_code, product_code;

        create or replace temp table {{ changed_lots_table() }} as
        select * from {{ changed_lots() }};

        delete from {{ this }} as built
        where {{ of_fefo_rechecks('built') }}
    {%- endif -%}
{%- endmacro %}


{% macro record_fefo_watermark() -%}
    {{ save_watermark("select max(stamped_at) from intermediate.stock_run_changes") }}
{%- endmacro %}
