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
    exactly those keys. The post-hook moves the watermark. The watermark is read from the same
    table by the pre-hook and the body, and only the post-hook moves it, so both agree.
-#}

{% macro create_incremental_state() -%}
    create schema if not exists intermediate;
    create table if not exists intermediate.incremental_watermarks (
        model_name varchar primary key,
        watermark timestamp not null
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


{% macro record_watermark(feeds) -%}
    insert or replace into intermediate.incremental_watermarks
    select
        '{{ this.name }}',
        coalesce(max(changed_at), '-infinity'::timestamp)
    from ingest.feed_day_changes
    where feed in ('{{ feeds | join("', '") }}')
{%- endmacro %}


{#- Name of the connection-local table of the keys a staging model rebuilds this run. -#}
{% macro changed_keys_table() -%}
    changed_keys__{{ this.name }}
{%- endmacro %}


{#- Pre-hook of a latest-delivery staging model: collect the keys that the changed days of
    `feed` held (target_keys, the model's column names) and hold (raw_keys, the raw layer's
    names, in the same order), then delete those keys from the model's table. -#}
{% macro collect_changed_keys(feed, raw_keys, target_keys) -%}
    {%- if is_incremental() -%}
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

        delete from {{ this }} as built
        using {{ changed_keys_table() }} as changed
        where
            {%- for target_key in target_keys %}
            built.{{ target_key }} is not distinct from changed.key_{{ loop.index }}{{ " and" if not loop.last }}
            {%- endfor %}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}


{#- In the body of such a model: keep the raw rows (alias `alias`) of the changed keys. -#}
{% macro of_changed_keys(alias, raw_keys) -%}
    {%- if is_incremental() -%}
        where exists (
            select 1
            from {{ changed_keys_table() }} as changed
            where
                {%- for raw_key in raw_keys %}
                {{ alias }}.{{ raw_key }} is not distinct from changed.key_{{ loop.index }}{{ " and" if not loop.last }}
                {%- endfor %}
        )
    {%- endif -%}
{%- endmacro %}


{#- Config of a latest-delivery staging model over raw.<feed>, keyed on raw_keys (named
    target_keys in the model). -#}
{% macro latest_delivery_config(feed, raw_keys, target_keys) -%}
    {#- Hooks are rendered when the model runs (is_incremental() means nothing at parse time),
        so they are passed as template text. -#}
    {%- set arguments = "'" ~ feed ~ "', " ~ tojson(raw_keys) ~ ", " ~ tojson(target_keys) -%}
    {{ config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{{ collect_changed_keys(" ~ arguments ~ ") }}",
        post_hook="{{ record_watermark(['" ~ feed ~ "']) }}",
    ) }}
{%- endmacro %}
