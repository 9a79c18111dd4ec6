-- Defects of finished lots attributed back to the suppliers of their raw materials: one row
-- per finished lot's defect fact and received ancestor lot. The walk back is over
-- (finished lot, ancestor) pairs with `union`, starting only from finished lots with
-- defects, so it ends on loops and builds no closure of the whole network.
-- A run recomputes the finished lots whose defect facts or ancestry may have changed: the
-- lots downstream of (or equal to) a lot whose inputs or defect facts changed
-- (fix_attribution_lots), and writes the rows that differ.
{{ lot_diff_config(
    unique_key=['finished_lot_id', 'check_code', 'inspected_date', 'raw_lot_code'],
    sorted_by=['finished_lot_code', 'check_code', 'inspected_date', 'raw_lot_code'],
    lot_columns=['finished_lot_code'],
    pre_hook=["{{ fix_attribution_lots() }}", "{{ narrow_to_bigint(['samples', 'defects']) }}"],
    post_hook=["{{ record_attribution_watermark() }}"],
) }}
-- depends_on: {{ ref('fct_lot_genealogy') }}
with recursive

inspection_defects as (

    select * from {{ ref('fct_inspection_defects') }}

),

lot_genealogy as (

    select * from {{ ref('fct_lot_genealogy_by_output') }}

),

lots as (

    select * from {{ ref('dim_lots') }}

),

defective_finished_lots as (

    select distinct lot_id
    from inspection_defects
    where
        product_category = 'finished'
        and defects > 0
        and {{ of_changed_lots('lot_code') }}

),

ancestors (finished_lot_id, lot_id) as (

    select
        lot_id as finished_lot_id,
        lot_id
    from defective_finished_lots
    union
    select
        ancestors.finished_lot_id,
        lot_genealogy.input_lot_id as lot_id
    from ancestors
    inner join lot_genealogy on ancestors.lot_id = lot_genealogy.output_lot_id

),

final as (

    select
        inspection_defects.lot_id as finished_lot_id,
        inspection_defects.lot_code as finished_lot_code,
        inspection_defects.check_code,
        inspection_defects.inspected_date,
        raw_lots.supplier_code,
        raw_lots.supplier_lot_code,
        raw_lots.lot_code as raw_lot_code,
        raw_lots.product_code as raw_product_code,
        inspection_defects.product_code as finished_product_code,
        inspection_defects.line_code as finished_line_code,
        inspection_defects.samples,
        inspection_defects.defects
    from inspection_defects
    inner join ancestors on inspection_defects.lot_id = ancestors.finished_lot_id
    inner join lots as raw_lots on ancestors.lot_id = raw_lots.lot_id
    where
        inspection_defects.defects > 0
        and raw_lots.origin_type = 'received'
        and raw_lots.supplier_code is not null

)

select * from final
order by finished_lot_code, check_code, inspected_date, raw_lot_code
