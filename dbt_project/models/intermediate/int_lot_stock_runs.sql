-- Runs of usable stock: the spans of time when a lot's stock at a site (the running sum of
-- its ledger, int_stock_movements_unioned) was positive and the lot was not on hold. A hold
-- or release (at any site) changes the lot's status at every site, as in
-- int_lot_holds_resolved. A movement at the very moment of a shipment counts as before it.
-- What the first-expired-first-out breaches (fct_fefo_breaches) compare shipments with.
-- A run rebuilds the runs of the changed lots and logs, in intermediate.stock_run_changes,
-- from when their old and new runs first differ at each site and product (macros/fefo.sql).
{{ lot_keyed_config(['lot_code'], log_changes='stock_runs') }}
with

inventory_movements as (

    select * from {{ ref('stg_raw__inventory_movements') }}

),

ledger as (

    select * from {{ ref('int_stock_movements_unioned') }}

),

lots as (

    select * from {{ ref('int_lot_origins_resolved') }}

),

quantity_changes as (

    select
        lot_code,
        site_code,
        moved_at,
        movement_key,
        quantity_change,
        null::varchar as status_change
    from ledger
    -- a consumption into a lot whose production is unknown has no site to leave
    where site_code is not null and {{ of_changed_lots('lot_code') }}

),

status_changes as (

    select
        lot_sites.lot_code,
        lot_sites.site_code,
        inventory_movements.moved_at,
        inventory_movements.movement_id as movement_key,
        0 as quantity_change,
        inventory_movements.movement_type as status_change
    from (
        select distinct
            lot_code,
            site_code
        from quantity_changes
    ) as lot_sites
    inner join inventory_movements on lot_sites.lot_code = inventory_movements.lot_code
    where inventory_movements.movement_type in ('hold', 'release')

),

intervals as (

    select
        lot_code,
        site_code,
        moved_at as held_from,
        lead(moved_at, 1, timestamp '9999-12-31') over lot_site as held_until,
        row_number() over lot_site as event_no,
        sum(quantity_change) over (lot_site rows between unbounded preceding and current row) > 0
        and coalesce(
            last_value(status_change ignore nulls) over (lot_site rows between unbounded preceding and current row),
            'release'
        ) != 'hold' as is_usable
    from (
        select * from quantity_changes
        union all
        select * from status_changes
    ) as events
    window lot_site as (partition by lot_code, site_code order by moved_at, status_change nulls first, movement_key)

),

-- consecutive usable intervals form one run: number them by the unusable ones before them
islands as (

    select
        *,
        count(*) filter (where not is_usable) over (
            partition by lot_code, site_code order by event_no rows between unbounded preceding and current row
        ) as island_no
    from intervals

),

final as (

    select
        islands.lot_code,
        islands.site_code,
        lots.product_code,
        min(islands.held_from) as run_from,
        max(islands.held_until) as run_until
    from islands
    left join lots on islands.lot_code = lots.lot_code
    where islands.is_usable
    group by islands.lot_code, islands.site_code, lots.product_code, islands.island_no
    having min(islands.held_from) < max(islands.held_until)

)

select * from final
