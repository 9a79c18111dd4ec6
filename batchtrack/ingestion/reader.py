"""Read one landing file into text columns, keeping each record's line number.

Every column is read as text: validation decides what parses, so a bad value becomes a
quarantined row with its original text instead of a reader error that stops the file.
"""

from __future__ import annotations

import polars as pl

from batchtrack.ingestion.landing import LandingFile

LINE_NUMBER = "__line_number"


class HeaderError(ValueError):
    """The file cannot be loaded at all (a required column is missing, or it is unreadable)."""

    def __init__(self, landing_file: LandingFile, message: str):
        super().__init__(f"{landing_file.relative_path}: {message}")
        self.landing_file = landing_file
        self.message = message


def read_landing_file(landing_file: LandingFile) -> pl.DataFrame:
    """All columns as stripped-name text, plus LINE_NUMBER (header = line 1)."""
    try:
        if landing_file.format == "parquet":
            frame = pl.read_parquet(landing_file.path)
            frame = frame.with_columns(
                pl.col(name).cast(pl.String) for name, dtype in frame.schema.items() if dtype != pl.String
            )
        else:
            frame = pl.read_csv(
                landing_file.path,
                infer_schema=False,
                encoding="utf8",
                quote_char='"',
                raise_if_empty=False,
            )
    except Exception as error:  # polars raises several error types for unreadable input
        raise HeaderError(landing_file, f"cannot be read: {error}") from error

    names = [name.strip().lstrip("\ufeff").strip() for name in frame.columns]
    duplicated = sorted({name for name in names if names.count(name) > 1})
    if duplicated:
        raise HeaderError(landing_file, f"header repeats column(s) {', '.join(duplicated)}")
    frame = frame.rename(dict(zip(frame.columns, names, strict=True)))

    missing = [name for name in landing_file.feed.required_columns if name not in frame.columns]
    if missing:
        plural = "s" if len(missing) > 1 else ""
        raise HeaderError(
            landing_file,
            f"header lacks required column{plural} {', '.join(missing)} "
            f"(file rejected whole; found: {', '.join(frame.columns) or 'no columns'})",
        )
    return frame.with_columns(_line_numbers(frame, landing_file))


def _line_numbers(frame: pl.DataFrame, landing_file: LandingFile) -> pl.Expr:
    """The line each record starts on. A quoted field may hold line breaks (RFC 4180), so
    a record starts after all the line breaks of the records and header before it."""
    first_data_line = 2
    if landing_file.format == "parquet" or frame.width == 0:
        return pl.int_range(first_data_line, first_data_line + frame.height, dtype=pl.Int64).alias(LINE_NUMBER)
    header_breaks = sum(name.count("\n") for name in frame.columns)
    breaks_in_record = pl.sum_horizontal(
        pl.col(name).str.count_matches("\n").fill_null(0) for name in frame.columns
    ).cast(pl.Int64)
    breaks_before = breaks_in_record.cum_sum() - breaks_in_record
    return (pl.int_range(0, pl.len(), dtype=pl.Int64) + first_data_line + header_breaks + breaks_before).alias(
        LINE_NUMBER
    )
