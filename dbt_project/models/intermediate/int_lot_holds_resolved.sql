-- Whether a lot is on hold: its latest hold or release movement (at any site) decides.
-- A run rebuilds the rows of the changed lots.
{{ lot_keyed_config(['lot_code']) }}
with

inventory_movements as (

    select * from {{ ref('stg_raw__inventory_movements') }}

),

final as (

    select
        lot_code,
        first(movement_type order by moved_at desc, movement_id desc) = 'hold' as is_on_hold,
        max(moved_at) as last_hold_or_release_at
    from inventory_movements
    where movement_type in ('hold', 'release') and {{ of_changed_lots('lot_code') }}
    group by lot_code

)

select * from final
