-- One row per lot code seen anywhere: where it came from (produced at a site and line, or
-- received from a supplier), its product and its expiry. Lots only referenced by other
-- feeds (late or missing data) are kept with origin_type 'unresolved', so traces still
-- reach them and the quality checks can name them.
-- A run rebuilds the rows of the changed lots (of every lot, when the products changed) and
-- logs those whose product or dates changed (macros/fefo.sql).
{{ lot_keyed_config(['lot_code'], log_changes='lot_dates') }}
with

production_lots as (

    select * from {{ ref('stg_raw__production_lots') }}
    where {{ of_changed_lots('lot_code') }}

),

inventory_movements as (

    select * from {{ ref('stg_raw__inventory_movements') }}
    where {{ of_changed_lots('lot_code') }}

),

consumptions as (

    select * from {{ ref('stg_raw__consumptions') }}
    where {{ of_changed_lots('output_lot_code') }} or {{ of_changed_lots('input_lot_code') }}

),

shipment_lines as (

    select * from {{ ref('stg_raw__shipment_lines') }}
    where {{ of_changed_lots('lot_code') }}

),

inspections as (

    select * from {{ ref('stg_raw__inspections') }}
    where {{ of_changed_lots('lot_code') }}

),

products as (

    select * from {{ ref('stg_raw__products') }}

),

receipts as (

    select
        lot_code,
        first(product_code order by moved_at, movement_id) as product_code,
        first(site_code order by moved_at, movement_id) as site_code,
        first(supplier_code order by moved_at, movement_id) as supplier_code,
        first(supplier_lot_code order by moved_at, movement_id) as supplier_lot_code,
        max(expiry_date) as expiry_date,
        min(moved_at) as received_at,
        sum(quantity) as quantity_received
    from inventory_movements
    where movement_type = 'receipt'
    group by lot_code

),

referenced_lots as (

    select
        lot_code,
        product_code,
        moved_at as seen_at
    from inventory_movements
    union all
    select
        lot_code,
        product_code,
        shipped_at as seen_at
    from shipment_lines
    union all
    select
        output_lot_code as lot_code,
        null as product_code,
        consumed_at as seen_at
    from consumptions
    union all
    select
        input_lot_code as lot_code,
        null as product_code,
        consumed_at as seen_at
    from consumptions
    union all
    select
        lot_code,
        null as product_code,
        inspected_at as seen_at
    from inspections

),

referenced_only as (

    select
        lot_code,
        first(product_code order by seen_at) filter (where product_code is not null) as product_code
    from referenced_lots
    where lot_code not in (select production_lots.lot_code from production_lots)
        and lot_code not in (select receipts.lot_code from receipts)
    group by lot_code

),

origins as (

    select
        lot_code,
        product_code,
        'produced' as origin_type,
        site_code,
        line_code,
        production_order,
        null as supplier_code,
        null as supplier_lot_code,
        quantity_produced as quantity_made_or_received,
        produced_at as made_or_received_at,
        expiry_date
    from production_lots
    union all
    select
        lot_code,
        product_code,
        'received' as origin_type,
        site_code,
        null as line_code,
        null as production_order,
        supplier_code,
        supplier_lot_code,
        quantity_received as quantity_made_or_received,
        received_at as made_or_received_at,
        expiry_date
    from receipts
    -- a lot both produced and received is a data error: production is its origin
    where lot_code not in (select production_lots.lot_code from production_lots)
    union all
    select
        lot_code,
        product_code,
        'unresolved' as origin_type,
        null as site_code,
        null as line_code,
        null as production_order,
        null as supplier_code,
        null as supplier_lot_code,
        null as quantity_made_or_received,
        null as made_or_received_at,
        null as expiry_date
    from referenced_only

),

final as (

    select
        origins.lot_code,
        origins.product_code,
        products.product_category,
        origins.origin_type,
        origins.site_code,
        origins.line_code,
        origins.production_order,
        origins.supplier_code,
        origins.supplier_lot_code,
        origins.quantity_made_or_received,
        origins.made_or_received_at,
        cast(origins.made_or_received_at as date) as made_or_received_date,
        coalesce(
            origins.expiry_date,
            cast(origins.made_or_received_at as date) + cast(products.shelf_life_days as integer)
        ) as expiry_date
    from origins
    left join products on origins.product_code = products.product_code
    where {{ of_changed_lots('origins.lot_code') }}

)

select * from final
