-- Expiry waste: quantity and value written off because of expiry, by day, site and product.
with

stock_movements as (

    select * from {{ ref('int_stock_movements_unioned') }}

),

lots as (

    select * from {{ ref('dim_lots') }}

),

products as (

    select * from {{ ref('dim_products') }}

),

writeoffs as (

    select
        cast(stock_movements.moved_at as date) as writeoff_date,
        stock_movements.site_code,
        lots.product_code,
        stock_movements.lot_code,
        -stock_movements.quantity_change as quantity_written_off,
        -stock_movements.quantity_change * products.unit_cost as value_written_off
    from stock_movements
    inner join lots on stock_movements.lot_code = lots.lot_code
    left join products on lots.product_code = products.product_code
    where stock_movements.movement_type = 'expiry_writeoff'

),

final as (

    select
        writeoff_date,
        site_code,
        product_code,
        count(distinct lot_code) as lot_count,
        sum(quantity_written_off) as quantity_written_off,
        sum(value_written_off) as value_written_off
    from writeoffs
    group by writeoff_date, site_code, product_code

)

select * from final
order by writeoff_date, site_code, product_code
