-- One row per (input lot, output lot): the consumptions between the two lots summed.
with

consumptions as (

    select * from {{ ref('stg_raw__consumptions') }}

),

final as (

    select
        input_lot_code,
        output_lot_code,
        sum(quantity_consumed) as quantity_consumed,
        count(*) as consumption_count,
        min(consumed_at) as first_consumed_at,
        max(consumed_at) as last_consumed_at
    from consumptions
    group by input_lot_code, output_lot_code

)

select * from final
