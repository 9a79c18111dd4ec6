-- sqlfluff:exclude_rules:layout.indent,structure.column_order
-- (the indent rule misreads the whitespace around these macro definitions, which render to
-- nothing in the file itself; the SQL they render is linted in the models that call them)
{#-
    Incremental builds: a daily run costs what the day costs, not what the history costs.

    The ingestion layer stamps every (landing day, feed) it loads, re-loads or removes in
    ingest.feed_day_changes. An incremental model remembers, in
    intermediate.incremental_watermarks, the newest stamp of its feeds it has been built from;
    the days stamped after that are the days to rebuild.

    Staging models keep the latest delivery of each key across days, so a changed day can
    change which row of a key wins, even on other days. Their pre-hook therefore collects the
    keys the changed days held before (in the model's table) and hold now (in the raw layer),
    deletes those keys from the model's table, and the model body re-ranks every raw row of
    exactly those keys. The post-hook stamps, in intermediate.lot_changes, the lots of the rows
    that differ between before and after, and moves the watermark. The watermark is read by
    the pre-hook and the body, and only the post-hook moves it, so both see the same days.

    Lot-keyed models (lot_keyed_config) then delete and rebuild the rows of the lots that
    int_changed_lots lists after their own watermark (every row, when it lists a null lot).
-#}

{% macro create_incremental_state() -%}
    create schema if not exists intermediate;
    create table if not exists intermediate.incremental_watermarks (
        model_name varchar primary key,
        watermark timestamp not null
    );
    -- The lots whose staged rows changed, stamped with when: what the lot-keyed models
    -- rebuild. A null lot_code stands for every lot (a staging model rebuilt whole).
    create table if not exists intermediate.lot_changes (
        lot_code varchar,
        stamped_at timestamp not null
    );
    -- The lot ids whose rows a lot_diff mart changed (log_changed_lot_ids), stamped with
    -- when; a null lot_id stands for every lot (the mart built whole). Read, then pruned, by
    -- fct_supplier_defect_attribution.
    create table if not exists intermediate.mart_changes (
        model_name varchar not null,
        lot_id bigint,
        changed_at timestamp not null
    );
    -- Rows a sorted lot-keyed mart has appended since it was last sorted (keep_sorted).
    create table if not exists intermediate.mart_appends (
        model_name varchar primary key,
        appended_rows bigint not null
    );
    -- From when the runs of usable stock (int_lot_stock_runs) of a site and product changed:
    -- what the first-expired-first-out breaches re-check. Null columns stand for everything.
    create table if not exists intermediate.stock_run_changes (
        site_code varchar,
        product_code varchar,
        changed_from timestamp,
        stamped_at timestamp not null
    );
    -- From when a lot's stock ledger at a site changed, or (null site and time) that its
    -- product or dates changed: the breaches re-check the lines that met the lot's runs since.
    create table if not exists intermediate.lot_stock_changes (
        lot_code varchar not null,
        site_code varchar,
        changed_from timestamp,
        stamped_at timestamp not null
    )
{%- endmacro %}


{#- The newest stamp of `feeds` this model was built from (-infinity: never). -#}
{% macro model_watermark() -%}
    coalesce(
        (select watermark from intermediate.incremental_watermarks where model_name = '{{ this.name }}'),
        '-infinity'::timestamp
    )
{%- endmacro %}


{#- The landing days of `feeds` stamped after this model's watermark, as a subquery. -#}
{% macro changed_days(feeds) -%}
    (
        select distinct landing_date
        from ingest.feed_day_changes
        where
            feed in ('{{ feeds | join("', '") }}')
            and changed_at > {{ model_watermark() }}
    )
{%- endmacro %}


{#- Remember `newest` (a scalar subquery: the newest stamp this build has taken in) as this
    model's watermark. -#}
{% macro save_watermark(newest) -%}
    insert or replace into intermediate.incremental_watermarks
    select
        '{{ this.name }}',
        coalesce(({{ newest }}), '-infinity'::timestamp)
{%- endmacro %}


{% macro record_watermark(feeds) -%}
    {{ save_watermark(
        "select max(changed_at) from ingest.feed_day_changes where feed in ('" ~ feeds | join("', '") ~ "')"
    ) }}
{%- endmacro %}


{#- is_incremental(), also where there is no relation at all (dbt's unit tests). -#}
{% macro building_incrementally() -%}
    {{ return(this is not none and is_incremental()) }}
{%- endmacro %}


{#- Connection-local tables of one model's run (hooks and body share the connection). -#}
{% macro changed_keys_table() -%}
    changed_keys__{{ this.name }}
{%- endmacro %}


{% macro replaced_rows_table() -%}
    replaced_rows__{{ this.name }}
{%- endmacro %}


{#- Keys are required columns (the loader quarantines rows without them), so plain equality:
    it lets DuckDB push the changed keys' range into the scan of the big side. -#}
{% macro key_match(left, left_keys, right) -%}
    {%- for key in left_keys %}
    {{ left }}.{{ key }} = {{ right }}.key_{{ loop.index }}{{ " and" if not loop.last }}
    {%- endfor %}
{%- endmacro %}


{#- Pre-hook of a latest-delivery staging model: collect the keys that the changed days of
    `feed` held (target_keys, the model's column names) and hold (raw_keys, the raw layer's
    names, in the same order), set the model's rows of those keys aside and delete them. -#}
{% macro collect_changed_keys(feed, raw_keys, target_keys) -%}
    {%- if building_incrementally() -%}
        create or replace temp table {{ changed_keys_table() }} as
        select distinct
            {%- for raw_key in raw_keys %}
            {{ raw_key }} as key_{{ loop.index }}{{ "," if not loop.last }}
            {%- endfor %}
        from raw.{{ feed }}
        where landing_date in {{ changed_days([feed]) }}
        union
        select distinct
            {%- for target_key in target_keys %}
            {{ target_key }} as key_{{ loop.index }}{{ "," if not loop.last }}
            {%- endfor %}
        from {{ this }}
        where landing_date in {{ changed_days([feed]) }};

        create or replace temp table {{ replaced_rows_table() }} as
        select built.*
        from {{ this }} as built
        {{ of_changed_keys('built', target_keys) }};

        delete from {{ this }} as built
        using {{ changed_keys_table() }} as changed
        where {{ key_match('built', target_keys, 'changed') }}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}


{#- Post-hook of a latest-delivery staging model: stamp the lots (lot_columns) of the rows
    that differ between before and after (all lots, when the model was built whole), then
    move the watermark. -#}
{% macro stamp_changed_lots(feed, target_keys, lot_columns) -%}
    {%- if building_incrementally() -%}
        insert into intermediate.lot_changes
        with

        rebuilt as (
            select built.*
            from {{ this }} as built
            {{ of_changed_keys('built', target_keys) }}
        ),

        differing as (
            (select * from rebuilt except all select * from {{ replaced_rows_table() }})
            union all
            (select * from {{ replaced_rows_table() }} except all select * from rebuilt)
        )

        select distinct
            lot_code,
            now()::timestamp as stamped_at
        from (select unnest([{{ lot_columns | join(', ') }}]) as lot_code from differing) as lots
        -- (a null stamp stands for every lot)
        where lot_code is not null;
    {%- else -%}
        insert into intermediate.lot_changes values (null, now()::timestamp);
    {%- endif %}
    {{ record_watermark([feed]) }}
{%- endmacro %}


{#- A where clause keeping the rows (alias `alias`, key columns `keys`) of the changed keys:
    raw rows in the body of such a model, its own rows in its hooks. An `in` over the key
    tuple, not `exists`: DuckDB joins a correlated exists on `is not distinct from`, which
    pushes nothing into the scan, and an `in` on equality, which pushes the changed keys'
    range into it: a table in key order (the raw layer is in landing order) then reads only
    the row groups of that range. -#}
{% macro of_changed_keys(alias, keys) -%}
    {%- if building_incrementally() -%}
        where ({% for key in keys %}{{ alias }}.{{ key }}{{ ", " if not loop.last }}{% endfor %}) in (
            select {% for key in keys %}key_{{ loop.index }}{{ ", " if not loop.last }}{% endfor %}
            from {{ changed_keys_table() }}
        )
    {%- endif -%}
{%- endmacro %}


{#- Config of a latest-delivery staging model over raw.<feed>, keyed on raw_keys (named
    target_keys in the model), whose rows belong to the lots in lot_columns. -#}
{% macro latest_delivery_config(feed, raw_keys, target_keys, lot_columns) -%}
    {#- Hooks are rendered when the model runs (is_incremental() means nothing at parse time),
        so they are passed as template text. -#}
    {%- set arguments = "'" ~ feed ~ "', " ~ tojson(raw_keys) ~ ", " ~ tojson(target_keys) -%}
    {%- set stamp_arguments = "'" ~ feed ~ "', " ~ tojson(target_keys) ~ ", " ~ tojson(lot_columns) -%}
    {{ config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{{ collect_changed_keys(" ~ arguments ~ ") }}",
        post_hook="{{ stamp_changed_lots(" ~ stamp_arguments ~ ") }}",
    ) }}
{%- endmacro %}


{#- The lots stamped after this model's watermark, as a subquery; one null row means all. -#}
{% macro changed_lots() -%}
    (
        select distinct lot_code
        from {{ ref('int_changed_lots') }}
        where changed_at > {{ model_watermark() }}
    )
{%- endmacro %}


{#- Whether every lot changed (a null stamp) since this model's watermark. Asked when the
    model is compiled, which dbt does just before running it. -#}
{% macro all_lots_changed() -%}
    {%- if not execute -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set everything = run_query(
        "select count(*) from " ~ ref('int_changed_lots') ~ " where lot_code is null and changed_at > "
        ~ model_watermark()
    ) -%}
    {{ return(everything.columns[0].values()[0] > 0) }}
{%- endmacro %}


{#- A filter keeping the rows whose `lot_column` is a changed lot (all rows if all changed). -#}
{% macro of_changed_lots(lot_column) -%}
    {%- if building_incrementally() and not all_lots_changed() -%}
        {{ lot_column }} in (select lot_code from {{ changed_lots_table() }})
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}


{% macro changed_lots_table() -%}
    changed_lots__{{ this.name }}
{%- endmacro %}


{#- Pre-hook of a lot-keyed model: fix the set of changed lots for this run, then delete
    the model's rows of those lots (any of lot_columns); keep_before: keep those rows first,
    in before_table(), for a post-hook that logs what changed (log_changes). -#}
{% macro delete_changed_lots(lot_columns, keep_before=false) -%}
    {%- if building_incrementally() -%}
        {{ fix_changed_lots() }};
        {%- if keep_before and not all_lots_changed() %}
        {#- the rows with their row ids: the delete then finds them without a second scan -#}
        create or replace temp table {{ before_table() }} as
        select built.rowid as before_rowid, built.* from {{ this }} as built
        where
            {%- for lot_column in lot_columns %}
            {{ of_changed_lots('built.' ~ lot_column) }}{{ " or" if not loop.last }}
            {%- endfor %};

        delete from {{ this }} where rowid in (select before_rowid from {{ before_table() }})
        {%- else %}

        delete from {{ this }} as built
        where
            {%- for lot_column in lot_columns %}
            {{ of_changed_lots('built.' ~ lot_column) }}{{ " or" if not loop.last }}
            {%- endfor %}
        {%- endif %}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}


{#- The rows of the changed lots as they were before this build (delete_changed_lots), with
    their row ids in before_rowid; before_rows() is the rows alone. -#}
{% macro before_table() -%}
    before__{{ this.name }}
{%- endmacro %}


{% macro before_rows() -%}
    (select * exclude (before_rowid) from {{ before_table() }})
{%- endmacro %}


{#- Pre-hook of a model that reads the changed lots without deleting rows of its own: fix
    the set of changed lots for this run (of_changed_lots reads it). -#}
{% macro fix_changed_lots() -%}
    {%- if building_incrementally() -%}
        create or replace temp table {{ changed_lots_table() }} as
        select * from {{ changed_lots() }}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}


{#- A filter keeping the rows whose `lot_id_column` is the id of a changed lot (all rows if
    all changed). -#}
{% macro of_changed_lot_ids(lot_id_column) -%}
    {%- if building_incrementally() and not all_lots_changed() -%}
        {{ lot_id_column }} in (
            select lot_ids.lot_id
            from {{ ref('int_lot_ids_assigned') }} as lot_ids
            where lot_ids.lot_code in (select lot_code from {{ changed_lots_table() }})
        )
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}


{% macro record_lot_watermark() -%}
    {{ save_watermark("select max(changed_at) from " ~ ref('int_changed_lots')) }}
{%- endmacro %}


{#- Config of a model whose rows each belong to the lots in lot_columns (one or two) and are
    computed from those lots' rows alone: a run rebuilds the rows of the changed lots.
    log_changes names what the model logs of how those rows changed, for the
    first-expired-first-out breaches (macros/fefo.sql): 'stock_runs', 'stock_ledger' or
    'lot_dates', by its post-hook log_<name>_changes. -#}
{% macro lot_keyed_config(lot_columns, log_changes=none) -%}
    -- depends_on: {{ ref('int_changed_lots') }}
    {%- set post_hooks = ["{{ log_" ~ log_changes ~ "_changes() }}"] if log_changes else [] %}
    {{ config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{{ delete_changed_lots(" ~ tojson(lot_columns) ~ ", " ~ tojson(log_changes is not none) ~ ") }}",
        post_hook=post_hooks + ["{{ record_lot_watermark() }}"],
    ) }}
{%- endmacro %}


{#- Post-hook of a master-data staging model that lot rows are derived from (products): a
    change of it stamps every lot. -#}
{% macro stamp_all_lots_if_changed(feed) -%}
    insert into intermediate.lot_changes
    select
        null,
        now()::timestamp
    where exists (select 1 from {{ changed_days([feed]) }});
    {{ record_watermark([feed]) }}
{%- endmacro %}


{% macro record_stamp_watermark() -%}
    {{ save_watermark("select max(stamped_at) from intermediate.lot_changes") }}
{%- endmacro %}
