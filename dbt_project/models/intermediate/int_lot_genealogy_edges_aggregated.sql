-- One row per (input lot, output lot): the consumptions between the two lots summed. A run
-- rebuilds the pairs with a changed lot at either end.
{{ lot_keyed_config(['input_lot_code', 'output_lot_code']) }}
with

consumptions as (

    select * from {{ ref('stg_raw__consumptions') }}
    where {{ of_changed_lots('input_lot_code') }} or {{ of_changed_lots('output_lot_code') }}

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
