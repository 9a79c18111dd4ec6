-- Lots recorded as their own ancestor (genealogy loops, a data error), with the other lots
-- of the same loop. No closure of the whole network is built: lots that cannot be on a loop
-- (no input, or no output, within what is left) are peeled off in three rounds first, and
-- reachability is computed only among the lots that remain. The recursion is over
-- (start lot, lot) pairs with `union`, so it ends however the loops run.
with recursive

lot_genealogy as (

    select * from {{ ref('fct_lot_genealogy') }}

),

lots as (

    select * from {{ ref('dim_lots') }}

),

edges_0 as (

    select
        input_lot_id,
        output_lot_id
    from lot_genealogy

),

edges_1 as (

    select
        input_lot_id,
        output_lot_id
    from edges_0
    where
        input_lot_id in (select prior_edges.output_lot_id from edges_0 as prior_edges)
        and output_lot_id in (select prior_edges.input_lot_id from edges_0 as prior_edges)

),

edges_2 as (

    select
        input_lot_id,
        output_lot_id
    from edges_1
    where
        input_lot_id in (select prior_edges.output_lot_id from edges_1 as prior_edges)
        and output_lot_id in (select prior_edges.input_lot_id from edges_1 as prior_edges)

),

edges_3 as (

    select
        input_lot_id,
        output_lot_id
    from edges_2
    where
        input_lot_id in (select prior_edges.output_lot_id from edges_2 as prior_edges)
        and output_lot_id in (select prior_edges.input_lot_id from edges_2 as prior_edges)

),

reachable (start_lot_id, lot_id) as (

    select
        input_lot_id as start_lot_id,
        output_lot_id as lot_id
    from edges_3
    union
    select
        reachable.start_lot_id,
        candidate_edges.output_lot_id as lot_id
    from reachable
    inner join edges_3 as candidate_edges
        on reachable.lot_id = candidate_edges.input_lot_id

),

loop_members as (

    select
        looped.start_lot_id as lot_id,
        list(member_lots.lot_code order by member_lots.lot_code) filter (
            where looped.lot_id != looped.start_lot_id
        ) as other_loop_lot_codes
    from reachable as looped
    inner join reachable as back_again
        on
            looped.start_lot_id = back_again.lot_id
            and looped.lot_id = back_again.start_lot_id
    inner join lots as member_lots on looped.lot_id = member_lots.lot_id
    group by looped.start_lot_id

),

final as (

    select
        lots.lot_id,
        lots.lot_code,
        lots.product_code,
        lots.site_code,
        coalesce(loop_members.other_loop_lot_codes, []) as other_loop_lot_codes,
        lots.made_or_received_at
    from loop_members
    inner join lots on loop_members.lot_id = lots.lot_id

)

select * from final
order by lot_code
