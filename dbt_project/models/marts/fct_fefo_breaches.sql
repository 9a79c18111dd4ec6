-- Shipment lines that broke first-expired-first-out: at the moment the line shipped, the
-- same site held usable stock (positive, not on hold: int_lot_stock_runs) of another lot of
-- the same product that expires earlier than the lot shipped and could still be sold: it had
-- at least `fefo_min_shelf_life_left` (default 0.4) of its shelf life (made or received to
-- expiry) left that day. Customers refuse stock with less (retail minimum remaining shelf
-- life), so such stock waits for its expiry write-off and is no breach; set 0 to count every
-- lot not yet expired. A lot without an expiry date expires last. One row per breaching
-- line, with how many such lots there were, the first to expire, and their stock then.
-- A run re-checks the lines whose site and product had their stock runs changed from the
-- line's moment on, and the lines of changed lots (macros/fefo.sql).
-- depends_on: {{ ref('int_changed_lots') }}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ collect_fefo_rechecks() }}",
    post_hook="{{ record_fefo_watermark() }}",
) }}
with

shipment_lines as (

    select * from {{ ref('fct_shipment_lines') }}

),

lots as (

    select * from {{ ref('dim_lots') }}

),

stock_runs as (

    select * from {{ ref('int_lot_stock_runs') }}

),

ledger as (

    select * from {{ ref('int_stock_movements_unioned') }}

),

lines_to_check as (

    select
        shipment_lines.shipment_id,
        shipment_lines.line_no,
        shipment_lines.site_code,
        shipment_lines.product_code,
        shipment_lines.lot_code,
        shipment_lines.customer_code,
        shipment_lines.quantity_shipped,
        shipment_lines.shipped_at,
        shipment_lines.shipped_date,
        lots.made_or_received_date,
        lots.expiry_date
    from shipment_lines
    inner join lots on shipment_lines.lot_code = lots.lot_code
    where {{ of_fefo_rechecks('shipment_lines') }}

),

checked_days as (

    select
        site_code,
        product_code,
        min(shipped_date) as first_day,
        max(shipped_date) as last_day
    from lines_to_check
    group by site_code, product_code

),

-- the last day each lot that expires can be sold: with the share of its shelf life left
sellable_lots as (

    select
        lot_code,
        made_or_received_date,
        expiry_date,
        expiry_date - cast(ceil(
            {{ var('fefo_min_shelf_life_left', 0.4) }} * greatest(expiry_date - made_or_received_date, 0)
        ) as integer) as last_sellable_date
    from lots
    where expiry_date is not null

),

-- the runs of those lots over the days checked while they could be sold, one row per run
-- and day: so a line meets only the runs of its own site, product and day
run_days as (

    select
        stock_runs.lot_code,
        stock_runs.site_code,
        stock_runs.product_code,
        stock_runs.run_from,
        stock_runs.run_until,
        sellable_lots.made_or_received_date,
        sellable_lots.expiry_date,
        cast(unnest(generate_series(
            greatest(cast(stock_runs.run_from as date), checked_days.first_day),
            least(cast(stock_runs.run_until as date), checked_days.last_day, sellable_lots.last_sellable_date),
            interval 1 day
        )) as date) as stock_day
    from stock_runs
    inner join checked_days
        on stock_runs.site_code = checked_days.site_code and stock_runs.product_code = checked_days.product_code
    inner join sellable_lots on stock_runs.lot_code = sellable_lots.lot_code
    where
        stock_runs.run_until >= checked_days.first_day
        and stock_runs.run_from < checked_days.last_day + 1
        and sellable_lots.last_sellable_date >= checked_days.first_day
        and sellable_lots.last_sellable_date >= cast(stock_runs.run_from as date)

),

earlier_expiring as (

    select
        lines_to_check.shipment_id,
        lines_to_check.line_no,
        lines_to_check.shipped_at,
        run_days.site_code,
        run_days.lot_code,
        run_days.made_or_received_date,
        run_days.expiry_date
    from lines_to_check
    inner join run_days
        on
            lines_to_check.site_code = run_days.site_code
            and lines_to_check.product_code = run_days.product_code
            and lines_to_check.shipped_date = run_days.stock_day
            and lines_to_check.shipped_at >= run_days.run_from
            and lines_to_check.shipped_at < run_days.run_until
            and lines_to_check.lot_code != run_days.lot_code
            and run_days.expiry_date < coalesce(lines_to_check.expiry_date, date '9999-12-31')

),

-- the stock of each such lot at that moment: its site's ledger up to then
on_hand as (

    select
        earlier_expiring.shipment_id,
        earlier_expiring.line_no,
        earlier_expiring.lot_code,
        any_value(earlier_expiring.made_or_received_date) as made_or_received_date,
        any_value(earlier_expiring.expiry_date) as expiry_date,
        sum(ledger.quantity_change) as quantity_on_hand
    from earlier_expiring
    inner join ledger
        on
            earlier_expiring.lot_code = ledger.lot_code
            and earlier_expiring.site_code = ledger.site_code
            and earlier_expiring.shipped_at >= ledger.moved_at
    group by earlier_expiring.shipment_id, earlier_expiring.line_no, earlier_expiring.lot_code

),

final as (

    select
        lines_to_check.shipment_id,
        lines_to_check.line_no,
        lines_to_check.site_code,
        lines_to_check.product_code,
        lines_to_check.lot_code,
        lines_to_check.made_or_received_date,
        lines_to_check.expiry_date,
        lines_to_check.customer_code,
        lines_to_check.quantity_shipped,
        lines_to_check.shipped_at,
        lines_to_check.shipped_date,
        count(*) as earlier_expiring_lot_count,
        arg_min(
            on_hand.lot_code, (on_hand.expiry_date, on_hand.made_or_received_date, on_hand.lot_code)
        ) as first_expiring_lot_code,
        min(on_hand.expiry_date) as first_expiring_expiry_date,
        sum(on_hand.quantity_on_hand) as earlier_expiring_quantity_on_hand
    from lines_to_check
    inner join on_hand
        on lines_to_check.shipment_id = on_hand.shipment_id and lines_to_check.line_no = on_hand.line_no
    group by all

)

select * from final
