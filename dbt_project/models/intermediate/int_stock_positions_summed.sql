-- Stock per lot and site: the ledger summed. Production, consumption and shipment rows
-- carry no location, so a position is not split by location: its location_code is where
-- stock of the lot was last put at that site (the latest inbound movement naming a
-- location, else the latest movement naming one). Positions can be negative when more
-- left a site than came in; the marts keep only stock held, and the mass balance reports
-- the rest.
-- A run rebuilds the positions of the changed lots.
{{ lot_keyed_config(['lot_code']) }}
with

stock_movements as (

    select * from {{ ref('int_stock_movements_unioned') }}

),

final as (

    select
        lot_code,
        site_code,
        first(
            location_code order by quantity_change > 0 desc, moved_at desc, movement_key desc
        ) filter (where location_code is not null) as location_code,
        sum(quantity_change) as quantity_on_hand,
        count(*) as movement_count,
        min(moved_at) as first_moved_at,
        max(moved_at) as last_moved_at
    from stock_movements
    -- a consumption into a lot whose production is unknown has no site to leave
    where site_code is not null and {{ of_changed_lots('lot_code') }}
    group by lot_code, site_code

)

select * from final
