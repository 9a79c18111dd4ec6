-- sqlfluff:exclude_rules:layout.indent
-- (the indent rule misreads the whitespace around these macro definitions)
{#-
    Data tests of a daily build look at the lots the build changed.

    The big lot-keyed models are rebuilt for the changed lots only (macros/incremental.sql);
    the rows of the other lots are the rows the tests passed on before. A test whose `where`
    config is the placeholder `__changed_lots__(col, ...)` reads only the rows whose lot
    column(s) name a lot stamped by this build (in intermediate.lot_changes or
    int_changed_lots after the point recorded when the build started), and every row when
    the build stamped every lot (a null stamp: a first build, a model built whole, a products
    delivery). A duplicate key, say, always involves a rebuilt row: the rows of one key
    belong to the same lots, so both copies are in scope.

    The point is the earliest of the build's start, the watermark of the lot-keyed model that
    is furthest behind (a build that failed half-way leaves some behind; the next one rebuilds
    their lots too, and tests them), and the end of the last `dbt build` whose every model and
    test passed (intermediate.tests_passed): a build whose tests failed has moved its models'
    watermarks on, but its lots stay in the scope of every build after it until one passes, so
    a failure is not forgotten by running again. `dbt run` and `dbt build` record it; a
    `dbt test` on its own checks the lots of the last run or build, and every row with
    `--vars '{test_everything: true}'`.
-#}

{#- On-run-start: remember from when this build's stamps count. -#}
{% macro record_test_scope() -%}
    create table if not exists intermediate.tests_passed (through timestamp);
    {%- if flags.WHICH not in ('run', 'build') %}
        {#- a test run keeps the scope of the last build (or tests everything, with none) -#}
        create table if not exists intermediate.test_scope as
        select
            null::timestamp as stamped_after,
            true as is_first_build
    {%- else %}
        {%- set lot_keyed = [] %}
        {%- if execute %}
            {%- for node in graph.nodes.values() if node.resource_type == 'model' %}
                {#- the lot-keyed models (delete_changed_lots) and the lot_diff marts (fix_changed_lots,
                    fix_expiring_and_changed_lots): a pre-hook whose macro name ends in _changed_lots -#}
                {%- for hook in node.config.get('pre-hook', []) if '_changed_lots(' in hook.sql %}
                    {%- do lot_keyed.append(node.name) %}
                {%- endfor %}
            {%- endfor %}
        {%- endif %}
        create or replace table intermediate.test_scope as
        select
            least(
                now()::timestamp,
                (
                    select min(watermark) from intermediate.incremental_watermarks
                    where model_name in ('{{ lot_keyed | join("', '") }}')
                ),
                (select max(through) from intermediate.tests_passed)
            ) as stamped_after,
            -- no lot-keyed model built yet: everything is new
            not exists (
                select 1 from intermediate.incremental_watermarks
                where model_name in ('{{ lot_keyed | join("', '") }}')
            ) as is_first_build
    {%- endif %}
{%- endmacro %}


{#- On-run-end: a `dbt build` whose every model and test passed (warnings pass) has tested
    the lots it stamped; the next build's scope need not reach back past it. -#}
{% macro record_tests_passed(results) -%}
    {%- set failed = [] %}
    {%- for result in results if result.status in ('error', 'fail', 'skipped') %}
        {%- do failed.append(result.node.name) %}
    {%- endfor %}
    {%- if flags.WHICH == 'build' and not failed %}
        delete from intermediate.tests_passed;
        insert into intermediate.tests_passed values (now()::timestamp)
    {%- else %}
        select 1
    {%- endif %}
{%- endmacro %}


{#- The lots stamped by this build, as a subquery (one null row: every lot). -#}
{% macro lots_stamped_by_this_build() -%}
    {#- (int_changed_lots adds the inputs of changed lots; the tests of the staging models run
        before it, and in a first build before it exists) -#}
    {%- set changed_lots = adapter.get_relation(
        database=target.database, schema='intermediate', identifier='int_changed_lots'
    ) if execute else none %}
    (
        select lot_code from intermediate.lot_changes
        where stamped_at > (select stamped_after from intermediate.test_scope)
        {%- if changed_lots %}
        union
        select lot_code from {{ changed_lots }}
        where changed_at > (select stamped_after from intermediate.test_scope)
        {%- endif %}
        union
        select null where (select is_first_build from intermediate.test_scope) or {{ var('test_everything', false) }}
    )
{%- endmacro %}


{#- A filter keeping the rows of the lots this build stamped, on any of `lot_columns`; none
    (every row) when it stamped every lot. Rendered when the test runs, after the build's
    models, which dbt compiles just before running it. -#}
{% macro of_lots_stamped_by_this_build(lot_columns) -%}
    {%- set everything = run_query(
        "select count(*) from " ~ lots_stamped_by_this_build() ~ " as stamped where stamped.lot_code is null"
    ) if execute else none %}
    {%- if everything is none or everything.columns[0].values()[0] > 0 -%}
        true
    {%- else -%}
        (
        {%- for lot_column in lot_columns %}
            {{ lot_column }} in (select lot_code from {{ lots_stamped_by_this_build() }}){{ " or" if not loop.last }}
        {%- endfor %}
        )
    {%- endif -%}
{%- endmacro %}


{#- The same for columns of lot ids (dim_lots.lot_id): the ids of the lots this build stamped. -#}
{% macro of_lot_ids_stamped_by_this_build(lot_id_columns) -%}
    {%- set codes = of_lots_stamped_by_this_build(['lot_code']) %}
    {%- if (codes | trim) == 'true' -%}
        true
    {%- else -%}
        (
        {%- for lot_id_column in lot_id_columns %}
            {{ lot_id_column }} in (
                select lot_ids.lot_id from intermediate.int_lot_ids_assigned as lot_ids where {{ codes }}
            ){{ " or" if not loop.last }}
        {%- endfor %}
        )
    {%- endif -%}
{%- endmacro %}


{#- dbt wraps the model of every generic test in this: a placeholder where config,
    `__changed_lots__(lot code columns)` or `__changed_lot_ids__(lot id columns)`, becomes the
    filter above; any other where config works as in dbt. -#}
{% macro duckdb__get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') %}
    {%- set placeholder = modules.re.fullmatch('\s*__changed_(lots|lot_ids)__\(([\w\s,]+)\)\s*', where or '') %}
    {%- if placeholder %}
        {%- set columns = placeholder.group(2).split(',') | map('trim') | list %}
        {%- if placeholder.group(1) == 'lots' %}
            {%- set where = of_lots_stamped_by_this_build(columns) %}
        {%- else %}
            {%- set where = of_lot_ids_stamped_by_this_build(columns) %}
        {%- endif %}
        {%- if (where | trim) == 'true' %}
            {%- set where = '' %}
        {%- endif %}
    {%- endif %}
    {%- if where %}
        {%- do return("(select * from " ~ relation ~ " where " ~ where ~ ") dbt_subquery") %}
    {%- else %}
        {%- do return(relation) %}
    {%- endif %}
{%- endmacro %}
