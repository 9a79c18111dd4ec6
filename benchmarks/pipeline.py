"""The whole pipeline (`run_ingest`: raw ingest, dbt build, quality checks, publish, dashboards)
timed end to end on one landing folder and one warehouse file."""

from __future__ import annotations

import time

from batchtrack.settings import Settings


def pipeline_run(params: dict) -> dict:
    """Child phase: one `run_ingest` of the new days of `landing` into `warehouse`."""
    from pipelines.dbt_manifest import ensure_manifest
    from pipelines.ingest_run import run_ingest

    ensure_manifest()  # `make setup` prepares it in the working tree: not part of a run's time
    settings = Settings.from_env(warehouse=params["warehouse"], landing=params["landing"], output=params["output"])
    started = time.perf_counter()
    report = run_ingest(settings)
    seconds = time.perf_counter() - started
    if not report.success or not report.published:
        raise RuntimeError(f"run_ingest did not publish: {report.failure or 'no step failure recorded'}")
    return {
        "seconds": seconds,
        "days": len(report.days_requested),
        "rows_in": sum(row["rows_in"] for row in report.results),
        "rows_loaded": sum(row["rows_loaded"] for row in report.results),
        "rows_quarantined": sum(row["rows_quarantined"] for row in report.results),
        "rejected_files": report.rejected_files,
        "step_seconds": report.step_seconds,
    }
