-- Genealogy edges, input lot -> output lot, on integer lot ids and sorted by the input lot,
-- so a forward trace (one frontier of lots at a time) joins on a compact, clustered key:
-- lot ids follow production time (dim_lots), a frontier's lots sit in a few row groups, and
-- the zone maps and the hash join's dynamic filters skip the others.
-- A run recomputes the edges with a changed lot at either end (lot ids are stable) and
-- writes those that differ (lot_diff_config).
{{ lot_diff_config(
    unique_key=['input_lot_id', 'output_lot_id'],
    sorted_by=['input_lot_id', 'output_lot_id'],
    lot_columns=['input_lot_code', 'output_lot_code'],
    log_changed_lot_ids='output_lot_id',
) }}
with

genealogy_edges as (

    select * from {{ ref('int_lot_genealogy_edges_aggregated') }}
    where {{ of_changed_lots('input_lot_code') }} or {{ of_changed_lots('output_lot_code') }}

),

lots as (

    select * from {{ ref('dim_lots') }}

),

final as (

    select
        input_lots.lot_id as input_lot_id,
        output_lots.lot_id as output_lot_id,
        genealogy_edges.input_lot_code,
        genealogy_edges.output_lot_code,
        -- carried for the recall reports, which list the inputs and outputs of lots by code
        output_lots.product_code as output_product_code,
        input_lots.product_code as input_product_code,
        input_lots.supplier_code as input_supplier_code,
        input_lots.supplier_lot_code as input_supplier_lot_code,
        genealogy_edges.quantity_consumed,
        genealogy_edges.consumption_count,
        genealogy_edges.first_consumed_at,
        genealogy_edges.last_consumed_at
    from genealogy_edges
    inner join lots as input_lots on genealogy_edges.input_lot_code = input_lots.lot_code
    inner join lots as output_lots on genealogy_edges.output_lot_code = output_lots.lot_code

)

select * from final
order by input_lot_id, output_lot_id
