-- The lots whose rows the lot-keyed models rebuild, stamped with when they changed: the lots
-- of every staged row that changed, and the inputs of the consumptions into a changed lot
-- (the site of such a consumption is the consuming lot's production site). A null lot_code
-- stands for every lot.
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    post_hook="{{ record_stamp_watermark() }}",
) }}
-- depends_on: {{ ref('stg_raw__production_lots') }}
-- depends_on: {{ ref('stg_raw__inventory_movements') }}
-- depends_on: {{ ref('stg_raw__shipment_lines') }}
-- depends_on: {{ ref('stg_raw__inspections') }}
-- depends_on: {{ ref('stg_raw__products') }}
with

stamped as (

    select distinct lot_code
    from intermediate.lot_changes
    where stamped_at > {{ model_watermark() }}

),

consumptions as (

    select * from {{ ref('stg_raw__consumptions') }}

),

inputs_of_changed as (

    select consumptions.input_lot_code as lot_code
    from consumptions
    inner join stamped on consumptions.output_lot_code = stamped.lot_code
    -- a null here would stand for every lot
    where consumptions.input_lot_code is not null

),

final as (

    select distinct
        lot_code,
        now()::timestamp as changed_at
    from (
        select lot_code from stamped
        union all
        select lot_code from inputs_of_changed
    ) as changed

)

select * from final
