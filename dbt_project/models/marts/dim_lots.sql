-- One row per lot: product, origin, made/received time, expiry and current status.
-- lot_id is an integer surrogate key that the genealogy edges and the recall macros join on,
-- assigned once per lot (int_lot_ids_assigned). It follows the time a lot was made or
-- received: lots of one trace were made within days of each other, so their ids, and their
-- rows in the id-sorted edge tables, sit close together and a trace reads few row groups; and
-- a day of new lots gets ids after all earlier ones, which an append keeps
-- (benchmarks/lineage_strategies.py measures the layouts).
-- A run recomputes the changed lots and the lots whose expiry the as-of day passed (or, moved
-- back, passed no more), writes the rows that differ, and moves every row's as-of day
-- (macros/lot_diff.sql, fix_expiring_and_changed_lots).
{{ lot_diff_config(
    unique_key=['lot_code'],
    sorted_by=['lot_id'],
    lot_columns=['lot_code'],
    pre_hook="{{ fix_expiring_and_changed_lots() }}",
) }}
with

lot_origins as (

    select * from {{ ref('int_lot_origins_resolved') }}
    where {{ of_changed_lots('lot_code') }}

),

lot_movements as (

    select * from {{ ref('int_lot_movements_summarized') }}
    where {{ of_changed_lots('lot_code') }}

),

lot_holds as (

    select * from {{ ref('int_lot_holds_resolved') }}
    where {{ of_changed_lots('lot_code') }}

),

lot_ids as (

    select * from {{ ref('int_lot_ids_assigned') }}

),

as_of_dates as (

    select * from {{ ref('int_as_of_dates_derived') }}

),

lots as (

    select
        lot_ids.lot_id,
        lot_origins.*,
        coalesce(lot_movements.quantity_on_hand, 0) as quantity_on_hand,
        coalesce(lot_movements.quantity_consumed, 0) as quantity_consumed,
        coalesce(lot_movements.quantity_shipped, 0) as quantity_shipped,
        coalesce(lot_movements.quantity_returned, 0) as quantity_returned,
        coalesce(lot_movements.quantity_scrapped, 0) as quantity_scrapped,
        coalesce(lot_movements.quantity_written_off, 0) as quantity_written_off,
        coalesce(lot_holds.is_on_hold, false) as is_on_hold,
        coalesce(lot_origins.expiry_date < as_of_dates.as_of_date, false) as is_past_expiry,
        as_of_dates.as_of_date
    from lot_origins
    inner join lot_ids on lot_origins.lot_code = lot_ids.lot_code
    cross join as_of_dates
    left join lot_movements on lot_origins.lot_code = lot_movements.lot_code
    left join lot_holds on lot_origins.lot_code = lot_holds.lot_code

),

final as (

    select
        lot_id,
        lot_code,
        product_code,
        product_category,
        origin_type,
        site_code,
        line_code,
        production_order,
        supplier_code,
        supplier_lot_code,
        case
            when origin_type = 'unresolved' then 'unresolved'
            when quantity_on_hand > 0 and is_past_expiry then 'expired'
            when quantity_on_hand > 0 and is_on_hold then 'on_hold'
            when quantity_on_hand > 0 then 'released'
            when quantity_written_off > 0 then 'expired'
            when quantity_shipped > 0 and quantity_shipped - quantity_returned >= quantity_consumed then 'shipped_out'
            when quantity_consumed > 0 then 'consumed'
            when quantity_scrapped > 0 then 'scrapped'
            else 'consumed'
        end as current_status,
        quantity_made_or_received,
        quantity_on_hand,
        is_on_hold,
        made_or_received_at,
        made_or_received_date,
        expiry_date,
        as_of_date
    from lots

)

select * from final
order by lot_id
