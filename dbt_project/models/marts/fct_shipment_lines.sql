-- Shipment lines with the shipped lot's surrogate key, sorted by it (recall_shipments joins
-- a trace's lot ids). A run recomputes the lines of the changed lots.
{{ lot_diff_config(
    unique_key=['shipment_id', 'line_no'], sorted_by=['lot_id', 'shipment_id', 'line_no'], lot_columns=['lot_code']
) }}
with

shipment_lines as (

    select * from {{ ref('stg_raw__shipment_lines') }}
    where {{ of_changed_lots('lot_code') }}

),

lots as (

    select * from {{ ref('dim_lots') }}

),

final as (

    select
        shipment_lines.shipment_id,
        shipment_lines.line_no,
        lots.lot_id,
        shipment_lines.lot_code,
        shipment_lines.product_code,
        shipment_lines.site_code,
        shipment_lines.customer_code,
        shipment_lines.ship_to,
        shipment_lines.carrier,
        shipment_lines.shipment_reference,
        shipment_lines.quantity_shipped,
        shipment_lines.shipped_at,
        shipment_lines.shipped_date
    from shipment_lines
    inner join lots on shipment_lines.lot_code = lots.lot_code

)

select * from final
order by lot_id, shipment_id, line_no
