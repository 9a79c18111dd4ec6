"""Resources: where the landing zone and the warehouse are."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from batchtrack.warehouse import Warehouse

# DuckDB allows one writing process per database file. Every asset that writes the
# warehouse runs in this pool, limited to 1 in dagster.yaml, and the run queue admits one
# run at a time; readers only ever open the published copy, read-only.
WAREHOUSE_POOL = "duckdb_warehouse"


class WarehouseResource(dg.ConfigurableResource):
    """The published warehouse file; writers work on a per-run working copy beside it."""

    path: str

    @property
    def warehouse(self) -> Warehouse:
        return Warehouse(Path(self.path))


class LandingResource(dg.ConfigurableResource):
    """The landing root holding one folder per business day."""

    path: str

    @property
    def root(self) -> Path:
        return Path(self.path)


class ReportsResource(dg.ConfigurableResource):
    """The output folder for reports: dashboards, Data Docs, logs."""

    path: str

    @property
    def root(self) -> Path:
        return Path(self.path)
