"""Expectation suites for the raw layer: one suite per feed, built from the contract in `batchtrack.feeds`.

The ingestion layer already quarantines rows that break the contract, so on a healthy warehouse these
suites pass; they are the second line of defence (a loader bug, a hand-edited table, a schema drift).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date

import duckdb
import great_expectations.expectations as gxe
import pandas as pd
from great_expectations.expectations.row_conditions import Column as RowColumn

from batchtrack.feeds import DUCKDB_TYPES, FEEDS, STOCK_MOVING_MOVEMENTS, Feed
from batchtrack.warehouse_schema import table_columns
from quality_checks.results import CheckResult
from quality_checks.validation import Check, validate_frame

# Columns whose values name a row in the sample keys, most telling first.
ROW_KEYS: dict[str, tuple[str, ...]] = {
    "products": ("product_code",),
    "suppliers": ("supplier_code",),
    "customers": ("customer_code",),
    "production": ("lot_code",),
    "consumption": ("lot_code", "input_lot_code"),
    "inspections": ("inspection_id", "lot_code"),
    "inventory": ("movement_id", "lot_code"),
    "shipments": ("lot_code", "shipment_id", "line_no"),
}


def schema_checks(con: duckdb.DuckDBPyConnection, feed: Feed) -> list[CheckResult]:
    """Required columns present and every contract column of its contract type (errors)."""
    actual = table_columns(con, "raw", feed.name)
    frame = pd.DataFrame(
        [
            {
                "column_name": column.name,
                "expected_type": DUCKDB_TYPES[column.type],
                "actual_type": actual.get(column.name),
            }
            for column in feed.columns
            if column.required or column.name in actual
        ]
    )
    checks = [
        Check(
            f"{feed.name}.columns_present",
            "error",
            f"raw.{feed.name} has every required contract column.",
            gxe.ExpectColumnValuesToNotBeNull(column="actual_type"),
        ),
        Check(
            f"{feed.name}.column_types",
            "error",
            f"Every contract column of raw.{feed.name} has its contract type.",
            gxe.ExpectColumnPairValuesToBeEqual(
                column_A="actual_type", column_B="expected_type", ignore_row_if="either_value_is_missing"
            ),
        ),
    ]
    return validate_frame(frame, suite=f"raw.{feed.name}.schema", checks=checks, key_columns=["column_name"])


def _row_checks(feed: Feed) -> list[Check]:
    name = feed.name
    checks = [
        Check(
            f"{name}.{column}_not_null",
            "warning",
            f"Every {name} row has a {column}.",
            gxe.ExpectColumnValuesToNotBeNull(column=column),
        )
        for column in feed.required_columns
    ]
    for column in feed.columns:
        if column.allowed:
            checks.append(
                Check(
                    f"{name}.{column.name}_in_set",
                    "warning",
                    f"{name}.{column.name} is one of {', '.join(column.allowed)}.",
                    gxe.ExpectColumnValuesToBeInSet(column=column.name, value_set=list(column.allowed)),
                )
            )
        if column.non_negative and column.name != "quantity":
            checks.append(
                Check(
                    f"{name}.{column.name}_non_negative",
                    "warning",
                    f"{name}.{column.name} is not negative.",
                    gxe.ExpectColumnValuesToBeBetween(column=column.name, min_value=0),
                )
            )
    if "quantity" in feed.column_names:
        kwargs = {}
        description = f"{name}.quantity is greater than zero."
        if name == "inventory":
            kwargs = {"row_condition": RowColumn("movement_type").is_in(STOCK_MOVING_MOVEMENTS)}
            description = "Inventory quantity is greater than zero (except signed adjustments and hold/release)."
        checks.append(
            Check(
                f"{name}.quantity_positive",
                "warning",
                description,
                gxe.ExpectColumnValuesToBeBetween(column="quantity", min_value=0, strict_min=True, **kwargs),
            )
        )
    if feed.master_data and feed.key:
        checks.append(
            Check(
                f"{name}.{'_'.join(feed.key)}_unique_per_delivery",
                "warning",
                f"A {name} delivery (landing day) carries each {', '.join(feed.key)} once.",
                gxe.ExpectCompoundColumnsToBeUnique(column_list=[*feed.key, "landing_date"]),
            )
        )
    if name == "production":
        checks.append(
            Check(
                "production.expiry_after_production",
                "warning",
                "A produced lot's expiry_date is after the day it was produced.",
                gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                    column_A="expiry_date", column_B="produced_date", ignore_row_if="either_value_is_missing"
                ),
            )
        )
    if name == "inspections":
        checks.append(
            Check(
                "inspections.defects_within_sample",
                "warning",
                "defect_count is at most sample_size.",
                gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                    column_A="sample_size",
                    column_B="defect_count",
                    or_equal=True,
                    ignore_row_if="either_value_is_missing",
                ),
            )
        )
    if name == "inventory":
        receipts = {"row_condition": RowColumn("movement_type") == "receipt"}
        checks += [
            Check(
                "inventory.receipt_has_supplier",
                "warning",
                "A receipt names the supplier the lot came from.",
                gxe.ExpectColumnValuesToNotBeNull(column="supplier_code", **receipts),
            ),
            Check(
                "inventory.expiry_after_receipt",
                "warning",
                "A received lot's expiry_date is after the day it was received.",
                gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                    column_A="expiry_date", column_B="moved_date", ignore_row_if="either_value_is_missing", **receipts
                ),
            ),
        ]
    return checks


def _key_unique_check(feed: Feed) -> Check:
    if len(feed.key) == 1:
        (column,) = feed.key
        expectation = gxe.ExpectColumnValuesToBeUnique(column=column)
        name = f"{feed.name}.{column}_unique"
    else:
        expectation = gxe.ExpectCompoundColumnsToBeUnique(column_list=list(feed.key))
        name = f"{feed.name}.{'_'.join(feed.key)}_unique"
    return Check(
        name,
        "warning",
        f"{', '.join(feed.key)} identifies one {feed.name} row across all deliveries.",
        expectation,
    )


def _select_list(feed: Feed, present: dict[str, str]) -> str:
    columns = [column for column in feed.column_names if column in present]
    extra = []
    if feed.name == "production" and "produced_at" in present:
        extra.append("cast(cast(produced_at as date) as timestamp) as produced_date")
    if feed.name == "inventory" and "moved_at" in present:
        extra.append("cast(cast(moved_at as date) as timestamp) as moved_date")
    if "expiry_date" in present:
        columns.remove("expiry_date")
        extra.append("cast(expiry_date as timestamp) as expiry_date")
    return ", ".join([*columns, *extra, "landing_date", "line_number"])


def days_covered(day: date | None, days: Collection[date] | None) -> list[date] | None:
    """The days a check covers, sorted: `day`, else `days`; None: every day."""
    if day:
        return [day]
    return None if days is None else sorted(set(days))


# Days validated at a time: a first run over years of history checks a month of rows per
# validation, so the frames Great Expectations reads stay small; a daily run is one validation.
DAYS_PER_VALIDATION = 31


def row_checks(
    con: duckdb.DuckDBPyConnection,
    feed: Feed,
    day: date | None = None,
    *,
    days: Collection[date] | None = None,
    key_days: Collection[date] | None = None,
) -> list[CheckResult]:
    """Values of the rows delivered (on `day`, on each of `days`, or ever): not null, in set, positive,
    in order. A row's answer depends on that row alone, so a day is checked when it changed.

    The key is compared across deliveries, per day of `key_days` (default: the same days)."""
    present = table_columns(con, "raw", feed.name)
    if not present:
        return []
    day_list = days_covered(day, days)
    results: list[CheckResult] = []
    for chunk in day_chunks(day_list):
        results += _value_checks(con, feed, present, chunk)
    if feed.key and not feed.master_data:
        key_day_list = days_covered(None, key_days) if key_days is not None else day_list
        for chunk in day_chunks(key_day_list):
            results += _key_checks(con, feed, chunk)
    return results


def day_chunks(day_list: list[date] | None) -> list[list[date] | None]:
    """`day_list` a month of days (DAYS_PER_VALIDATION) at a time; [None]: all rows at once."""
    if day_list is None:
        return [None]
    return [day_list[start : start + DAYS_PER_VALIDATION] for start in range(0, len(day_list), DAYS_PER_VALIDATION)]


_IN_DAYS = "where landing_date in (select unnest(?::date[]))"


def _value_checks(
    con: duckdb.DuckDBPyConnection, feed: Feed, present: dict[str, str], day_list: list[date] | None
) -> list[CheckResult]:
    where = _IN_DAYS if day_list is not None else ""
    params = [day_list] if day_list is not None else []
    frame = con.execute(f"select {_select_list(feed, present)} from raw.{feed.name} {where}", params).df()
    return validate_frame(
        frame, suite=f"raw.{feed.name}", checks=_row_checks(feed), key_columns=ROW_KEYS[feed.name], days=day_list
    )


def _key_checks(con: duckdb.DuckDBPyConnection, feed: Feed, day_list: list[date] | None) -> list[CheckResult]:
    """A key must be unique across deliveries, so a day's keys are compared with every day's."""
    keys = ROW_KEYS[feed.name]
    key_list = ", ".join(feed.key)
    columns = ", ".join(dict.fromkeys([*keys, *feed.key, "landing_date"]))
    params = [day_list] if day_list is not None else []
    scope = (
        f"where ({key_list}) in (select ({key_list}) from raw.{feed.name} {_IN_DAYS})" if day_list is not None else ""
    )
    key_frame = con.execute(f"select {columns} from raw.{feed.name} {scope}", params).df()
    return validate_frame(
        key_frame,
        suite=f"raw.{feed.name}.keys",
        checks=[_key_unique_check(feed)],
        key_columns=keys,
        days=day_list,
    )


def raw_suite_results(
    con: duckdb.DuckDBPyConnection,
    day: date | None = None,
    *,
    days: Collection[date] | None = None,
    key_days: Collection[date] | None = None,
) -> list[CheckResult]:
    """Every feed's suites: on all rows, on `day`, or per day of `days` (`key_days`, by default
    `days`, for the key compared across deliveries)."""
    results: list[CheckResult] = []
    for feed in FEEDS:
        structure = schema_checks(con, feed)
        results += structure
        if all(result.success for result in structure):
            results += row_checks(con, feed, day, days=days, key_days=key_days)
    return results
