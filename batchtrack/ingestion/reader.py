"""Read one landing file into text columns, keeping each record's line number.

Every column is read as text: validation decides what parses, so a bad value becomes a
quarantined row with its original text instead of a reader error that stops the file.
"""

from __future__ import annotations

import csv
import io
import re

import polars as pl

from batchtrack.ingestion.landing import LandingFile

LINE_NUMBER = "__line_number"
MALFORMED = "__malformed"
_SURROGATES = re.compile("[\udc80-\udcff]")
_POLARS_DUPLICATE = re.compile(r"^(.+)_duplicated_\d+$")


class HeaderError(ValueError):
    """The file cannot be loaded at all (a required column is missing, or it is unreadable)."""

    def __init__(self, landing_file: LandingFile, message: str):
        super().__init__(f"{landing_file.relative_path}: {message}")
        self.landing_file = landing_file
        self.message = message


def read_landing_file(landing_file: LandingFile, content: bytes | None = None) -> pl.DataFrame:
    """All columns as text under their contract names, plus LINE_NUMBER (header = line 1) and
    MALFORMED (why a record could not be split into the header's fields, else null).

    `content` is the file's bytes when the caller has read them already (to hash them)."""
    if content is None:
        content = landing_file.path.read_bytes()
    if landing_file.format == "parquet":
        frame = _read_parquet(landing_file, content)
    elif not content:
        frame = pl.DataFrame({name: pl.Series([], dtype=pl.String) for name in landing_file.feed.required_columns})
    else:
        try:
            frame = pl.read_csv(
                content,
                infer_schema=False,
                encoding="utf8",
                quote_char='"',
                raise_if_empty=False,
            )
            # One line per record (and the header), unless a quoted field holds a line break.
            lines = content.count(b"\n") + (0 if content.endswith(b"\n") else 1)
            line_numbers = _consecutive_line_numbers() if lines == frame.height + 1 else _line_numbers(frame)
            frame = frame.with_columns(line_numbers, pl.lit(None, dtype=pl.String).alias(MALFORMED))
            # A blank line is not a record (as for any RFC 4180 reader).
            values = [name for name in frame.columns if name not in (LINE_NUMBER, MALFORMED)]
            if values:
                blank = frame.select(pl.all_horizontal(pl.col(name).is_null() for name in values)).to_series()
                if blank.any():
                    frame = frame.filter(~blank)
        except _UNREADABLE:
            # Ragged rows, stray quotes or bytes that are not UTF-8: read record by record, so
            # each bad record is quarantined with its text instead of the file being refused.
            frame = _read_csv_record_by_record(landing_file, content)
    return _contract_header(frame, landing_file)


# What Polars raises on a file it cannot read: an error, or on some corrupt files a Rust panic,
# which reaches Python as PanicException, a BaseException that `except Exception` misses.
_UNREADABLE = (pl.exceptions.PolarsError, pl.exceptions.PanicException)


def _first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


def _read_parquet(landing_file: LandingFile, content: bytes) -> pl.DataFrame:
    try:
        frame = pl.read_parquet(io.BytesIO(content))
        frame = frame.with_columns(
            pl.col(name).cast(pl.String) for name, dtype in frame.schema.items() if dtype != pl.String
        )
    except _UNREADABLE as error:
        raise HeaderError(landing_file, f"cannot be read as Parquet: {_first_line(error)}") from error
    first_data_line = 2  # as if the file were a CSV with a header row
    return frame.with_columns(
        pl.int_range(first_data_line, first_data_line + frame.height, dtype=pl.Int64).alias(LINE_NUMBER),
        pl.lit(None, dtype=pl.String).alias(MALFORMED),
    )


def _read_csv_record_by_record(landing_file: LandingFile, content: bytes) -> pl.DataFrame:
    with io.TextIOWrapper(io.BytesIO(content), newline="", encoding="utf-8", errors="surrogateescape") as handle:
        reader = csv.reader(handle)
        header = next(reader, [])
        width = len(header)
        if width == 0 or len(set(header)) != width:
            raise HeaderError(landing_file, "header is empty or repeats a column name")
        columns: list[list[str | None]] = [[] for _ in range(width)]
        lines: list[int] = []
        malformed: list[str | None] = []
        last_line = reader.line_num
        for record in reader:
            first_line, last_line = last_line + 1, reader.line_num
            if not record:
                continue  # a blank line
            problem = None
            if len(record) > width:
                problem = f"malformed record: {len(record)} fields, the header has {width}"
            if any(_SURROGATES.search(field) for field in record):
                problem = "malformed record: bytes that are not UTF-8"
                record = [_SURROGATES.sub("\ufffd", field) for field in record]
            for index in range(width):
                columns[index].append(record[index] if index < len(record) else None)
            if len(record) > width:
                # Keep the surplus fields' text in the last column, so the raw record loses nothing.
                columns[width - 1][-1] = ",".join(record[width - 1 :])
            lines.append(first_line)
            malformed.append(problem)
    header = [_SURROGATES.sub("\ufffd", name) for name in header]
    frame = pl.DataFrame(
        {name: pl.Series(values, dtype=pl.String) for name, values in zip(header, columns, strict=True)}
    )
    return frame.with_columns(
        pl.Series(LINE_NUMBER, lines, dtype=pl.Int64), pl.Series(MALFORMED, malformed, dtype=pl.String)
    )


def _contract_header(frame: pl.DataFrame, landing_file: LandingFile) -> pl.DataFrame:
    """Header names stripped (and a BOM dropped), contract names matched whatever their case;
    a repeated column or a missing required one rejects the file."""
    contract = {name.lower(): name for name in landing_file.feed.column_names}
    names = []
    for name in frame.columns:
        if name in (LINE_NUMBER, MALFORMED):
            names.append(name)
            continue
        clean = name.lstrip("\ufeff").strip()
        names.append(contract.get(clean.lower(), clean))
    repeated = sorted({name for name in names if names.count(name) > 1})
    # polars renames a repeated CSV column to <name>_duplicated_<n>
    repeated += sorted(
        match.group(1) for name in names if (match := _POLARS_DUPLICATE.match(name)) and match.group(1) in names
    )
    if repeated:
        raise HeaderError(landing_file, f"header repeats column(s) {', '.join(repeated)}")
    frame = frame.rename(dict(zip(frame.columns, names, strict=True)))
    missing = [name for name in landing_file.feed.required_columns if name not in frame.columns]
    if missing:
        plural = "s" if len(missing) > 1 else ""
        found = [name for name in frame.columns if name not in (LINE_NUMBER, MALFORMED)]
        raise HeaderError(
            landing_file,
            f"header lacks required column{plural} {', '.join(missing)} "
            f"(file rejected whole; found: {', '.join(found) or 'no columns'})",
        )
    if LINE_NUMBER not in frame.columns:  # an empty file: no records
        frame = frame.with_columns(
            pl.lit(None, dtype=pl.Int64).alias(LINE_NUMBER), pl.lit(None, dtype=pl.String).alias(MALFORMED)
        )
    return frame


def _consecutive_line_numbers() -> pl.Expr:
    first_data_line = 2
    return pl.int_range(first_data_line, first_data_line + pl.len(), dtype=pl.Int64).alias(LINE_NUMBER)


def _line_numbers(frame: pl.DataFrame) -> pl.Expr:
    """The line each record starts on. A quoted field may hold line breaks (RFC 4180), so
    a record starts after all the line breaks of the records and header before it."""
    first_data_line = 2
    if frame.width == 0:
        return pl.int_range(first_data_line, first_data_line + frame.height, dtype=pl.Int64).alias(LINE_NUMBER)
    header_breaks = sum(name.count("\n") for name in frame.columns)
    breaks_in_record = pl.sum_horizontal(
        pl.col(name).str.count_matches("\n", literal=True).fill_null(0) for name in frame.columns
    ).cast(pl.Int64)
    breaks_before = breaks_in_record.cum_sum() - breaks_in_record
    return (pl.int_range(0, pl.len(), dtype=pl.Int64) + first_data_line + header_breaks + breaks_before).alias(
        LINE_NUMBER
    )
