-- Product master: one row per product_code, the latest delivery winning. Lots take their
-- category, shelf life and cost from it, so a delivery of it stamps every lot as changed.
{{ config(post_hook="{{ stamp_all_lots_if_changed('products') }}") }}
with

source as (

    select * from {{ source('raw', 'products') }}

),

ranked as (

    select
        *,
        row_number() over (
            partition by product_code
            order by landing_date desc, line_number desc
        ) as delivery_rank
    from source

),

final as (

    select
        product_code,
        description as product_description,
        category as product_category,
        base_unit,
        shelf_life_days,
        unit_cost,
        landing_date,
        source_file,
        line_number
    from ranked
    where delivery_rank = 1

)

select * from final
