"""Writing a recall scope for people (table) and for programs (csv, json)."""

from __future__ import annotations

import csv
import json
from datetime import date, datetime
from decimal import Decimal
from typing import TextIO

import polars as pl

from batchtrack.recall import RecallScope

TITLES = {
    "lots": "affected lots",
    "shipments": "shipment lines",
    "customers": "customers",
    "on_hand": "stock still on hand",
    "suppliers": "suppliers",
    "disposition": "where the recalled lot went",
    "mass_balance": "mass balance of every lot in scope",
}


TABLE_BALANCE_COLUMNS = (
    "depth",
    "lot_code",
    "quantity_made_or_received",
    "quantity_consumed",
    "quantity_shipped",
    "quantity_written_off",
    "quantity_scrapped",
    "quantity_on_hand",
    "quantity_unaccounted",
    "is_balanced",
)


def _plain(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value) if value == value.to_integral_value() or abs(value.as_tuple().exponent) > 3 else str(value)
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def _plain_row(row: dict) -> dict:
    return {key: _plain(value) for key, value in row.items()}


def write_recall(scope: RecallScope, output_format: str, out: TextIO) -> None:
    sections = scope.sections()
    if output_format == "json":
        document = {
            "lot_code": scope.lot_code,
            "direction": scope.direction,
            **({"mass_balance_total": _plain_row(scope.balance_total)} if scope.balance_total else {}),
            **{
                name: [{k: _plain(v) for k, v in row.items()} for row in frame.to_dicts()]
                for name, frame in sections.items()
            },
        }
        json.dump(document, out, indent=2, ensure_ascii=False)
        out.write("\n")
        return
    if output_format == "csv":
        # One stream, one header: a `section` column says what each row is.
        columns: list[str] = []
        for frame in sections.values():
            columns += [name for name in frame.columns if name not in columns]
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["section", *columns])
        for name, frame in sections.items():
            for row in frame.to_dicts():
                values = []
                for column in columns:
                    value = _plain(row.get(column))
                    values.append(";".join(map(str, value)) if isinstance(value, list) else value)
                writer.writerow([name, *values])
        return
    direction = "made from it" if scope.direction == "forward" else "it was made from"
    out.write(f"Recall scope of lot {scope.lot_code!r}: {len(scope.lots) - 1} other lots {direction}\n")
    if scope.direction == "forward":
        quantity = scope.shipments["quantity"].sum() if scope.shipments.height else 0
        out.write(
            f"{scope.shipments.height} shipment lines to {scope.customers.height} customers "
            f"({quantity:,.3f} units); {scope.on_hand.height} stock positions still on hand\n"
        )
        total = scope.balance_total
        if total:
            unit = total.get("unit_of_measure") or "units"
            open_lots = scope.mass_balance.filter(~pl.col("is_balanced")).height if scope.mass_balance.height else 0
            out.write(
                f"mass balance: {total['quantity_made_or_received']:,.3f} {unit} made or received, "
                f"{total['quantity_unaccounted']:,.3f} {unit} unaccounted; "
                f"{open_lots} of {scope.mass_balance.height} lots in scope do not close\n"
            )
    with pl.Config(tbl_rows=-1, tbl_cols=-1, tbl_width_chars=200, fmt_str_lengths=60, tbl_hide_dataframe_shape=True):
        for name, frame in sections.items():
            if name == "mass_balance" and frame.height:
                frame = frame.select(  # the terms people read first; csv and json carry them all
                    [column for column in TABLE_BALANCE_COLUMNS if column in frame.columns]
                ).rename(lambda column: column.removeprefix("quantity_"))
            out.write(f"\n{TITLES[name]} ({frame.height})\n")
            if frame.height:
                out.write(f"{frame}\n")
