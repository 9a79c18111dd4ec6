-- Produced lots: one row per lot_code. A lot delivered on several days is a data error;
-- the latest delivery (then the last line of its file) wins, deterministically.
{{ latest_delivery_config('production', ['lot_code'], ['lot_code'], ['lot_code']) }}

with

source as (

    select * from {{ source('raw', 'production') }} as raw_rows
    {{ of_changed_keys('raw_rows', ['lot_code']) }}

),

ranked as (

    select
        *,
        row_number() over (
            partition by lot_code
            order by landing_date desc, line_number desc
        ) as delivery_rank
    from source

),

final as (

    select
        lot_code,
        product_code,
        site_code,
        line_code,
        production_order,
        quantity as quantity_produced,
        produced_at,
        cast(produced_at as date) as produced_date,
        expiry_date,
        landing_date,
        source_file,
        line_number
    from ranked
    where delivery_rank = 1

)

select * from final
