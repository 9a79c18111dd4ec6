"""Fixtures of the ingestion unit tests: a landing root with one day folder, and a warehouse
file with the ingestion schema."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest

from batchtrack.warehouse_schema import ensure_ingest_schema

DAY = date(2026, 6, 1)


@pytest.fixture
def landing(tmp_path: Path) -> Path:
    root = tmp_path / "landing"
    (root / DAY.isoformat()).mkdir(parents=True)
    return root


@pytest.fixture
def con(tmp_path: Path):
    connection = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    ensure_ingest_schema(connection)
    yield connection
    connection.close()


def write(landing: Path, name: str, text: str, day: date = DAY) -> Path:
    """A landing file with exactly these bytes (UTF-8), in the folder of `day`."""
    path = landing / day.isoformat() / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode("utf-8"))
    return path
