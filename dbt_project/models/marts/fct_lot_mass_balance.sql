-- Mass balance per lot: made or received + returned + adjusted
--   = consumed + shipped + scrapped + written off + on hand.
-- Transfers only move stock between sites and are not terms: a transfer out that never
-- arrived leaves stock missing and the balance open. On hand counts positive positions
-- only, so stock overdrawn at a site also leaves it open. An open balance is a finding.
-- A run recomputes the balances of the changed lots and writes those that differ.
{{ lot_diff_config(unique_key=['lot_code'], sorted_by=['lot_id'], lot_columns=['lot_code']) }}
with

lots as (

    select * from {{ ref('dim_lots') }}
    where {{ of_changed_lots('lot_code') }}

),

lot_movements as (

    select * from {{ ref('int_lot_movements_summarized') }}
    where {{ of_changed_lots('lot_code') }}

),

balances as (

    select
        lots.lot_id,
        lots.lot_code,
        lots.product_code,
        lots.origin_type,
        coalesce(lot_movements.quantity_produced, 0)
        + coalesce(lot_movements.quantity_received, 0) as quantity_made_or_received,
        coalesce(lot_movements.quantity_consumed, 0) as quantity_consumed,
        coalesce(lot_movements.quantity_shipped, 0) as quantity_shipped,
        coalesce(lot_movements.quantity_scrapped, 0) as quantity_scrapped,
        coalesce(lot_movements.quantity_written_off, 0) as quantity_written_off,
        coalesce(lot_movements.quantity_on_hand, 0) as quantity_on_hand,
        coalesce(lot_movements.quantity_adjusted, 0) as quantity_adjusted,
        coalesce(lot_movements.quantity_returned, 0) as quantity_returned,
        coalesce(lot_movements.quantity_transferred_out, 0) as quantity_transferred_out,
        coalesce(lot_movements.quantity_transferred_in, 0) as quantity_transferred_in,
        coalesce(lot_movements.quantity_overdrawn, 0) as quantity_overdrawn,
        coalesce(lot_movements.quantity_consumed_at_unknown_site, 0) as quantity_consumed_at_unknown_site
    from lots
    left join lot_movements on lots.lot_code = lot_movements.lot_code

),

differences as (

    select
        *,
        round(
            quantity_made_or_received + quantity_returned + quantity_adjusted
            - quantity_consumed - quantity_shipped - quantity_scrapped - quantity_written_off
            - quantity_on_hand,
            6
        ) as balance_difference
    from balances

),

final as (

    select
        lot_id,
        lot_code,
        product_code,
        origin_type,
        quantity_made_or_received,
        quantity_consumed,
        quantity_shipped,
        quantity_scrapped,
        quantity_written_off,
        quantity_on_hand,
        quantity_adjusted,
        quantity_returned,
        quantity_transferred_out,
        quantity_transferred_in,
        balance_difference,
        abs(balance_difference) <= 1e-6 * greatest(1, quantity_made_or_received) as is_balanced,
        case
            when abs(balance_difference) <= 1e-6 * greatest(1, quantity_made_or_received) then null
            when origin_type = 'unresolved' then 'lot was never produced or received'
            when quantity_consumed_at_unknown_site > 0 then 'consumed into a lot whose production is unknown'
            when round(quantity_transferred_out - quantity_transferred_in, 6) != 0
                then 'transfers out and in do not net to zero'
            when quantity_overdrawn < 0 then 'more stock left a site than was there'
            else 'balance does not close'
        end as finding
    from differences

)

select * from final
order by lot_id
