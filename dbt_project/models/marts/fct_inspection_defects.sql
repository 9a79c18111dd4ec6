-- Defect facts: per lot, check code and day (with the lot's line and product), the
-- samples taken and the defects found. A run recomputes the facts of the changed lots.
{{ lot_diff_config(
    unique_key=['lot_id', 'check_code', 'inspected_date'],
    sorted_by=['lot_id', 'check_code', 'inspected_date'],
    lot_columns=['lot_code'],
    log_changed_lot_ids='lot_id',
    pre_hook=["{{ fix_changed_lots() }}", "{{ narrow_to_bigint(['samples', 'defects']) }}"],
) }}
with

inspections as (

    select * from {{ ref('stg_raw__inspections') }}
    where {{ of_changed_lots('lot_code') }}

),

lots as (

    select * from {{ ref('dim_lots') }}

),

final as (

    select
        lots.lot_id,
        inspections.lot_code,
        inspections.check_code,
        inspections.inspected_date,
        lots.product_code,
        lots.product_category,
        lots.site_code,
        lots.line_code,
        count(*) as inspection_count,
        count(*) filter (where inspections.inspection_result = 'fail') as failed_inspection_count,
        -- bigint, not the hugeint of a sum, which DuckDB reads slowly
        cast(sum(inspections.sample_size) as bigint) as samples,
        cast(sum(inspections.defect_count) as bigint) as defects
    from inspections
    inner join lots on inspections.lot_code = lots.lot_code
    group by all

)

select * from final
order by lot_id, check_code, inspected_date
