-- Per lot, the quantities of each kind of stock change and the stock still on hand, the
-- terms of the mass balance. On hand counts only positive positions: stock cannot be below
-- zero, so an overdrawn position shows up as a balance that does not close.
-- A run rebuilds the rows of the changed lots.
{{ lot_keyed_config(['lot_code']) }}
with

stock_movements as (

    select * from {{ ref('int_stock_movements_unioned') }}
    where {{ of_changed_lots('lot_code') }}

),

stock_positions as (

    select * from {{ ref('int_stock_positions_summed') }}
    where {{ of_changed_lots('lot_code') }}

),

movement_totals as (

    select
        lot_code,
        sum(quantity_change) filter (where movement_type = 'production') as quantity_produced,
        sum(quantity_change) filter (where movement_type = 'receipt') as quantity_received,
        -sum(quantity_change) filter (where movement_type = 'consumption') as quantity_consumed,
        -sum(quantity_change) filter (
            where movement_type = 'consumption' and site_code is null
        ) as quantity_consumed_at_unknown_site,
        -sum(quantity_change) filter (where movement_type = 'shipment') as quantity_shipped,
        -sum(quantity_change) filter (where movement_type = 'scrap') as quantity_scrapped,
        -sum(quantity_change) filter (where movement_type = 'expiry_writeoff') as quantity_written_off,
        sum(quantity_change) filter (where movement_type = 'return') as quantity_returned,
        sum(quantity_change) filter (where movement_type = 'adjustment') as quantity_adjusted,
        -sum(quantity_change) filter (where movement_type = 'transfer_out') as quantity_transferred_out,
        sum(quantity_change) filter (where movement_type = 'transfer_in') as quantity_transferred_in,
        max(moved_at) as last_moved_at
    from stock_movements
    group by lot_code

),

position_totals as (

    select
        lot_code,
        sum(greatest(quantity_on_hand, 0)) as quantity_on_hand,
        sum(least(quantity_on_hand, 0)) as quantity_overdrawn,
        count(*) filter (where quantity_on_hand > 0) as stock_position_count
    from stock_positions
    group by lot_code

),

final as (

    select
        movement_totals.lot_code,
        coalesce(movement_totals.quantity_produced, 0) as quantity_produced,
        coalesce(movement_totals.quantity_received, 0) as quantity_received,
        coalesce(movement_totals.quantity_consumed, 0) as quantity_consumed,
        coalesce(movement_totals.quantity_consumed_at_unknown_site, 0) as quantity_consumed_at_unknown_site,
        coalesce(movement_totals.quantity_shipped, 0) as quantity_shipped,
        coalesce(movement_totals.quantity_scrapped, 0) as quantity_scrapped,
        coalesce(movement_totals.quantity_written_off, 0) as quantity_written_off,
        coalesce(movement_totals.quantity_returned, 0) as quantity_returned,
        coalesce(movement_totals.quantity_adjusted, 0) as quantity_adjusted,
        coalesce(movement_totals.quantity_transferred_out, 0) as quantity_transferred_out,
        coalesce(movement_totals.quantity_transferred_in, 0) as quantity_transferred_in,
        coalesce(position_totals.quantity_on_hand, 0) as quantity_on_hand,
        coalesce(position_totals.quantity_overdrawn, 0) as quantity_overdrawn,
        coalesce(position_totals.stock_position_count, 0) as stock_position_count,
        movement_totals.last_moved_at
    from movement_totals
    left join position_totals on movement_totals.lot_code = position_totals.lot_code

)

select * from final
