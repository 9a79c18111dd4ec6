-- Product master as of the latest delivery of each product_code.
with

products as (

    select * from {{ ref('stg_raw__products') }}

),

final as (

    select
        product_code,
        product_description,
        product_category,
        base_unit,
        shelf_life_days,
        unit_cost,
        landing_date
    from products

)

select * from final
