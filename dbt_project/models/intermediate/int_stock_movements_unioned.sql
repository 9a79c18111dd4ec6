-- Every change of stock as one signed row (the stock ledger), from all feeds:
-- production adds at its site; consumption removes from the consuming lot's site (the site
-- of the output lot's production); shipments remove at their site; receipts, returns and
-- transfers in add; transfers out, scrap and expiry write-offs remove; adjustments are
-- signed; hold and release change status only and are not here.
-- A run rebuilds the ledger rows of the changed lots and logs, in
-- intermediate.lot_stock_changes, from when they differ at each site (macros/fefo.sql).
{{ lot_keyed_config(['lot_code'], log_changes='stock_ledger') }}
with

production_lots as (

    select * from {{ ref('stg_raw__production_lots') }}

),

consumptions as (

    select * from {{ ref('stg_raw__consumptions') }}

),

shipment_lines as (

    select * from {{ ref('stg_raw__shipment_lines') }}

),

inventory_movements as (

    select * from {{ ref('stg_raw__inventory_movements') }}

),

produced as (

    select
        'production:' || lot_code as movement_key,
        lot_code,
        site_code,
        null as location_code,
        'production' as movement_type,
        quantity_produced as quantity_change,
        produced_at as moved_at
    from production_lots
    where {{ of_changed_lots('lot_code') }}

),

consumed as (

    select
        'consumption:' || consumptions.consumption_key as movement_key,
        consumptions.input_lot_code as lot_code,
        -- null when the consuming lot's production is not (yet) known
        output_lots.site_code,
        null as location_code,
        'consumption' as movement_type,
        -consumptions.quantity_consumed as quantity_change,
        consumptions.consumed_at as moved_at
    from consumptions
    left join production_lots as output_lots
        on consumptions.output_lot_code = output_lots.lot_code
    where {{ of_changed_lots('consumptions.input_lot_code') }}

),

shipped as (

    select
        'shipment:' || shipment_id || ':' || line_no as movement_key,
        lot_code,
        site_code,
        null as location_code,
        'shipment' as movement_type,
        -quantity_shipped as quantity_change,
        shipped_at as moved_at
    from shipment_lines
    where {{ of_changed_lots('lot_code') }}

),

moved as (

    select
        'inventory:' || movement_id as movement_key,
        lot_code,
        site_code,
        location_code,
        movement_type,
        case
            when movement_type in ('receipt', 'transfer_in', 'return') then abs(quantity)
            when movement_type in ('transfer_out', 'scrap', 'expiry_writeoff') then -abs(quantity)
            when movement_type = 'adjustment' then quantity
        end as quantity_change,
        moved_at
    from inventory_movements
    where movement_type not in ('hold', 'release') and {{ of_changed_lots('lot_code') }}

),

final as (

    select * from produced
    union all
    select * from consumed
    union all
    select * from shipped
    union all
    select * from moved

)

select * from final
