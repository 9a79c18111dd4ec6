-- Every lot code's integer surrogate key (lot_id), assigned once and kept: the marts that
-- carry lot ids are then rebuilt for the changed lots only, and a recall macro's ids mean
-- the same lot from one build to the next. The first build numbers the lots in order of
-- made_or_received_at, then lot_code (lots without an origin last); each later build
-- numbers the lots it sees for the first time after all earlier ones, in the same order.
-- So ids follow the time lots were made, and a day of new lots gets the highest ids, which
-- keeps the id-sorted edge tables clustered (dim_lots explains why that matters).
-- A warehouse built before this register existed numbered its lots in dim_lots at each
-- build: its first build with the register takes those ids over, so that the marts it
-- already holds keep meaning the same lots.
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ fix_changed_lots() }}",
    post_hook="{{ record_lot_watermark() }}",
) }}
-- depends_on: {{ ref('int_changed_lots') }}
{%- set earlier_lots = none %}
{%- if execute and not building_incrementally() %}
    {%- set earlier_lots = adapter.get_relation(database=this.database, schema='main', identifier='dim_lots') %}
{%- endif %}
{%- if building_incrementally() %}
    {%- set numbered_from = this %}
{%- elif earlier_lots %}
    {%- set numbered_from = earlier_lots %}
{%- else %}
    {%- set numbered_from = "(select null::varchar as lot_code, null::bigint as lot_id limit 0)" %}
{%- endif %}
with

lot_origins as (

    select * from {{ ref('int_lot_origins_resolved') }}
    where {{ of_changed_lots('lot_code') }}

),

numbered as (

    select
        lot_code,
        lot_id
    from {{ numbered_from }}

),

new_lots as (

    select
        lot_code,
        made_or_received_at
    from lot_origins
    where not exists (
            select 1
            from numbered
            where numbered.lot_code = lot_origins.lot_code
        )

),

final as (

    select
        lot_code,
        (select coalesce(max(numbered.lot_id), 0) from numbered)
        + row_number() over (order by made_or_received_at nulls last, lot_code) as lot_id
    from new_lots
    union all
    -- a first build keeps the ids an older warehouse's dim_lots gave (none otherwise)
    select
        lot_code,
        lot_id
    from numbered
    where {{ not building_incrementally() }}

)

select
    lot_id,
    lot_code
from final
order by lot_id
