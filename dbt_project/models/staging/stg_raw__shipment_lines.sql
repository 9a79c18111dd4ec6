-- Shipment lines: one row per (shipment_id, line_no), the latest delivery winning.
{{ latest_delivery_config('shipments', ['shipment_id', 'line_no'], ['shipment_id', 'line_no'], ['lot_code']) }}

with

source as (

    select * from {{ source('raw', 'shipments') }} as raw_rows
    {{ of_changed_keys('raw_rows', ['shipment_id', 'line_no']) }}

),

ranked as (

    select
        *,
        row_number() over (
            partition by shipment_id, line_no
            order by landing_date desc, line_number desc
        ) as delivery_rank
    from source

),

final as (

    select
        shipment_id,
        line_no,
        lot_code,
        product_code,
        site_code,
        customer_code,
        ship_to,
        carrier,
        reference as shipment_reference,
        quantity as quantity_shipped,
        shipped_at,
        cast(shipped_at as date) as shipped_date,
        landing_date,
        source_file,
        line_number
    from ranked
    where delivery_rank = 1

)

select * from final
