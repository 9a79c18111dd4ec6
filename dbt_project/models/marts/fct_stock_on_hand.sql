-- Stock on hand per lot, site and location (positions holding stock), with status, age
-- and days to expiry as of the latest data day.
with

stock_positions as (

    select * from {{ ref('int_stock_positions_summed') }}

),

lots as (

    select * from {{ ref('dim_lots') }}

),

products as (

    select * from {{ ref('dim_products') }}

),

positions as (

    select
        lots.lot_id,
        stock_positions.lot_code,
        stock_positions.site_code,
        stock_positions.location_code,
        lots.product_code,
        lots.is_on_hold,
        stock_positions.quantity_on_hand,
        stock_positions.quantity_on_hand * products.unit_cost as stock_value,
        lots.as_of_date - lots.made_or_received_date as stock_age_days,
        lots.expiry_date - lots.as_of_date as days_to_expiry,
        lots.made_or_received_date,
        lots.expiry_date,
        lots.as_of_date
    from stock_positions
    inner join lots on stock_positions.lot_code = lots.lot_code
    left join products on lots.product_code = products.product_code
    where stock_positions.quantity_on_hand > 0

),

final as (

    select
        lot_id,
        lot_code,
        site_code,
        location_code,
        product_code,
        case
            when days_to_expiry < 0 then 'expired'
            when is_on_hold then 'on_hold'
            else 'released'
        end as status,
        case
            when stock_age_days is null then 'unknown'
            when stock_age_days <= 7 then '0-7 days'
            when stock_age_days <= 30 then '8-30 days'
            when stock_age_days <= 90 then '31-90 days'
            else 'over 90 days'
        end as stock_age_bucket,
        case
            when days_to_expiry is null then 'no expiry date'
            when days_to_expiry < 0 then 'expired'
            when days_to_expiry <= 7 then '0-7 days'
            when days_to_expiry <= 14 then '8-14 days'
            when days_to_expiry <= 30 then '15-30 days'
            else 'over 30 days'
        end as expiry_bucket,
        quantity_on_hand,
        stock_value,
        stock_age_days,
        days_to_expiry,
        made_or_received_date,
        expiry_date,
        as_of_date
    from positions

)

select * from final
order by lot_id, site_code, location_code
