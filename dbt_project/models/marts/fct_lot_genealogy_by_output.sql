-- The genealogy edges again, sorted by the output lot, for backward traces (which read the
-- two ids) and for readers that want an output lot's inputs by code.
-- A run recomputes the edges with a changed lot at either end, like fct_lot_genealogy.
{{ lot_diff_config(
    unique_key=['output_lot_id', 'input_lot_id'],
    sorted_by=['output_lot_id', 'input_lot_id'],
    lot_id_columns=['output_lot_id', 'input_lot_id'],
) }}
with

lot_genealogy as (

    select * from {{ ref('fct_lot_genealogy') }}
    where {{ of_changed_lots('input_lot_code') }} or {{ of_changed_lots('output_lot_code') }}

),

final as (

    select
        output_lot_id,
        input_lot_id,
        input_lot_code,
        input_product_code,
        input_supplier_code,
        input_supplier_lot_code,
        quantity_consumed
    from lot_genealogy

)

select * from final
order by output_lot_id, input_lot_id
