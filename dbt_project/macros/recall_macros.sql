{#-
    The SQL surface of the feed contract: table macros trace_forward, trace_backward,
    recall_shipments and recall_on_hand, created in the warehouse file by the on-run-end hook
    so any DuckDB client can call `select * from trace_forward('LOT-1')`.

    - The lot is a macro parameter, bound as a value: nothing a user passes becomes SQL text.
    - Tables are named schema.table, never catalog.schema.table, because the file is copied
      and renamed after the build and opened under other catalog names.
    - Traces walk the integer-keyed, sorted edge tables one frontier at a time with
      `with recursive ... using key (lot_id)`: a lot enters the result once, at the first
      (fewest-steps) depth it is reached, and the anti-join on `recurring` (everything
      reached so far) keeps reached lots out of the next frontier, so loops in the data end
      the recursion instead of running it forever. (A plain recursive CTE carrying a depth
      column, or path lists, never terminates on a loop.)
    - How these are made fast is measured in benchmarks/lineage_strategies.py and written up
      in docs/performance.md ("Lineage strategies"): the recursion carries lot ids only, lot
      ids follow production time so a trace touches few row groups of the sorted edge tables
      (their zone maps and the hash join's dynamic filters skip the rest), codes are joined
      once at the end, and the few hub lots read their forward trace from a closure.
-#}

{#- The lots reached from `lot` along `edge_table`, each once at its fewest steps, as
    `reached (lot_id, depth)`.
    - The start lot is found in fct_lot_genealogy_lot_keys, sorted by a number made from the
      code, because a zone map holds only an 8-byte prefix of a string and many lot codes
      share theirs: a lookup by code in dim_lots reads many row groups, this one reads one.
    - With `closure_table`, a lot found there (a hub, whose trace would take tens of
      iterations over big frontiers) is answered from its precomputed closure, and the
      recursion starts from nothing.
    - The reach is packed into one row and unnested again before it is joined to anything:
      DuckDB estimates a recursive CTE at billions of rows and would build its hash table on
      the other side (all of dim_lots or of the shipment lines); after the unnest it builds on
      the reach, and the id-sorted table on the other side is pruned by the join's filters. -#}
{% macro lot_reach_ctes(edge_table, from_column, to_column, closure_table=none) -%}
    start_lot as (
        select lot_id
        from main.fct_lot_genealogy_lot_keys
        where lot_code_key = md5_number_upper(trim(lot)) and lot_code = trim(lot)
    ),

    {% if closure_table -%}
    closure_reach as (
        select
            closure.lot_id,
            closure.depth
        from {{ closure_table }} as closure
        where closure.hub_lot_id = (select start_lot.lot_id from start_lot)
    ),

    {% endif -%}
    reach (lot_id, depth) using key (lot_id) as (
        select
            lot_id,
            0 as depth
        from start_lot
        {% if closure_table -%}
        where not exists (select 1 from closure_reach)
        {% endif -%}
        union all
        select
            step.lot_id,
            step.depth
        from (
            select
                edges.{{ to_column }} as lot_id,
                reach.depth + 1 as depth
            from reach
            inner join {{ edge_table }} as edges on reach.lot_id = edges.{{ from_column }}
        ) as step
        anti join recurring.reach as reached on step.lot_id = reached.lot_id
    ),

    reached as (
        select
            unnest(lot_ids) as lot_id,
            unnest(depths) as depth
        from (
            select
                list(lot_id) as lot_ids,
                list(depth) as depths
            from (
                select lot_id, depth from reach
                {% if closure_table -%}
                union all
                select lot_id, depth from closure_reach
                {% endif -%}
            )
        )
    )
{%- endmacro %}


{% macro forward_reach_ctes() -%}
    {{ lot_reach_ctes(
        edge_table='main.fct_lot_genealogy', from_column='input_lot_id', to_column='output_lot_id',
        closure_table='main.fct_lot_genealogy_hub_closure'
    ) }}
{%- endmacro %}


{% macro trace_forward_sql() -%}
    create or replace macro main.trace_forward(lot) as table
    with recursive
    {{ forward_reach_ctes() }}
    select
        lots.lot_code,
        lots.product_code,
        reached.depth,
        reached.lot_id
    from reached
    inner join main.dim_lots as lots on reached.lot_id = lots.lot_id
    order by reached.depth, lots.lot_code
{%- endmacro %}


{% macro trace_backward_sql() -%}
    create or replace macro main.trace_backward(lot) as table
    with recursive
    {{ lot_reach_ctes(
        edge_table='main.fct_lot_genealogy_by_output', from_column='output_lot_id', to_column='input_lot_id'
    ) }}
    select
        lots.lot_code,
        lots.product_code,
        reached.depth,
        lots.supplier_code,
        lots.supplier_lot_code,
        reached.lot_id
    from reached
    inner join main.dim_lots as lots on reached.lot_id = lots.lot_id
    order by reached.depth, lots.lot_code
{%- endmacro %}


{% macro recall_shipments_sql() -%}
    create or replace macro main.recall_shipments(lot) as table
    with recursive
    {{ forward_reach_ctes() }}
    select
        shipment_lines.shipment_id,
        shipment_lines.line_no,
        shipment_lines.lot_code,
        shipment_lines.product_code,
        shipment_lines.customer_code,
        shipment_lines.quantity_shipped as quantity,
        shipment_lines.shipped_at,
        reached.depth,
        shipment_lines.site_code,
        customers.customer_name,
        customers.customer_country,
        customers.customer_contact_email,
        customers.customer_phone,
        shipment_lines.ship_to,
        shipment_lines.shipment_reference
    from reached
    inner join main.fct_shipment_lines as shipment_lines on reached.lot_id = shipment_lines.lot_id
    left join main.dim_customers as customers on shipment_lines.customer_code = customers.customer_code
    order by shipment_lines.shipped_at, shipment_lines.shipment_id, shipment_lines.line_no
{%- endmacro %}


{% macro recall_on_hand_sql() -%}
    create or replace macro main.recall_on_hand(lot) as table
    with recursive
    {{ forward_reach_ctes() }}
    select
        stock.lot_code,
        stock.site_code,
        stock.location_code,
        stock.quantity_on_hand,
        stock.status,
        stock.product_code,
        reached.depth,
        stock.stock_value,
        stock.expiry_date,
        stock.days_to_expiry,
        stock.as_of_date
    from reached
    inner join main.fct_stock_on_hand as stock on reached.lot_id = stock.lot_id
    order by reached.depth, stock.lot_code, stock.site_code, stock.location_code
{%- endmacro %}


{#- Table macros are bound when created, so they are (re)created only when the marts they
    read exist (a build of a subset of a new warehouse leaves them for the next full build). -#}
{% macro create_recall_macros() -%}
    {%- set marts = ['dim_lots', 'fct_lot_genealogy', 'fct_lot_genealogy_by_output', 'fct_lot_genealogy_lot_keys',
        'fct_lot_genealogy_hub_closure', 'fct_shipment_lines', 'dim_customers', 'fct_stock_on_hand'] -%}
    {%- if execute -%}
        {%- set present = run_query(
            "select count(*) from information_schema.tables where table_catalog = current_database()"
            ~ " and table_schema = 'main' and table_name in ('" ~ marts | join("', '") ~ "')"
        ).columns[0].values()[0] -%}
        {%- if present < marts | length -%}
            {{ log("recall macros not created: the marts they read are not built yet", info=true) }}
            {{ return("") }}
        {%- endif -%}
        {%- do run_query(trace_forward_sql()) -%}
        {%- do run_query(trace_backward_sql()) -%}
        {%- do run_query(recall_shipments_sql()) -%}
        {%- do run_query(recall_on_hand_sql()) -%}
        {{ log("created trace_forward, trace_backward, recall_shipments, recall_on_hand", info=true) }}
    {%- endif -%}
{%- endmacro %}
