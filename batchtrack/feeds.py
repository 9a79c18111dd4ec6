"""The landing-zone contract as data: one declaration per feed file.

Everything that reads, validates, loads or generates feed files takes its column names,
types and keys from here, so a new feed is one `Feed(...)` entry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

ColumnType = Literal["text", "integer", "decimal", "date", "timestamp"]

# DuckDB type of each contract column type in the raw layer.
DUCKDB_TYPES: dict[str, str] = {
    "text": "VARCHAR",
    "integer": "BIGINT",
    # Exact decimals: stock is sums and differences of many movements, and doubles leave
    # residues like 3.5e-14 on a lot that is really empty.
    "decimal": "DECIMAL(18,6)",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
}

MOVEMENT_TYPES = (
    "receipt",
    "transfer_out",
    "transfer_in",
    "adjustment",
    "scrap",
    "expiry_writeoff",
    "return",
    "hold",
    "release",
)
# Movements whose quantity must be > 0: adjustment is signed, hold and release move nothing.
STOCK_MOVING_MOVEMENTS = ("receipt", "transfer_out", "transfer_in", "scrap", "expiry_writeoff", "return")
PRODUCT_CATEGORIES = ("raw", "intermediate", "finished", "packaging")
INSPECTION_RESULTS = ("pass", "fail", "hold")


@dataclass(frozen=True)
class Column:
    name: str
    type: ColumnType = "text"
    required: bool = True
    # Values outside this set are quarantined ("unknown movement_type ...").
    allowed: tuple[str, ...] | None = None
    # Numbers below zero are quarantined ("negative quantity").
    non_negative: bool = False


@dataclass(frozen=True)
class Feed:
    name: str  # file stem in the landing zone and raw table name: raw.<name>
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()  # duplicate keys are quarantined
    master_data: bool = False  # snapshot feeds: the latest delivery of a key wins
    description: str = ""
    extra_rules: tuple[str, ...] = field(default=())  # names of feed-specific row rules

    @property
    def required_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(name)


FEEDS: tuple[Feed, ...] = (
    Feed(
        "products",
        (
            Column("product_code"),
            Column("description"),
            Column("category", allowed=PRODUCT_CATEGORIES),
            Column("base_unit"),
            Column("shelf_life_days", "integer", non_negative=True),
            Column("unit_cost", "decimal", non_negative=True),
        ),
        key=("product_code",),
        master_data=True,
        description="Product master: one row per product code.",
    ),
    Feed(
        "suppliers",
        (
            Column("supplier_code"),
            Column("name"),
            Column("country", required=False),
            Column("contact_email", required=False),
        ),
        key=("supplier_code",),
        master_data=True,
        description="Supplier master.",
    ),
    Feed(
        "customers",
        (
            Column("customer_code"),
            Column("name"),
            Column("country", required=False),
            Column("contact_email", required=False),
            Column("phone", required=False),
        ),
        key=("customer_code",),
        master_data=True,
        description="Customer master (holds personal contact data).",
    ),
    Feed(
        "production",
        (
            Column("lot_code"),
            Column("product_code"),
            Column("site_code"),
            Column("line_code"),
            Column("produced_at", "timestamp"),
            Column("quantity", "decimal", non_negative=True),
            Column("production_order", required=False),
            Column("expiry_date", "date", required=False),
        ),
        key=("lot_code",),
        description="One produced batch (output lot) per row.",
    ),
    Feed(
        "consumption",
        (
            Column("lot_code"),
            Column("input_lot_code"),
            Column("quantity", "decimal", non_negative=True),
            Column("consumed_at", "timestamp"),
        ),
        description="Genealogy: input_lot_code consumed into output lot lot_code.",
    ),
    Feed(
        "inspections",
        (
            Column("inspection_id"),
            Column("lot_code"),
            Column("inspected_at", "timestamp"),
            Column("check_code"),
            Column("sample_size", "integer", non_negative=True),
            Column("defect_count", "integer", non_negative=True),
            Column("result", required=False, allowed=INSPECTION_RESULTS),
        ),
        key=("inspection_id",),
        extra_rules=("defects_within_sample",),
        description="One QC check on a lot.",
    ),
    Feed(
        "inventory",
        (
            Column("movement_id"),
            Column("lot_code"),
            Column("product_code"),
            Column("site_code"),
            Column("location_code", required=False),
            Column("movement_type", allowed=MOVEMENT_TYPES),
            Column("quantity", "decimal"),
            Column("moved_at", "timestamp"),
            Column("supplier_code", required=False),
            Column("supplier_lot_code", required=False),
            Column("expiry_date", "date", required=False),
            Column("reference", required=False),
        ),
        key=("movement_id",),
        extra_rules=("movement_quantity_sign", "receipt_has_supplier"),
        description="Stock movements the other feeds do not carry.",
    ),
    Feed(
        "shipments",
        (
            Column("shipment_id"),
            Column("line_no", "integer"),
            Column("lot_code"),
            Column("product_code"),
            Column("quantity", "decimal", non_negative=True),
            Column("shipped_at", "timestamp"),
            Column("site_code"),
            Column("customer_code"),
            Column("ship_to", required=False),
            Column("carrier", required=False),
            Column("reference", required=False),
        ),
        key=("shipment_id", "line_no"),
        description="One shipment line to a customer.",
    ),
)

FEEDS_BY_NAME: dict[str, Feed] = {feed.name: feed for feed in FEEDS}

# Lineage columns every raw table carries after the contract columns.
RAW_LINEAGE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("extra_columns", "JSON"),  # unknown extra columns, kept as {"name": "text"}
    ("landing_date", "DATE"),  # the day folder the row was delivered in
    (
        "source_file",
        "VARCHAR",
    ),  # path relative to the landing root, e.g. 2026-11-25/production.csv
    ("line_number", "BIGINT"),  # 1 = header row, so the first data row is 2
    ("file_hash", "VARCHAR"),  # sha256 of the file's bytes
    ("loaded_at", "TIMESTAMP"),
)
