-- sqlfluff:exclude_rules:layout.indent,structure.column_order
-- (the indent rule misreads the whitespace around these macro definitions, which render to
-- nothing in the file itself; the SQL they render is linted in the models that call them)
{#-
    Lot-keyed marts that keep their physical order and write only what changed.

    The recall macros find rows in fct_lot_genealogy, its copy by output, the lot keys and the
    shipment lines by their sort order (zone maps). A lot-keyed rebuild (incremental.sql)
    would delete and append every row of every changed lot, and a changed lot is often an
    old one that a new lot consumed, with thousands of rows that did not change. These marts
    recompute the rows of the changed lots, delete the ones that are gone or differ and append
    the new ones (incremental strategy lot_diff), and are sorted again once enough of them was
    appended out of order (keep_sorted). The lot ids whose rows changed are logged in
    intermediate.mart_changes for the supplier attribution, which recomputes the finished lots
    downstream of them.
-#}

{#- Config of a lot-keyed mart that readers find rows in by its physical order (sorted_by:
    the zone maps that the recall macros' joins rely on), with a unique key. A run computes
    the rows of the changed lots (lot_columns, or lot_id_columns for a mart that carries ids
    only) and writes only the difference (incremental strategy lot_diff): a changed lot
    touches many rows it does not change (a starter culture consumed today has thousands of
    edges, all as they were), and every row written lands at the end, out of order. -#}
{% macro lot_diff_config(
    unique_key,
    sorted_by,
    lot_columns=[],
    lot_id_columns=[],
    log_changed_lot_ids=none,
    pre_hook="{{ fix_changed_lots() }}",
    post_hook=["{{ record_lot_watermark() }}"]
) -%}
    -- depends_on: {{ ref('int_changed_lots') }}
    -- depends_on: {{ ref('int_lot_ids_assigned') }}
    {{ config(
        materialized='incremental',
        incremental_strategy='lot_diff',
        unique_key=unique_key,
        on_schema_change='fail',
        meta={
            'lot_columns': lot_columns,
            'lot_id_columns': lot_id_columns,
            'sorted_by': sorted_by,
            'log_changed_lot_ids': log_changed_lot_ids,
        },
        pre_hook=pre_hook,
        post_hook=["{{ keep_sorted() }}"] + (["{{ log_mart_built_whole() }}"] if log_changed_lot_ids else []) + post_hook,
    ) }}
{%- endmacro %}


{#- The rows of a lot_diff model's own table that belong to the changed lots. -#}
{% macro of_changed_lots_in_meta(alias) -%}
    {%- set meta = config.get('meta') %}
    {%- set conditions = [] %}
    {%- for lot_column in meta['lot_columns'] %}
        {%- do conditions.append(of_changed_lots(alias ~ '.' ~ lot_column)) %}
    {%- endfor %}
    {%- for lot_id_column in meta['lot_id_columns'] %}
        {%- do conditions.append(of_changed_lot_ids(alias ~ '.' ~ lot_id_column)) %}
    {%- endfor %}
    ({{ conditions | join(' or ') }})
{%- endmacro %}


{#- Incremental strategy lot_diff: the model's query (temp_relation) holds the rows of the
    changed lots as they are now. Rows of those lots that are gone or differ are deleted (by
    unique key); rows whose key is then missing are appended in sort order and counted in
    intermediate.mart_appends. Rows that did not change stay where they are. -#}
{% macro get_incremental_lot_diff_sql(arg_dict) -%}
    {%- set target = arg_dict['target_relation'] %}
    {%- set computed = arg_dict['temp_relation'] %}
    {%- set keys = [arg_dict['unique_key']] if arg_dict['unique_key'] is string else arg_dict['unique_key'] %}
    {%- set columns = arg_dict['dest_columns'] | map(attribute='quoted') | join(', ') %}
    {%- set sorted_by = config.get('meta')['sorted_by'] %}
    create or replace temp table lot_diff_gone__{{ this.name }} as
    select distinct {{ keys | join(', ') }}
    from (
        select {{ columns }} from {{ target }} as built
        where {{ of_changed_lots_in_meta('built') }}
        except
        select {{ columns }} from {{ computed }}
    ) as differing;

    delete from {{ target }} as built
    using lot_diff_gone__{{ this.name }} as gone
    where {{ same_key('built', 'gone', keys) }};

    create or replace temp table lot_diff_new__{{ this.name }} as
    select {{ columns }}
    from {{ computed }} as computed
    where not exists (
        select 1 from {{ target }} as built
        where {{ same_key('built', 'computed', keys) }}
    );

    insert into {{ target }} ({{ columns }})
    select {{ columns }} from lot_diff_new__{{ this.name }}
    order by {{ sorted_by | join(', ') }};

    insert or replace into intermediate.mart_appends
    select
        '{{ this.name }}',
        coalesce((select appended_rows from intermediate.mart_appends where model_name = '{{ this.name }}'), 0)
        + (select count(*) from lot_diff_new__{{ this.name }});
    {%- set logged = config.get('meta')['log_changed_lot_ids'] %}
    {%- if logged %}

    insert into intermediate.mart_changes
    select distinct
        '{{ this.name }}',
        {{ logged }},
        now()::timestamp
    from (
        select {{ logged }} from lot_diff_gone__{{ this.name }}
        union all
        select {{ logged }} from lot_diff_new__{{ this.name }}
    ) as changed;
    {%- endif %}

    drop table lot_diff_gone__{{ this.name }};
    drop table lot_diff_new__{{ this.name }}
{%- endmacro %}


{#- Rows `left` and `right` have the same unique key (`keys`, required columns). -#}
{% macro same_key(left, right, keys) -%}
    {%- for key in keys -%}
        {{ left }}.{{ key }} = {{ right }}.{{ key }}{{ " and " if not loop.last }}
    {%- endfor -%}
{%- endmacro %}


{#- Post-hook of a lot_diff model: once the rows appended since the table was last sorted
    exceed the dbt var `resort_after_appended_share` (default 0.05) of it, sort it again.
    A build that made the table whole leaves it sorted. -#}
{% macro keep_sorted() -%}
    {%- if building_incrementally() -%}
        {%- set share = var('resort_after_appended_share', 0.05) %}
        {%- set due = run_query(
            "select (select appended_rows from intermediate.mart_appends where model_name = '" ~ this.name ~ "')"
            ~ " > " ~ share ~ " * (select count(*) from " ~ this ~ ")"
        ) %}
        {%- if due.columns[0].values()[0] %}
        create or replace table {{ this }} as
        select * from {{ this }} order by {{ config.get('meta')['sorted_by'] | join(', ') }};
        update intermediate.mart_appends set appended_rows = 0 where model_name = '{{ this.name }}'
        {%- else %}
        select 1
        {%- endif %}
    {%- else -%}
        insert or replace into intermediate.mart_appends values ('{{ this.name }}', 0)
    {%- endif -%}
{%- endmacro %}


{#- Post-hook of a lot_diff model that logs its changed lot ids: a build of the whole table
    logs every lot (a null lot_id); an incremental build logged its own in the strategy. -#}
{% macro log_mart_built_whole() -%}
    {%- if not building_incrementally() -%}
        insert into intermediate.mart_changes values ('{{ this.name }}', null, now()::timestamp)
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}


{#- Pre-hook of fct_supplier_defect_attribution: the lots to recompute are every lot
    downstream of (or equal to) a lot whose incoming genealogy edges or defect facts changed
    since this model's watermark (intermediate.mart_changes; an edge's row carries its input
    lot's product and supplier, so a change of those shows as a changed edge too). All lots
    when a mart was built whole. -#}
{% macro fix_attribution_lots() -%}
    {%- if building_incrementally() -%}
        create or replace temp table {{ changed_lots_table() }} as
        with recursive

        changed as (
            select lot_id
            from intermediate.mart_changes
            where
                model_name in ('fct_lot_genealogy', 'fct_inspection_defects')
                and changed_at > {{ model_watermark() }}
        ),

        downstream (lot_id) as (
            select lot_id from changed
            where lot_id is not null
            union
            select lot_genealogy.output_lot_id
            from downstream
            inner join {{ ref('fct_lot_genealogy') }} as lot_genealogy
                on downstream.lot_id = lot_genealogy.input_lot_id
        )

        select lots.lot_code
        from {{ ref('dim_lots') }} as lots
        where
            lots.lot_id in (select lot_id from downstream)
            or exists (select 1 from changed where lot_id is null)
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}


{#- Pre-hook of dim_lots: besides the changed lots, the lots whose expiry date lies between
    the as-of day the table holds and the new one (from int_as_of_dates_derived): whether they
    are past expiry, and so their status, may change. Then every row takes the new as-of day,
    so that a lot that did not change compares equal and keeps its place. -#}
{% macro fix_expiring_and_changed_lots() -%}
    {{ fix_changed_lots() }}
    {%- if building_incrementally() and not all_lots_changed() %};

    insert into {{ changed_lots_table() }}
    with

    as_of as (
        select
            (select max(as_of_date) from {{ this }}) as built_on,
            (select as_of_date from {{ ref('int_as_of_dates_derived') }}) as today
    )

    select lots.lot_code
    from {{ this }} as lots
    cross join as_of
    where
        lots.expiry_date is not null
        and (
            (as_of.built_on is null) != (as_of.today is null)
            or (
                lots.expiry_date >= least(as_of.built_on, as_of.today)
                and lots.expiry_date < greatest(as_of.built_on, as_of.today)
            )
        );

    update {{ this }} as lots
    set as_of_date = today.as_of_date
    from {{ ref('int_as_of_dates_derived') }} as today
    where lots.as_of_date is distinct from today.as_of_date
    {%- endif %}
{%- endmacro %}


{#- Post-hook of fct_supplier_defect_attribution: its watermark is the end of its build
    (it reads stamps of two clocks, int_changed_lots and mart_changes, both earlier), and the
    mart changes it has taken in are dropped. -#}
{% macro record_attribution_watermark() -%}
    {{ save_watermark("select now()::timestamp") }};
    delete from intermediate.mart_changes where changed_at <= {{ model_watermark() }}
{%- endmacro %}


{#- Pre-hook: the columns an older build stored as HUGEINT (dbt's type for a sum) become
    BIGINT, the type the model now casts them to (DuckDB reads HUGEINT slowly), so that an
    existing warehouse's incremental table keeps its schema. -#}
{% macro narrow_to_bigint(columns) -%}
    {%- set statements = [] %}
    {%- if building_incrementally() %}
        {%- for column in adapter.get_columns_in_relation(this) %}
            {%- if column.name in columns and column.dtype | upper in ('HUGEINT', 'INT128') %}
                {%- do statements.append("alter table " ~ this ~ " alter column " ~ column.name ~ " type bigint") %}
            {%- endif %}
        {%- endfor %}
    {%- endif %}
    {{ statements | join(';\n') if statements else 'select 1' }}
{%- endmacro %}
