{#-
    The SQL surface of the feed contract: table macros trace_forward, trace_backward,
    recall_shipments and recall_on_hand, created in the warehouse file by the on-run-end hook
    so any DuckDB client can call `select * from trace_forward('LOT-1')`.

    - The lot is a macro parameter, bound as a value: nothing a user passes becomes SQL text.
    - Tables are named schema.table, never catalog.schema.table, because the file is copied
      and renamed after the build and opened under other catalog names.
    - Traces walk the integer-keyed edge tables one frontier at a time with
      `with recursive ... using key (lot_id)`: a lot enters the result once, at the first
      (fewest-steps) depth it is reached, and the anti-join on `recurring` (everything
      reached so far) keeps reached lots out of the next frontier, so loops in the data end
      the recursion instead of running it forever. (A plain recursive CTE carrying a depth
      column, or path lists, never terminates on a loop.) `union all` is what DuckDB wants
      with `using key`; rows are still keyed, and the anti-join makes every key new.
-#}

{#- The lots reached from `lot` along `edge_table`, each once at its fewest steps. The edge
    tables carry the reached lot's code and product (and supplier) so a trace never joins
    the whole lot dimension: DuckDB cannot know the recursion is small and would build its
    hash table on the big side. -#}
{% macro lot_reach_ctes(edge_table, from_column, to_column, lot_columns, edge_columns) -%}
    start_lot as (
        select
            lot_id,
            {{ lot_columns }},
            0 as depth
        from main.dim_lots
        where lot_code = trim(lot)
    ),

    reach (lot_id, {{ lot_columns }}, depth) using key (lot_id) as (
        select * from start_lot
        union all
        select
            edges.{{ to_column }} as lot_id,
            {{ edge_columns }},
            reach.depth + 1 as depth
        from reach
        inner join {{ edge_table }} as edges on reach.lot_id = edges.{{ from_column }}
        where not exists (
            select 1
            from recurring.reach as reached
            where reached.lot_id = edges.{{ to_column }}
        )
    )
{%- endmacro %}


{% macro forward_reach_ctes() -%}
    {{ lot_reach_ctes(
        edge_table='main.fct_lot_genealogy',
        from_column='input_lot_id',
        to_column='output_lot_id',
        lot_columns='lot_code, product_code',
        edge_columns='edges.output_lot_code, edges.output_product_code'
    ) }}
{%- endmacro %}


{% macro trace_forward_sql() -%}
    create or replace macro main.trace_forward(lot) as table
    with recursive
    {{ forward_reach_ctes() }}
    select
        lot_code,
        product_code,
        depth,
        lot_id
    from reach
    order by depth, lot_code
{%- endmacro %}


{% macro trace_backward_sql() -%}
    create or replace macro main.trace_backward(lot) as table
    with recursive
    {{ lot_reach_ctes(
        edge_table='main.fct_lot_genealogy_by_output',
        from_column='output_lot_id',
        to_column='input_lot_id',
        lot_columns='lot_code, product_code, supplier_code, supplier_lot_code',
        edge_columns='edges.input_lot_code, edges.input_product_code, '
            ~ 'edges.input_supplier_code, edges.input_supplier_lot_code'
    ) }}
    select
        lot_code,
        product_code,
        depth,
        supplier_code,
        supplier_lot_code,
        lot_id
    from reach
    order by depth, lot_code
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
        reach.depth,
        shipment_lines.site_code,
        customers.customer_name,
        customers.customer_country,
        customers.customer_contact_email,
        customers.customer_phone,
        shipment_lines.ship_to,
        shipment_lines.shipment_reference
    from reach
    inner join main.fct_shipment_lines as shipment_lines on reach.lot_id = shipment_lines.lot_id
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
        reach.depth,
        stock.stock_value,
        stock.expiry_date,
        stock.days_to_expiry,
        stock.as_of_date
    from reach
    inner join main.fct_stock_on_hand as stock on reach.lot_id = stock.lot_id
    order by reach.depth, stock.lot_code, stock.site_code, stock.location_code
{%- endmacro %}


{#- Table macros are bound when created, so they are (re)created only when the marts they
    read exist (a build of a subset of a new warehouse leaves them for the next full build). -#}
{% macro create_recall_macros() -%}
    {%- set marts = ['dim_lots', 'fct_lot_genealogy', 'fct_lot_genealogy_by_output', 'fct_shipment_lines',
        'dim_customers', 'fct_stock_on_hand'] -%}
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
