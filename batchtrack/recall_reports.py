"""The documents a recall needs beyond its scope: the customer notification list, the FDA
FSMA 204 sortable spreadsheet of Key Data Elements, and the mass balance of the recalled lots.

Plain functions over an open (read-only is enough) warehouse connection; the lot code is
always a bound parameter, and every report starts from the contract's `trace_forward` macro,
so they cover exactly the lots `batchtrack recall LOT` names.

FSMA 204 sheet: the columns follow the Key Data Elements of the FDA Food Traceability Rule,
21 CFR Part 1 Subpart S, in the rule's words where the warehouse holds the data:

- Shipping (§1.1340(a)): (1) traceability lot code, (2) quantity and unit of measure,
  (3) product description, (4) location description for the immediate subsequent recipient
  (other than a transporter), (5) location description for the location from which the food
  was shipped, (6) date shipped, (7) location description for the traceability lot code
  source, (8) reference document type and number.
- Receiving (§1.1345(a)): (1) traceability lot code, (2) quantity and unit of measure,
  (3) product description, (4) location description for the immediate previous source (other
  than a transporter), (5) location description for where the food was received, (6) date
  received, (7) traceability lot code source, (8) reference document type and number.
- Transformation (§1.1350(a)): for the foods used, (1)(i) their traceability lot codes,
  (1)(ii) product descriptions and (1)(iii) quantity and unit of measure used from each lot;
  for the food produced, (2)(i) the new traceability lot code, (2)(ii) the location where it
  was transformed (the traceability lot code source), (2)(iii) the date transformation was
  completed, (2)(iv) product description, (2)(v) quantity and unit of measure, (2)(vi)
  reference document type and number.
- The sheet itself is the "electronic sortable spreadsheet" FDA may request within 24 hours
  (§1.1455(c)(3)(ii)).

Traceability lot codes (§1.1320): a firm assigns one only where it transforms a food (or
initially packs, or is the first land-based receiver); a receiver keeps the code its supplier
assigned. So a received lot's `traceability_lot_code` is the supplier's lot code, with the
supplier as its source, and a produced lot's is our lot code, with the producing site as
its source. A received lot without a supplier lot code falls back to our lot code and site.
`lot_code` always carries our own lot code, which is how every row links to the warehouse.

What the warehouse does not hold, and the sheet therefore cannot give: full location
descriptions (§1.1310: business name, phone, street address) for our own sites, which appear
by site code, and for suppliers, which appear by name and code; the traceability lot code
source reference; harvesting, cooling, initial packing and first land-based receiving KDEs
(§1.1325-§1.1335), which are not our events.
"""

from __future__ import annotations

import importlib.util
from decimal import Decimal
from pathlib import Path

import duckdb
import polars as pl

from batchtrack.recall import UnknownLot

__all__ = [
    "FSMA204_COLUMNS",
    "UnknownLot",
    "fsma204_kdes",
    "mass_balance_summary",
    "notification_list",
    "write_fsma204",
    "write_notification_list",
]

# The sheet's columns in order: the rule's KDEs first, then our own keys for audit.
FSMA204_COLUMNS = [
    "event_type",
    "event_date",
    "traceability_lot_code",
    "traceability_lot_code_source",
    "product_description",
    "quantity",
    "unit_of_measure",
    "location_description",
    "immediate_previous_source",
    "immediate_subsequent_recipient",
    "immediate_subsequent_recipient_address",
    "immediate_subsequent_recipient_phone",
    "input_traceability_lot_codes",
    "input_product_descriptions",
    "input_quantities",
    "input_units_of_measure",
    "reference_document_type",
    "reference_document_number",
    "supplier_lot_code",
    "lot_code",
    "product_code",
    "input_lot_codes",
    "event_detail",
    "event_at",
    "source_record",
]

LIST_SEPARATOR = "; "

# Quantities come back as DECIMAL(38, 6) whatever the warehouse file stores (files built
# before the feeds moved to decimals hold DOUBLE), so sums are exact and a balance that
# closes shows 0, not floating-point dust.


def _scope(con: duckdb.DuckDBPyConnection, lot_code: str) -> tuple[str, pl.DataFrame]:
    """The stripped lot code and its forward trace (the lot itself at depth 0)."""
    lot_code = lot_code.strip()
    lots = con.execute(
        "select lot_code, product_code, depth, lot_id from trace_forward(?) order by depth, lot_code", [lot_code]
    ).pl()
    if lots.is_empty():
        raise UnknownLot(lot_code)
    return lot_code, lots


def _quantity_text(quantity: Decimal | float, unit: str | None) -> str:
    text = f"{quantity:,.3f}".rstrip("0").rstrip(".")
    return f"{text} {unit}" if unit else text


# ---------------------------------------------------------------- notification list


def notification_list(con: duckdb.DuckDBPyConnection, lot_code: str) -> pl.DataFrame:
    """One row per customer that received any lot of the forward trace of `lot_code`, with
    the contact details to notify them and what they got, most quantity first.

    `quantity` adds up base units; when a customer got products in different units,
    `unit_of_measure` is "mixed" and `quantity_by_unit` gives the meaningful totals."""
    lot_code, _ = _scope(con, lot_code)
    lines = con.execute(
        """
        select
            shipments.customer_code,
            shipments.customer_name,
            shipments.customer_country,
            shipments.customer_contact_email,
            shipments.customer_phone,
            shipments.ship_to,
            shipments.shipment_id,
            shipments.lot_code,
            shipments.product_code,
            products.base_unit as unit_of_measure,
            cast(shipments.quantity as decimal(38, 6)) as quantity,
            shipments.shipped_at
        from recall_shipments(?) as shipments
        left join main.dim_products as products on shipments.product_code = products.product_code
        """,
        [lot_code],
    ).pl()
    by_unit = (
        lines.group_by("customer_code", "unit_of_measure")
        .agg(pl.col("quantity").sum())
        .sort("customer_code", "unit_of_measure", nulls_last=True)
        .group_by("customer_code", maintain_order=True)
        .agg(
            pl.struct("quantity", "unit_of_measure")
            .map_elements(lambda row: _quantity_text(row["quantity"], row["unit_of_measure"]), return_dtype=pl.String)
            .alias("quantity_by_unit")
        )
    )
    customers = (
        lines.group_by("customer_code")
        .agg(
            pl.col("customer_name").drop_nulls().first(),
            pl.col("customer_country").drop_nulls().first(),
            pl.col("customer_contact_email").drop_nulls().first(),
            pl.col("customer_phone").drop_nulls().first(),
            pl.col("ship_to").drop_nulls().unique().sort().alias("ship_to"),
            pl.col("lot_code").unique().sort().alias("lot_codes"),
            pl.col("product_code").drop_nulls().unique().sort().alias("product_codes"),
            pl.col("shipment_id").n_unique().alias("shipments"),
            pl.len().alias("shipment_lines"),
            pl.col("quantity").sum(),
            pl.col("unit_of_measure").drop_nulls().unique().sort().alias("units"),
            pl.col("shipped_at").min().alias("first_shipped_at"),
            pl.col("shipped_at").max().alias("last_shipped_at"),
        )
        .with_columns(
            pl.when(pl.col("units").list.len() == 1)
            .then(pl.col("units").list.first())
            .when(pl.col("units").list.len() > 1)
            .then(pl.lit("mixed"))
            .alias("unit_of_measure")
        )
        .join(by_unit, on="customer_code", how="left")
    )
    return customers.select(
        "customer_code",
        "customer_name",
        "customer_country",
        "customer_contact_email",
        "customer_phone",
        "ship_to",
        "lot_codes",
        "product_codes",
        "shipments",
        "shipment_lines",
        "quantity",
        "unit_of_measure",
        "quantity_by_unit",
        "first_shipped_at",
        "last_shipped_at",
    ).sort(["quantity", "customer_code"], descending=[True, False])


# ---------------------------------------------------------------- FSMA 204 key data elements

_FSMA204_SQL = """
with

scope as (

    select lot_code from trace_forward($lot_code)

),

-- every input of every transformation in scope, inputs outside the scope included:
-- §1.1350(a)(1) asks for all foods used
edges as (

    select
        output_lot_code,
        input_lot_code,
        quantity_consumed
    from main.fct_lot_genealogy
    where output_lot_code in (select scope.lot_code from scope)

),

lots as (

    select
        lots.lot_code,
        lots.product_code,
        lots.origin_type,
        lots.site_code,
        lots.line_code,
        lots.production_order,
        lots.quantity_made_or_received,
        lots.made_or_received_at,
        coalesce(products.product_description, lots.product_code) as product_description,
        products.base_unit as unit_of_measure,
        -- §1.1320: a receiver keeps the traceability lot code its supplier assigned
        case
            when lots.origin_type = 'received' and lots.supplier_lot_code is not null then lots.supplier_lot_code
            else lots.lot_code
        end as traceability_lot_code,
        case
            when lots.origin_type = 'received' and lots.supplier_lot_code is not null
                then coalesce(suppliers.supplier_name || ' (' || lots.supplier_code || ')', lots.supplier_code)
            else lots.site_code
        end as traceability_lot_code_source
    from main.dim_lots as lots
    left join main.dim_products as products on lots.product_code = products.product_code
    left join main.dim_suppliers as suppliers on lots.supplier_code = suppliers.supplier_code
    where
        lots.lot_code in (select scope.lot_code from scope)
        or lots.lot_code in (select edges.input_lot_code from edges)

),

movements as (

    select *
    from staging.stg_raw__inventory_movements
    where
        lot_code in (select scope.lot_code from scope)
        and movement_type in ('receipt', 'transfer_in', 'transfer_out', 'return')

),

-- the other end of a transfer between our sites: same document, same lot, opposite side
transfer_counterparts as (

    select
        movements.movement_id,
        string_agg(distinct counterparts.site_code, ', ' order by counterparts.site_code) as site_code
    from movements
    inner join staging.stg_raw__inventory_movements as counterparts
        on
            movements.lot_code = counterparts.lot_code
            and movements.movement_reference = counterparts.movement_reference
            and counterparts.movement_type
            = case movements.movement_type when 'transfer_out' then 'transfer_in' else 'transfer_out' end
    where movements.movement_type in ('transfer_in', 'transfer_out')
    group by movements.movement_id

),

inventory_events as (

    select
        case when movements.movement_type = 'transfer_out' then 'Shipping' else 'Receiving' end as event_type,
        case movements.movement_type
            when 'receipt' then 'receipt from supplier'
            when 'transfer_in' then 'transfer in from own site'
            when 'transfer_out' then 'transfer out to own site'
            else 'return from customer'
        end as event_detail,
        movements.moved_at as event_at,
        movements.lot_code,
        abs(movements.quantity) as quantity,
        movements.site_code as location_description,
        case movements.movement_type
            when 'receipt' then coalesce(
                suppliers.supplier_name || ' (' || movements.supplier_code || ')', movements.supplier_code
            )
            when 'transfer_in' then transfer_counterparts.site_code
        end as immediate_previous_source,
        case
            when movements.movement_type = 'transfer_out' then transfer_counterparts.site_code
        end as immediate_subsequent_recipient,
        null as immediate_subsequent_recipient_address,
        null as immediate_subsequent_recipient_phone,
        case
            when movements.movement_reference is null then 'Stock movement record'
            when movements.movement_type = 'receipt' then 'Purchase order'
            when movements.movement_type = 'return' then 'Return document'
            else 'Transfer document'
        end as reference_document_type,
        coalesce(movements.movement_reference, movements.movement_id) as reference_document_number,
        movements.supplier_lot_code,
        'inventory:' || movements.movement_id as source_record
    from movements
    left join main.dim_suppliers as suppliers on movements.supplier_code = suppliers.supplier_code
    left join transfer_counterparts on movements.movement_id = transfer_counterparts.movement_id

),

shipment_events as (

    select
        'Shipping' as event_type,
        'shipment to customer' as event_detail,
        shipment_lines.shipped_at as event_at,
        shipment_lines.lot_code,
        shipment_lines.quantity_shipped as quantity,
        shipment_lines.site_code as location_description,
        null as immediate_previous_source,
        coalesce(
            customers.customer_name || ' (' || shipment_lines.customer_code || ')', shipment_lines.customer_code
        ) as immediate_subsequent_recipient,
        shipment_lines.ship_to as immediate_subsequent_recipient_address,
        customers.customer_phone as immediate_subsequent_recipient_phone,
        'Shipment' as reference_document_type,
        shipment_lines.shipment_id as reference_document_number,
        null as supplier_lot_code,
        'shipment:' || shipment_lines.shipment_id || ':' || shipment_lines.line_no as source_record
    from main.fct_shipment_lines as shipment_lines
    left join main.dim_customers as customers on shipment_lines.customer_code = customers.customer_code
    where shipment_lines.lot_code in (select scope.lot_code from scope)

),

transformation_events as (

    select
        'Transformation' as event_type,
        'production' || coalesce(' on line ' || line_code, '') as event_detail,
        made_or_received_at as event_at,
        lot_code,
        quantity_made_or_received as quantity,
        site_code as location_description,
        null as immediate_previous_source,
        null as immediate_subsequent_recipient,
        null as immediate_subsequent_recipient_address,
        null as immediate_subsequent_recipient_phone,
        case when production_order is null then 'Production record' else 'Production order' end
            as reference_document_type,
        coalesce(production_order, lot_code) as reference_document_number,
        null as supplier_lot_code,
        'production:' || lot_code as source_record
    from lots
    where origin_type = 'produced' and lot_code in (select scope.lot_code from scope)

),

inputs as (

    select
        edges.output_lot_code as lot_code,
        list(input_lots.traceability_lot_code order by edges.input_lot_code) as input_traceability_lot_codes,
        list(coalesce(input_lots.product_description, '') order by edges.input_lot_code)
            as input_product_descriptions,
        list(cast(edges.quantity_consumed as decimal(38, 6)) order by edges.input_lot_code) as input_quantities,
        list(coalesce(input_lots.unit_of_measure, '') order by edges.input_lot_code) as input_units_of_measure,
        list(edges.input_lot_code order by edges.input_lot_code) as input_lot_codes
    from edges
    left join lots as input_lots on edges.input_lot_code = input_lots.lot_code
    group by edges.output_lot_code

),

events as (

    select * from inventory_events
    union all by name
    select * from shipment_events
    union all by name
    select * from transformation_events

),

final as (

    select
        events.event_type,
        cast(events.event_at as date) as event_date,
        lots.traceability_lot_code,
        lots.traceability_lot_code_source,
        lots.product_description,
        cast(events.quantity as decimal(38, 6)) as quantity,
        lots.unit_of_measure,
        events.location_description,
        events.immediate_previous_source,
        events.immediate_subsequent_recipient,
        events.immediate_subsequent_recipient_address,
        events.immediate_subsequent_recipient_phone,
        inputs.input_traceability_lot_codes,
        inputs.input_product_descriptions,
        inputs.input_quantities,
        inputs.input_units_of_measure,
        events.reference_document_type,
        events.reference_document_number,
        events.supplier_lot_code,
        events.lot_code,
        lots.product_code,
        inputs.input_lot_codes,
        events.event_detail,
        events.event_at,
        events.source_record
    from events
    left join lots on events.lot_code = lots.lot_code
    left join inputs on events.event_type = 'Transformation' and events.lot_code = inputs.lot_code

)

select * from final
order by
    event_date,
    lot_code,
    event_at,
    case event_type when 'Receiving' then 0 when 'Transformation' then 1 else 2 end,
    source_record
"""


def fsma204_kdes(con: duckdb.DuckDBPyConnection, lot_code: str) -> pl.DataFrame:
    """The FSMA 204 sortable spreadsheet for the recall of `lot_code`: one row per receiving,
    transformation and shipping event of every lot in its forward trace (the lot's own
    receipt or production included; transfers between our sites are a shipping and a
    receiving event), sorted by event date, then lot. Columns: `FSMA204_COLUMNS`, described
    in this module's docstring; the input_* columns are lists, aligned with each other."""
    lot_code, _ = _scope(con, lot_code)
    return con.execute(_FSMA204_SQL, {"lot_code": lot_code}).pl().select(FSMA204_COLUMNS)


# ---------------------------------------------------------------- mass balance

_BALANCE_TERMS = [
    "quantity_made_or_received",
    "quantity_returned",
    "quantity_adjusted",
    "quantity_consumed",
    "quantity_shipped",
    "quantity_scrapped",
    "quantity_written_off",
    "quantity_on_hand",
    "quantity_unaccounted",
]


def mass_balance_summary(con: duckdb.DuckDBPyConnection, lot_code: str) -> dict:
    """The mass balance of the recall of `lot_code`, from fct_lot_mass_balance.

    Returns a dict:
    - "lot_code": the starting lot;
    - "lots": one row per lot of the forward trace (depth, product, unit, origin and the
      terms: made or received + returned + adjusted = consumed + shipped + scrapped +
      written off + on hand + unaccounted), with the mart's is_balanced and finding;
    - "disposition": where every unit of the starting lot went, one row per destination:
      direction "in" (made or received, returned, adjusted) or "out" (consumed into lot X,
      shipped to customer Y, scrapped, written off, on hand at a site), and a last row
      "unaccounted" for the difference; quantity and share of what was made or received;
    - "total": the starting lot's balance terms as a dict (plus unit_of_measure,
      is_balanced, finding).
    Quantities are in the lot's base unit; lots of different products are not added up."""
    lot_code, _ = _scope(con, lot_code)
    lots = con.execute(
        """
        select
            scope.depth,
            balances.lot_code,
            balances.product_code,
            products.base_unit as unit_of_measure,
            balances.origin_type,
            cast(balances.quantity_made_or_received as decimal(38, 6)) as quantity_made_or_received,
            cast(balances.quantity_returned as decimal(38, 6)) as quantity_returned,
            cast(balances.quantity_adjusted as decimal(38, 6)) as quantity_adjusted,
            cast(balances.quantity_consumed as decimal(38, 6)) as quantity_consumed,
            cast(balances.quantity_shipped as decimal(38, 6)) as quantity_shipped,
            cast(balances.quantity_scrapped as decimal(38, 6)) as quantity_scrapped,
            cast(balances.quantity_written_off as decimal(38, 6)) as quantity_written_off,
            cast(balances.quantity_on_hand as decimal(38, 6)) as quantity_on_hand,
            cast(balances.balance_difference as decimal(38, 6)) as quantity_unaccounted,
            balances.is_balanced,
            balances.finding
        from trace_forward(?) as scope
        inner join main.fct_lot_mass_balance as balances on scope.lot_id = balances.lot_id
        left join main.dim_products as products on balances.product_code = products.product_code
        order by scope.depth, balances.lot_code
        """,
        [lot_code],
    ).pl()
    start = lots.filter(pl.col("lot_code") == lot_code).row(0, named=True)
    total = {"lot_code": lot_code, "unit_of_measure": start["unit_of_measure"]}
    total |= {term: start[term] for term in _BALANCE_TERMS}
    total |= {"is_balanced": start["is_balanced"], "finding": start["finding"]}

    destinations = con.execute(
        """
        select
            'out' as direction,
            'consumed into lot' as disposition,
            genealogy.output_lot_code as counterpart,
            products.product_description as counterpart_description,
            cast(genealogy.quantity_consumed as decimal(38, 6)) as quantity
        from main.fct_lot_genealogy as genealogy
        left join main.dim_products as products on genealogy.output_product_code = products.product_code
        where genealogy.input_lot_code = $lot_code
        union all
        select
            'out',
            'shipped to customer',
            shipment_lines.customer_code,
            any_value(customers.customer_name),
            cast(sum(shipment_lines.quantity_shipped) as decimal(38, 6))
        from main.fct_shipment_lines as shipment_lines
        left join main.dim_customers as customers on shipment_lines.customer_code = customers.customer_code
        where shipment_lines.lot_code = $lot_code
        group by shipment_lines.customer_code
        union all
        select
            'out',
            'on hand',
            site_code,
            concat_ws(', ', 'location ' || location_code, status),
            cast(quantity_on_hand as decimal(38, 6))
        from main.fct_stock_on_hand
        where lot_code = $lot_code
        """,
        {"lot_code": lot_code},
    ).pl()
    destinations = destinations.sort(
        pl.col("disposition").replace_strict(
            {"consumed into lot": 0, "shipped to customer": 1, "on hand": 2}, return_dtype=pl.Int8
        ),
        pl.col("quantity"),
        pl.col("counterpart"),
        descending=[False, True, False],
    )

    def line(direction: str, disposition: str, quantity: Decimal) -> dict:
        return dict(
            direction=direction,
            disposition=disposition,
            counterpart=None,
            counterpart_description=None,
            quantity=quantity,
        )

    ins = [
        line("in", "made or received", start["quantity_made_or_received"]),
        line("in", "returned", start["quantity_returned"]),
        line("in", "adjusted", start["quantity_adjusted"]),
    ]
    outs = [
        line("out", "scrapped", start["quantity_scrapped"]),
        line("out", "written off", start["quantity_written_off"]),
    ]
    schema = destinations.schema
    disposition = pl.concat(
        [
            pl.DataFrame([ins[0]] + [row for row in ins[1:] if row["quantity"]], schema=schema),
            destinations,
            pl.DataFrame([row for row in outs if row["quantity"]], schema=schema),
            pl.DataFrame([line("unaccounted", "unaccounted", start["quantity_unaccounted"])], schema=schema),
        ]
    )
    made = start["quantity_made_or_received"]
    disposition = disposition.with_columns(
        pl.lit(start["unit_of_measure"], dtype=pl.String).alias("unit_of_measure"),
        (pl.col("quantity").cast(pl.Float64) / float(made) * 100).round(2).alias("percent_of_made_or_received")
        if made
        else pl.lit(None, dtype=pl.Float64).alias("percent_of_made_or_received"),
    )
    return {"lot_code": lot_code, "lots": lots, "disposition": disposition, "total": total}


# ---------------------------------------------------------------- writers


def _spreadsheet_ready(frame: pl.DataFrame) -> pl.DataFrame:
    """Lists joined into one cell each, timestamps as ISO 8601: what a spreadsheet can hold."""
    cells = []
    for name, dtype in frame.schema.items():
        column = pl.col(name)
        if isinstance(dtype, pl.List):
            cells.append(column.list.eval(pl.element().cast(pl.String)).list.join(LIST_SEPARATOR).alias(name))
        elif isinstance(dtype, pl.Datetime):
            cells.append(column.dt.strftime("%Y-%m-%dT%H:%M:%S").alias(name))
        else:
            cells.append(column)
    return frame.select(cells)


def write_notification_list(frame: pl.DataFrame, path: str | Path) -> Path:
    """The notification list as CSV (UTF-8, header row); list cells joined with "; "."""
    path = Path(path)
    _spreadsheet_ready(frame).write_csv(path)
    return path


def write_fsma204(frame: pl.DataFrame, path: str | Path) -> Path:
    """The FSMA 204 sheet as CSV (UTF-8, header row), or as XLSX when `path` ends in .xlsx and
    xlsxwriter is installed. List cells are joined with "; "."""
    path = Path(path)
    ready = _spreadsheet_ready(frame)
    if path.suffix.lower() == ".xlsx":
        if importlib.util.find_spec("xlsxwriter") is None:
            raise RuntimeError(
                f"cannot write {path}: .xlsx output needs the xlsxwriter package, which is not installed; "
                "write a .csv file instead (spreadsheet programs open it)"
            )
        ready.write_excel(path, worksheet="FSMA 204 KDEs", autofilter=True, freeze_panes=(1, 0))
        return path
    ready.write_csv(path)
    return path
