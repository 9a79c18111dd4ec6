-- A number per supplier of a received lot, given once and kept: the supplier's bit in the
-- supplier sets of rpt_lot_supplier_sets is bit supplier_number % 64 of word
-- supplier_number // 64. A supplier seen for the first time takes the next numbers, in code
-- order, whatever its code sorts as, so that no set already stored changes meaning.
-- A build of the whole register (the first, a --full-refresh, or after the table was dropped)
-- numbers afresh, so it drops the supplier sets, which the same build then makes whole again:
-- sets kept from the old numbering would name the wrong suppliers.
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    post_hook="{{ drop_supplier_sets_if_renumbered() }}",
) }}
with

lots as (

    select * from {{ ref('dim_lots') }}

),

suppliers as (

    select distinct supplier_code
    from lots
    where origin_type = 'received' and supplier_code is not null

),

new_suppliers as (

    select
        supplier_code,
        {%- if building_incrementally() %}
            (select coalesce(max(numbered.supplier_number) + 1, 0) from {{ this }} as numbered)
        {%- else %}
            0
        {%- endif %}
        + row_number() over (order by supplier_code) - 1 as supplier_number
    from suppliers
    {%- if building_incrementally() %}
        where supplier_code not in (select numbered.supplier_code from {{ this }} as numbered)
    {%- endif %}

)

select
    supplier_code,
    cast(supplier_number as bigint) as supplier_number,
    cast(supplier_number // 64 as bigint) as word,
    cast(1 as ubigint) << cast(supplier_number % 64 as ubigint) as supplier_bit
from new_suppliers
order by supplier_number
