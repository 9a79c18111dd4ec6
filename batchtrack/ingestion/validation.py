"""Row rules of the contract: which rows load (typed) and which are quarantined (with why).

Rules are Polars expressions over the whole file, so validation is columnar; each rule
yields a reason string or null, and a row is good when no rule has anything to say.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import polars as pl

from batchtrack.feeds import STOCK_MOVING_MOVEMENTS, Column, Feed
from batchtrack.ingestion.reader import LINE_NUMBER, MALFORMED

REASON = "__reason"
RAW_RECORD = "__raw_record"
# Which of the files given to `validate_files` a row comes from (its index in the list).
FILE = "__file"

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
    good: pl.DataFrame  # contract columns typed, plus extra_columns and line_number (and FILE)
    quarantined: pl.DataFrame  # line_number, raw_record (JSON text), reason (and FILE)

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


def _feed_rules(feed: Feed, value: Callable[[str], pl.Expr]) -> list[tuple[pl.Expr, pl.Expr]]:
    """The feed's extra rules as (condition, reason) pairs over `value(name)`, the typed value
    of a column; the one list both the full rules and the screen use."""
    rules: list[tuple[pl.Expr, pl.Expr]] = []
    if "defects_within_sample" in feed.extra_rules:
        defects, sample = value("defect_count"), value("sample_size")
        rules.append((defects > sample, pl.format("defect_count {} above sample_size {}", defects, sample)))
    if "movement_quantity_sign" in feed.extra_rules:
        movement, quantity = value("movement_type"), value("quantity")
        moves_stock = movement.is_in(list(STOCK_MOVING_MOVEMENTS))
        # adjustment is signed; hold and release change status, not quantity, so 0 is fine.
        rules.append(
            (
                movement.is_in(["hold", "release"]) & (quantity < 0),
                pl.format("negative quantity {} for a {}", _text("quantity"), movement),
            )
        )
        rules.append(
            (
                moves_stock & (quantity < 0),
                pl.format("negative quantity {} for a {} (must be > 0)", _text("quantity"), movement),
            )
        )
        rules.append((moves_stock & (quantity == 0), pl.format("zero quantity for a {} (must be > 0)", movement)))
    if "receipt_has_supplier" in feed.extra_rules:
        rules.append(
            (
                (value("movement_type") == "receipt") & value("supplier_code").is_null(),
                pl.lit("receipt without supplier_code"),
            )
        )
    return rules


def _feed_rule_reasons(feed: Feed, columns: set[str]) -> list[pl.Expr]:
    def value(name: str) -> pl.Expr:
        return _parsed(feed.column(name)) if name in columns else pl.lit(None)

    return [pl.when(condition).then(reason) for condition, reason in _feed_rules(feed, value)]


def _typed_value(column: Column) -> pl.Expr:
    """The typed value of a column by the common, well-formed spelling only (a plain number,
    YYYY-MM-DD, YYYY-MM-DDTHH:MM:SS); null where the value needs `_parsed` to decide."""
    text = pl.col(column.name)
    if column.type == "text":
        return text
    if column.type == "integer":
        return text.cast(pl.Int64, strict=False)  # [+-]digits only, a subset of _INTEGER
    if column.type == "decimal":
        return text.cast(pl.Float64, strict=False)
    if column.type == "date":
        return text.str.to_date("%Y-%m-%d", strict=False)
    return text.str.to_datetime("%Y-%m-%dT%H:%M:%S", time_unit="us", strict=False)


def _is_well_formed(column: Column) -> pl.Expr:
    """True where `_typed_value` of a non-null value equals what `_parsed` makes of it."""
    text, value = pl.col(column.name), pl.col(_typed_name(column.name))
    if column.type == "decimal":
        # The cast also takes inf and nan, which _DECIMAL refuses.
        return text.str.contains(_DECIMAL) & value.is_finite() & (value.abs() < _DECIMAL_LIMIT)
    if column.type == "date":
        return text.str.contains(_DATE) & value.is_not_null()
    if column.type == "timestamp":
        # 19 bytes that match _TIMESTAMP and parse: exactly YYYY-MM-DDTHH:MM:SS, no offset.
        return (text.str.len_bytes() == 19) & text.str.contains(_TIMESTAMP) & value.is_not_null()
    return value.is_not_null()


def _typed_name(name: str) -> str:
    return f"__typed_{name}"


def _screen(frame: pl.DataFrame, feed: Feed, present: set[str]) -> pl.DataFrame:
    """Typed values of the contract columns and whether a row surely passes every rule.

    The rows that do not (a bad value, or one spelt unusually, such as a timestamp with an
    offset) get the full rules of `_checked`; all rules hold on the others by construction,
    so the expensive reason texts and regex extractions run on a handful of rows, not all.
    """
    columns = [column for column in feed.columns if column.name in present]
    stripped = frame.select(
        *[_text(column.name).alias(column.name) for column in columns],
        pl.col(FILE),
        pl.col(LINE_NUMBER),
        pl.col(MALFORMED),
    )
    typed = stripped.with_columns(_typed_value(column).alias(_typed_name(column.name)) for column in columns)
    bad: list[pl.Expr] = [pl.col(MALFORMED).is_not_null()]
    for column in columns:
        text, value = pl.col(column.name), pl.col(_typed_name(column.name))
        if column.required:
            bad.append(text.is_null())
        if column.type != "text":
            bad.append(text.is_not_null() & ~_is_well_formed(column).fill_null(False))
        if column.non_negative:
            bad.append(value < 0)
        if column.allowed:
            bad.append(text.is_not_null() & ~text.is_in(list(column.allowed)))
    bad += _feed_rule_flags(feed, present)
    return typed.select(
        *[pl.col(_typed_name(column.name)).alias(column.name) for column in columns],
        pl.col(FILE),
        pl.col(LINE_NUMBER),
        ~pl.any_horizontal(flag.fill_null(False) for flag in bad).alias(_SURE),
    )


_SURE = "__sure"


def _feed_rule_flags(feed: Feed, present: set[str]) -> list[pl.Expr]:
    """The conditions of `_feed_rules` on the screened (stripped, typed) columns."""

    def typed(name: str) -> pl.Expr:
        return pl.col(_typed_name(name)) if name in present else pl.lit(None)

    return [condition for condition, _ in _feed_rules(feed, typed)]


def _checked(frame: pl.DataFrame, feed: Feed, source_columns: list[str]) -> pl.DataFrame:
    """Every rule on every row: REASON (null when the row is good) and the typed columns."""
    present = set(source_columns)
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
    return checked.select(
        *[_parsed(column).alias(column.name) for column in feed.columns if column.name in present],
        pl.col(FILE),
        pl.col(LINE_NUMBER),
        pl.col(REASON),
    )


def validate_rows(frame: pl.DataFrame, feed: Feed) -> ValidatedRows:
    """Split a file read by `read_landing_file` into typed good rows and quarantined rows.

    Duplicate keys inside the file are quarantined here (the first occurrence loads);
    duplicates against rows already in the warehouse are the loader's business.
    """
    rows = validate_files([frame], feed)
    return ValidatedRows(good=rows.good.drop(FILE), quarantined=rows.quarantined.drop(FILE))


def validate_files(frames: list[pl.DataFrame], feed: Feed) -> ValidatedRows:
    """`validate_rows` of several files at once, each judged on its own (line numbers and
    duplicate keys are per file); both frames carry FILE, the index of a row's file in
    `frames`, and are in order of FILE, then line.

    One pass over many small files costs far less than one pass per file: the fixed cost
    of the rules (planning them, the reason texts of a few doubtful rows) is paid once.
    """
    by_header: dict[tuple[str, ...], list[pl.DataFrame]] = {}
    for index, frame in enumerate(frames):
        if MALFORMED not in frame.columns:
            frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias(MALFORMED))
        # Files with the same columns (in the same order) are validated together.
        frame = frame.with_columns(pl.lit(index, dtype=pl.UInt32).alias(FILE))
        by_header.setdefault(tuple(frame.columns), []).append(frame)
    results = [
        _validate_files_of_one_header(pl.concat(group, how="vertical", rechunk=False), feed)
        for group in by_header.values()
    ]
    if len(results) == 1:
        return results[0]
    good = pl.concat([result.good for result in results], how="vertical").sort(FILE, maintain_order=True)
    quarantined = pl.concat([result.quarantined for result in results], how="vertical").sort(FILE, maintain_order=True)
    return ValidatedRows(good=good, quarantined=quarantined)


def _validate_files_of_one_header(frame: pl.DataFrame, feed: Feed) -> ValidatedRows:
    row = [FILE, LINE_NUMBER]  # what identifies a row
    source_columns = [name for name in frame.columns if name not in (LINE_NUMBER, MALFORMED, FILE)]
    present = set(source_columns)
    extra = [name for name in source_columns if name not in feed.column_names]
    contract_present = [column.name for column in feed.columns if column.name in present]

    screened = _screen(frame, feed, present)
    sure = screened.get_column(_SURE)
    if sure.all():
        candidates = screened.drop(_SURE)
        flagged = pl.DataFrame(schema={FILE: pl.UInt32, LINE_NUMBER: pl.Int64, REASON: pl.String})
    else:
        checked = _checked(frame.filter(~sure), feed, source_columns)
        flagged = checked.filter(pl.col(REASON).is_not_null()).select(*row, REASON)
        passed = checked.filter(pl.col(REASON).is_null()).select(*contract_present, *row)
        candidates = screened.filter(sure).drop(_SURE)
        if passed.height:
            # A row that `_screen` doubted but that passes every rule, in file order.
            candidates = pl.concat([candidates, passed], how="vertical_relaxed").sort(row)

    if feed.key and candidates.height:
        # Keys compare by value (line_no 1, 01 and +1 are one key): every repeat of a key
        # in a file among the otherwise good rows after its first is quarantined.
        is_first = candidates.select(pl.struct(FILE, *feed.key).is_first_distinct()).to_series()
        if not is_first.all():
            firsts = candidates.filter(is_first).select(FILE, *feed.key, pl.col(LINE_NUMBER).alias("__first_line"))
            # rechunk: pl.format over columns of unequal chunking panics in polars 1.3x
            repeats = candidates.filter(~is_first).join(firsts, on=[FILE, *feed.key], how="left").rechunk()
            key_description = pl.format(", ".join(f"{name}='{{}}'" for name in feed.key), *feed.key)
            duplicates = repeats.select(
                *row,
                pl.format("duplicate key {} (first at line {})", key_description, "__first_line").alias(REASON),
            )
            flagged = pl.concat([flagged, duplicates]).sort(row)
            candidates = candidates.filter(is_first)

    typed_columns = [
        (pl.col(column.name) if column.name in present else pl.lit(None)).cast(_TYPES[column.type]).alias(column.name)
        for column in feed.columns
    ]
    if extra:
        extra_text = frame.select(*row, *[_text(name).alias(name) for name in extra])
        if extra_text.height != candidates.height:
            extra_text = candidates.select(*row).join(extra_text, on=row, how="left", maintain_order="left")
        extra_json = extra_text.select(pl.struct(extra).struct.json_encode()).to_series()
        candidates = candidates.with_columns(extra_json.alias("extra_columns"))
    else:
        candidates = candidates.with_columns(pl.lit(None, dtype=pl.String).alias("extra_columns"))
    good = candidates.select(
        *typed_columns, pl.col("extra_columns"), pl.col(LINE_NUMBER).alias("line_number"), pl.col(FILE)
    )

    raw_record = (
        pl.struct([pl.col(name) for name in source_columns]).struct.json_encode() if source_columns else pl.lit("{}")
    )
    if flagged.height:
        quarantined = flagged.join(frame, on=row, how="left", maintain_order="left").select(
            pl.col(LINE_NUMBER).alias("line_number"),
            raw_record.alias("raw_record"),
            pl.col(REASON).alias("reason"),
            pl.col(FILE),
        )
    else:
        quarantined = pl.DataFrame(
            schema={"line_number": pl.Int64, "raw_record": pl.String, "reason": pl.String, FILE: pl.UInt32}
        )
    return ValidatedRows(good=good, quarantined=quarantined)
