-- sqlfluff:ignore:parsing
-- (sqlfluff's duckdb dialect knows neither `using key` nor `anti join`.)
-- The whole forward trace of each hub lot: a lot with at least `hub_two_step_paths` paths of
-- two steps (a cheap upper bound of its reach), such as a starter culture that a share of
-- all batches consume. Its trace would take many iterations over frontiers of thousands of
-- lots spread over months of ids; trace_forward reads it from here instead. The walk is the
-- macros' own: every lot once per hub, at its fewest steps, loops ended by the anti-join.
with recursive

lot_genealogy as (

    select * from {{ ref('fct_lot_genealogy') }}

),

fan_out as (

    select
        input_lot_id as lot_id,
        count(*) as child_count
    from lot_genealogy
    group by input_lot_id

),

hubs as (

    select lot_genealogy.input_lot_id as lot_id
    from lot_genealogy
    inner join fan_out on lot_genealogy.output_lot_id = fan_out.lot_id
    group by lot_genealogy.input_lot_id
    having sum(fan_out.child_count) >= {{ var('hub_two_step_paths', 20000) }}

),

reach (hub_lot_id, lot_id, depth) using key (hub_lot_id, lot_id) as (

    select
        lot_id as hub_lot_id,
        lot_id,
        0 as depth
    from hubs
    union all
    select
        step.hub_lot_id,
        step.lot_id,
        step.depth
    from (
        select
            reach.hub_lot_id,
            lot_genealogy.output_lot_id as lot_id,
            reach.depth + 1 as depth
        from reach
        inner join lot_genealogy on reach.lot_id = lot_genealogy.input_lot_id
    ) as step
    anti join recurring.reach as reached
        on step.hub_lot_id = reached.hub_lot_id and step.lot_id = reached.lot_id

),

final as (

    select
        hub_lot_id,
        lot_id,
        depth
    from reach

)

select * from final
order by hub_lot_id, lot_id
