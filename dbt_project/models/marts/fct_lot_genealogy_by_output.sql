-- The genealogy edges again, sorted by the output lot, with what a backward trace returns
-- about the input lot, so the trace reads the edges alone.
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
