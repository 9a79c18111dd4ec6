-- sqlfluff:ignore:parsing
-- (sqlfluff's duckdb dialect does not know `using key`.)
-- The suppliers whose material each lot holds, at any depth: a received lot holds its
-- supplier's, a lot made from others what they hold. One row per lot and word of 64
-- suppliers that is not empty, the set as bits over rpt_supplier_bits. The supplier
-- scorecard (dashboards/queries.py) reads it instead of walking the whole genealogy.
-- The walk goes forward one frontier of lots that gained a supplier at a time: it ends however
-- the genealogy loops, and it pairs no lot with each of its ancestors.
-- A run recomputes the changed lots and every lot downstream of them, the only lots whose
-- set can change (delete_supplier_sets_of_changed_lots), starting from the kept sets of
-- their other inputs.
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ delete_supplier_sets_of_changed_lots() }}",
    post_hook="{{ record_lot_watermark() }}",
) }}
-- depends_on: {{ ref('int_changed_lots') }}
-- depends_on: {{ ref('int_lot_ids_assigned') }}
{%- set partial = building_incrementally() and not all_lots_changed() %}
with recursive

lots as (

    select * from {{ ref('dim_lots') }}

),

lot_genealogy as (

    select * from {{ ref('fct_lot_genealogy') }}

),

supplier_bits as (

    select * from {{ ref('rpt_supplier_bits') }}

),

received as (

    select
        lots.lot_id,
        supplier_bits.word,
        supplier_bits.supplier_bit as supplier_set
    from lots
    inner join supplier_bits on lots.supplier_code = supplier_bits.supplier_code
    where
        lots.origin_type = 'received'
        {%- if partial %}
            and lots.lot_id in (select recomputed.lot_id from {{ recomputed_lots_table() }} as recomputed)
        {%- endif %}

),

{%- if partial %}

-- a recomputed lot made from a lot that is not recomputed holds what that lot holds
kept_inputs as (

    select
        lot_genealogy.output_lot_id as lot_id,
        kept.word,
        kept.supplier_set
    from lot_genealogy
    inner join {{ this }} as kept on lot_genealogy.input_lot_id = kept.lot_id
    where
        lot_genealogy.output_lot_id in (select recomputed.lot_id from {{ recomputed_lots_table() }} as recomputed)
        and lot_genealogy.input_lot_id not in (
            select recomputed.lot_id from {{ recomputed_lots_table() }} as recomputed
        )

),
{%- endif %}

starts as (

    select
        lot_id,
        word,
        bit_or(supplier_set) as supplier_set
    from (
        select * from received
        {%- if partial %}
            union all
            select * from kept_inputs
        {%- endif %}
    ) as held
    group by lot_id, word

),

lot_suppliers (lot_id, word, supplier_set) using key (lot_id, word) as (

    select
        lot_id,
        word,
        supplier_set
    from starts
    union all
    select
        gained.lot_id,
        gained.word,
        gained.supplier_set | coalesce(known.supplier_set, 0) as supplier_set
    from (
        select
            lot_genealogy.output_lot_id as lot_id,
            lot_suppliers.word,
            bit_or(lot_suppliers.supplier_set) as supplier_set
        from lot_suppliers
        inner join lot_genealogy on lot_suppliers.lot_id = lot_genealogy.input_lot_id
        group by lot_genealogy.output_lot_id, lot_suppliers.word
    ) as gained
    left join recurring.lot_suppliers as known
        on gained.lot_id = known.lot_id and gained.word = known.word
    where gained.supplier_set & ~coalesce(known.supplier_set, 0) != 0

)

select
    lot_id,
    word,
    supplier_set
from lot_suppliers
order by lot_id, word
