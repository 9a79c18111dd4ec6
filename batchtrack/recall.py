"""The recall scope of one lot, read from the published warehouse through the contract's
table macros, so the command line answers exactly what SQL users get."""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb
import polars as pl


class UnknownLot(LookupError):
    """The lot code is nowhere in the warehouse."""


@dataclass
class RecallScope:
    lot_code: str
    direction: str  # forward | backward
    lots: pl.DataFrame
    shipments: pl.DataFrame  # forward only
    customers: pl.DataFrame  # forward only
    on_hand: pl.DataFrame  # forward only
    suppliers: pl.DataFrame  # backward only
    mass_balance: pl.DataFrame = field(default_factory=pl.DataFrame)  # forward: per lot of the scope
    disposition: pl.DataFrame = field(default_factory=pl.DataFrame)  # forward: where the lot's units went
    balance_total: dict = field(default_factory=dict)  # forward: the recalled lot's own balance

    def sections(self) -> dict[str, pl.DataFrame]:
        if self.direction == "backward":
            return {"lots": self.lots, "suppliers": self.suppliers}
        return {
            "lots": self.lots,
            "shipments": self.shipments,
            "customers": self.customers,
            "on_hand": self.on_hand,
            "disposition": self.disposition,
            "mass_balance": self.mass_balance,
        }


def recall_scope(con: duckdb.DuckDBPyConnection, lot_code: str, *, backward: bool = False) -> RecallScope:
    """Every lot reached from `lot_code`, and (forward) its shipments and stock on hand or
    (backward) the suppliers it came from. The lot code is always a bound parameter."""
    lot_code = lot_code.strip()
    if backward:
        lots = con.execute(
            """
            select lot_code, product_code, depth, supplier_code, supplier_lot_code
            from trace_backward(?) order by depth, lot_code
            """,
            [lot_code],
        ).pl()
    else:
        lots = con.execute(
            "select lot_code, product_code, depth from trace_forward(?) order by depth, lot_code", [lot_code]
        ).pl()
    if lots.is_empty():
        raise UnknownLot(lot_code)
    empty = pl.DataFrame()
    if backward:
        suppliers = (
            lots.filter(pl.col("supplier_code").is_not_null())
            .group_by("supplier_code")
            .agg(
                pl.col("supplier_lot_code").drop_nulls().unique().sort().alias("supplier_lot_codes"),
                pl.col("lot_code").unique().sort().alias("lot_codes"),
            )
            .sort("supplier_code")
        )
        return RecallScope(lot_code, "backward", lots, empty, empty, empty, suppliers)
    shipments = con.execute(
        """
        select
            shipment_id, line_no, lot_code, product_code, customer_code, quantity, shipped_at,
            customer_name, customer_contact_email, customer_phone
        from recall_shipments(?) order by shipped_at, shipment_id, line_no
        """,
        [lot_code],
    ).pl()
    customers = (
        shipments.group_by("customer_code")
        .agg(
            # A recall calls these people: their contact details belong in its answer.
            pl.col("customer_name").first(),
            pl.col("customer_contact_email").first(),
            pl.col("customer_phone").first(),
            pl.len().alias("shipment_lines"),
            pl.col("quantity").sum().alias("quantity"),
            pl.col("lot_code").unique().sort().alias("lot_codes"),
            pl.col("shipped_at").min().alias("first_shipped_at"),
            pl.col("shipped_at").max().alias("last_shipped_at"),
        )
        .sort("customer_code")
    )
    shipments = shipments.drop("customer_name", "customer_contact_email", "customer_phone")
    on_hand = con.execute(
        """
        select lot_code, site_code, location_code, quantity_on_hand, status
        from recall_on_hand(?) order by lot_code, site_code, location_code
        """,
        [lot_code],
    ).pl()
    from batchtrack.recall_reports import mass_balance_summary

    balance = mass_balance_summary(con, lot_code)
    return RecallScope(
        lot_code,
        "forward",
        lots,
        shipments,
        customers,
        on_hand,
        empty,
        mass_balance=balance["lots"],
        disposition=balance["disposition"],
        balance_total=balance["total"],
    )
