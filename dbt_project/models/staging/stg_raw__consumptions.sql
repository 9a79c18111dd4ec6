-- Genealogy events: input_lot_code consumed into output lot. The feed has no key, so two
-- rows of one file are two events; the same (output lot, input lot, time) delivered on
-- several days is a data error, and only the rows of the latest delivery day are kept.
{{ latest_delivery_config(
    'consumption',
    raw_keys=['lot_code', 'input_lot_code', 'consumed_at'],
    target_keys=['output_lot_code', 'input_lot_code', 'consumed_at'],
    lot_columns=['output_lot_code', 'input_lot_code'],
) }}

with

source as (

    select * from {{ source('raw', 'consumption') }} as raw_rows
    {{ of_changed_keys('raw_rows', ['lot_code', 'input_lot_code', 'consumed_at']) }}

),

ranked as (

    select
        *,
        dense_rank() over (
            partition by lot_code, input_lot_code, consumed_at
            order by landing_date desc
        ) as delivery_rank
    from source

),

final as (

    select
        concat_ws(':', source_file, line_number) as consumption_key,
        lot_code as output_lot_code,
        input_lot_code,
        quantity as quantity_consumed,
        consumed_at,
        landing_date,
        source_file,
        line_number
    from ranked
    where delivery_rank = 1

)

-- In time order, which the daily appends keep: a run's changed keys are of a few days, so the
-- hooks that look their rows up (the key includes consumed_at) read only those days' row groups.
select * from final
order by consumed_at
