-- Stock movements: one row per movement_id, the latest delivery winning.
{{ latest_delivery_config('inventory', ['movement_id'], ['movement_id'], ['lot_code']) }}

with

source as (

    select * from {{ source('raw', 'inventory') }} as raw_rows
    {{ of_changed_keys('raw_rows', ['movement_id']) }}

),

ranked as (

    select
        *,
        row_number() over (
            partition by movement_id
            order by landing_date desc, line_number desc
        ) as delivery_rank
    from source

),

final as (

    select
        movement_id,
        lot_code,
        product_code,
        site_code,
        location_code,
        movement_type,
        supplier_code,
        supplier_lot_code,
        reference as movement_reference,
        quantity,
        moved_at,
        cast(moved_at as date) as moved_date,
        expiry_date,
        landing_date,
        source_file,
        line_number
    from ranked
    where delivery_rank = 1

)

select * from final
