-- The "as of" day of the warehouse: the latest day any event happened in the data, so stock
-- ages and days to expiry are reproducible (never wall-clock now). One row.
with

production_lots as (

    select * from {{ ref('stg_raw__production_lots') }}

),

consumptions as (

    select * from {{ ref('stg_raw__consumptions') }}

),

inventory_movements as (

    select * from {{ ref('stg_raw__inventory_movements') }}

),

shipment_lines as (

    select * from {{ ref('stg_raw__shipment_lines') }}

),

inspections as (

    select * from {{ ref('stg_raw__inspections') }}

),

event_times as (

    select max(produced_at) as event_at from production_lots
    union all
    select max(consumed_at) as event_at from consumptions
    union all
    select max(moved_at) as event_at from inventory_movements
    union all
    select max(shipped_at) as event_at from shipment_lines
    union all
    select max(inspected_at) as event_at from inspections

),

final as (

    select cast(max(event_at) as date) as as_of_date
    from event_times

)

select * from final
