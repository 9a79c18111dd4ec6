"""Row rules of the contract: which rows load (typed) and which are quarantined (with why).

Rules are Polars expressions over the whole file, so validation is columnar; each rule
yields a reason string or null, and a row is good when no rule has anything to say.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from batchtrack.feeds import STOCK_MOVING_MOVEMENTS, Column, Feed
from batchtrack.ingestion.reader import LINE_NUMBER, MALFORMED

REASON = "__reason"
RAW_RECORD = "__raw_record"

# ISO 8601 date-time: local wall-clock part, then an optional offset. The offset is not
# kept: the contract reads times without one as site local time, and a stated offset is
# that same site's local offset, so the wall-clock part is comparable across rows.
_TIMESTAMP = r"^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2})(:\d{2}(?:[.,]\d{1,9})?)?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?$"
_DATE = r"^\d{4}-\d{2}-\d{2}$"
_INTEGER = r"^[+-]?\d+(\.0*)?$"  # 10.0 too: Parquet writers store integer columns with nulls as floats
# DECIMAL(18,6) holds up to 12 digits before the point.
_DECIMAL_LIMIT = 10**12
_DECIMAL = r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$"

_TYPES = {
    "text": pl.String,
    "integer": pl.Int64,
    "decimal": pl.Float64,
    "date": pl.Date,
    "timestamp": pl.Datetime("us"),
}


@dataclass(frozen=True)
class ValidatedRows:
    good: pl.DataFrame  # contract columns typed, plus extra_columns and line_number
    quarantined: pl.DataFrame  # line_number, raw_record (JSON text), reason

    @property
    def rows_in(self) -> int:
        return self.good.height + self.quarantined.height


def _text(name: str) -> pl.Expr:
    value = pl.col(name).str.strip_chars()
    return pl.when(value == "").then(None).otherwise(value)


def _parsed(column: Column) -> pl.Expr:
    text = _text(column.name)
    if column.type == "text":
        return text
    if column.type == "integer":
        digits = text.str.strip_prefix("+").str.replace(r"\.0*$", "")
        return pl.when(text.str.contains(_INTEGER)).then(digits).cast(pl.Int64, strict=False)
    if column.type == "decimal":
        number = pl.when(text.str.contains(_DECIMAL)).then(text).cast(pl.Float64, strict=False)
        return pl.when(number.is_finite() & (number.abs() < _DECIMAL_LIMIT)).then(number)
    if column.type == "date":
        return pl.when(text.str.contains(_DATE)).then(text).str.to_date("%Y-%m-%d", strict=False)
    # timestamp: rebuild the local part as YYYY-MM-DDTHH:MM:SS[.f] and parse that
    date_part = text.str.extract(_TIMESTAMP, 1)
    hour_minute = text.str.extract(_TIMESTAMP, 2).fill_null("00:00")
    seconds = text.str.extract(_TIMESTAMP, 3).fill_null(":00").str.replace(",", ".", literal=True)
    local = pl.concat_str([date_part, pl.lit("T"), hour_minute, seconds])
    return local.str.to_datetime("%Y-%m-%dT%H:%M:%S%.f", time_unit="us", strict=False)


_TYPE_WORDS = {
    "integer": "whole number",
    "decimal": "number",
    "date": "date (YYYY-MM-DD)",
    "timestamp": "ISO 8601 timestamp",
}


def _column_reasons(column: Column, present: bool) -> list[pl.Expr]:
    name = column.name
    if not present:
        # An optional column the file does not carry: nothing to check.
        return []
    text = _text(name)
    parsed = _parsed(column)
    reasons: list[pl.Expr] = []
    if column.required:
        reasons.append(pl.when(text.is_null()).then(pl.lit(f"missing required value: {name}")))
    if column.type == "decimal":
        number = pl.when(text.str.contains(_DECIMAL)).then(text).cast(pl.Float64, strict=False)
        reasons.append(
            pl.when(text.is_not_null() & (number.is_null() | number.is_nan())).then(
                pl.format(f"unparseable number in {name}: '{{}}'", text)
            )
        )
        reasons.append(
            pl.when(number.is_infinite() | (number.abs() >= _DECIMAL_LIMIT)).then(
                pl.format(f"number out of range in {name}: '{{}}' (at most 12 digits before the point)", text)
            )
        )
    elif column.type != "text":
        reasons.append(
            pl.when(text.is_not_null() & parsed.is_null()).then(
                pl.format(f"unparseable {_TYPE_WORDS[column.type]} in {name}: '{{}}'", text)
            )
        )
    if column.non_negative:
        reasons.append(pl.when(parsed < 0).then(pl.format(f"negative {name}: {{}}", text)))
    if column.allowed:
        reasons.append(
            pl.when(text.is_not_null() & ~text.is_in(list(column.allowed))).then(
                pl.format(
                    f"unknown {name} '{{}}' (expected one of: {', '.join(column.allowed)})",
                    text,
                )
            )
        )
    return reasons


def _feed_rule_reasons(feed: Feed, columns: set[str]) -> list[pl.Expr]:
    reasons: list[pl.Expr] = []
    if "defects_within_sample" in feed.extra_rules:
        defects = _parsed(feed.column("defect_count"))
        sample = _parsed(feed.column("sample_size"))
        reasons.append(
            pl.when(defects > sample).then(pl.format("defect_count {} above sample_size {}", defects, sample))
        )
    if "movement_quantity_sign" in feed.extra_rules:
        movement = _text("movement_type")
        quantity = _parsed(feed.column("quantity"))
        moves_stock = movement.is_in(list(STOCK_MOVING_MOVEMENTS))
        # adjustment is signed; hold and release change status, not quantity, so 0 is fine.
        reasons.append(
            pl.when(movement.is_in(["hold", "release"]) & (quantity < 0)).then(
                pl.format("negative quantity {} for a {}", _text("quantity"), movement)
            )
        )
        reasons.append(
            pl.when(moves_stock & (quantity < 0)).then(
                pl.format("negative quantity {} for a {} (must be > 0)", _text("quantity"), movement)
            )
        )
        reasons.append(
            pl.when(moves_stock & (quantity == 0)).then(pl.format("zero quantity for a {} (must be > 0)", movement))
        )
    if "receipt_has_supplier" in feed.extra_rules:
        supplier = _text("supplier_code") if "supplier_code" in columns else pl.lit(None, dtype=pl.String)
        reasons.append(
            pl.when((_text("movement_type") == "receipt") & supplier.is_null()).then(
                pl.lit("receipt without supplier_code")
            )
        )
    return reasons


def validate_rows(frame: pl.DataFrame, feed: Feed) -> ValidatedRows:
    """Split a file read by `read_landing_file` into typed good rows and quarantined rows.

    Duplicate keys inside the file are quarantined here (the first occurrence loads);
    duplicates against rows already in the warehouse are the loader's business.
    """
    source_columns = [name for name in frame.columns if name not in (LINE_NUMBER, MALFORMED)]
    present = set(source_columns)
    extra = [name for name in source_columns if name not in feed.column_names]

    reasons: list[pl.Expr] = []
    for column in feed.columns:
        reasons += _column_reasons(column, column.name in present)
    reasons += _feed_rule_reasons(feed, present)

    checked = frame.with_columns(
        pl.concat_str(reasons, separator="; ", ignore_nulls=True).alias(REASON) if reasons else pl.lit("").alias(REASON)
    ).with_columns(pl.when(pl.col(REASON) == "").then(None).otherwise(pl.col(REASON)).alias(REASON))
    if source_columns:
        is_empty = pl.all_horizontal(_text(name).is_null() for name in source_columns)
        checked = checked.with_columns(
            pl.when(is_empty).then(pl.lit("empty line")).otherwise(pl.col(REASON)).alias(REASON)
        )
    if MALFORMED in checked.columns:
        # A record the reader could not split is judged by that alone.
        checked = checked.with_columns(pl.coalesce(pl.col(MALFORMED), pl.col(REASON)).alias(REASON))

    if feed.key:
        # Keys compare by value: line_no 1, 01 and +1 are one key.
        key_text = [_parsed(feed.column(name)) for name in feed.key]
        is_candidate = pl.col(REASON).is_null()
        # Among rows that are otherwise good, every repeat of a key after the first.
        first_good_line = pl.when(is_candidate).then(pl.col(LINE_NUMBER)).min().over(key_text)
        key_description = pl.format(", ".join(f"{name}='{{}}'" for name in feed.key), *key_text)
        checked = checked.with_columns(
            pl.when(is_candidate & (pl.col(LINE_NUMBER) != first_good_line))
            .then(
                pl.format(
                    "duplicate key {} (first at line {})",
                    key_description,
                    first_good_line,
                )
            )
            .otherwise(pl.col(REASON))
            .alias(REASON)
        )

    good_mask = pl.col(REASON).is_null()
    typed_columns = [
        (_parsed(column) if column.name in present else pl.lit(None)).cast(_TYPES[column.type]).alias(column.name)
        for column in feed.columns
    ]
    extra_json = (
        pl.struct([_text(name).alias(name) for name in extra]).struct.json_encode()
        if extra
        else pl.lit(None, dtype=pl.String)
    )
    good = checked.filter(good_mask).select(
        *typed_columns,
        extra_json.alias("extra_columns"),
        pl.col(LINE_NUMBER).alias("line_number"),
    )
    raw_record = (
        pl.struct([pl.col(name) for name in source_columns]).struct.json_encode() if source_columns else pl.lit("{}")
    )
    quarantined = checked.filter(~good_mask).select(
        pl.col(LINE_NUMBER).alias("line_number"),
        raw_record.alias("raw_record"),
        pl.col(REASON).alias("reason"),
    )
    return ValidatedRows(good=good, quarantined=quarantined)
