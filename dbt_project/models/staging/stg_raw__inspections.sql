-- QC checks: one row per inspection_id, the latest delivery winning.
{{ latest_delivery_config('inspections', ['inspection_id'], ['inspection_id'], ['lot_code']) }}

with

source as (

    select * from {{ source('raw', 'inspections') }} as raw_rows
    {{ of_changed_keys('raw_rows', ['inspection_id']) }}

),

ranked as (

    select
        *,
        row_number() over (
            partition by inspection_id
            order by landing_date desc, line_number desc
        ) as delivery_rank
    from source

),

final as (

    select
        inspection_id,
        lot_code,
        check_code,
        result as inspection_result,
        sample_size,
        defect_count,
        inspected_at,
        cast(inspected_at as date) as inspected_date,
        landing_date,
        source_file,
        line_number
    from ranked
    where delivery_rank = 1

)

select * from final
