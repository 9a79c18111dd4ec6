-- The genealogy edges again, sorted by the output lot, for backward traces (which read the
-- two ids) and for readers that want an output lot's inputs by code.
with

lot_genealogy as (

    select * from {{ ref('fct_lot_genealogy') }}

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
