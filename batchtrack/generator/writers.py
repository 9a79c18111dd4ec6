"""Feed files on disk: CSV (RFC 4180 quoting by the csv module) or Parquet, columns from the contract."""

from __future__ import annotations

import csv
from pathlib import Path

import polars as pl

from batchtrack.feeds import FEEDS_BY_NAME

# Columns a source system sends beyond the contract; ingestion keeps them as extra columns.
EXTRA_COLUMNS: dict[str, tuple[str, ...]] = {"production": ("shift",)}


def columns_of(feed_name: str) -> tuple[str, ...]:
    return FEEDS_BY_NAME[feed_name].column_names + EXTRA_COLUMNS.get(feed_name, ())


def write_csv(path: Path, feed_name: str, rows: list[dict]) -> None:
    columns = columns_of(feed_name)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([row.get(name, "") for name in columns] for row in rows)


def write_parquet(path: Path, feed_name: str, rows: list[dict]) -> None:
    """All columns as text, so a bad value travels exactly as it would in a CSV."""
    columns = columns_of(feed_name)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame = pl.DataFrame(
        {name: [row.get(name, "") for row in rows] for name in columns},
        schema={name: pl.String for name in columns},
    )
    frame.write_parquet(path, statistics=False)
