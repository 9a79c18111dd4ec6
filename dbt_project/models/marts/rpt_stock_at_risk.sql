-- Stock at risk: value of stock on hand, not yet expired, that expires within the next 7,
-- 14 and 30 days of the latest data day, by site and product.
with

stock_on_hand as (

    select * from {{ ref('fct_stock_on_hand') }}

),

final as (

    select
        site_code,
        product_code,
        sum(stock_value) filter (where days_to_expiry <= 7) as value_expiring_7_days,
        sum(stock_value) filter (where days_to_expiry <= 14) as value_expiring_14_days,
        sum(stock_value) as value_expiring_30_days,
        sum(quantity_on_hand) filter (where days_to_expiry <= 7) as quantity_expiring_7_days,
        sum(quantity_on_hand) filter (where days_to_expiry <= 14) as quantity_expiring_14_days,
        sum(quantity_on_hand) as quantity_expiring_30_days,
        count(distinct lot_code) as lot_count,
        min(as_of_date) as as_of_date
    from stock_on_hand
    where days_to_expiry between 0 and 30
    group by site_code, product_code

)

select * from final
order by site_code, product_code
