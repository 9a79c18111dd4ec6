"""`batchtrack ingest` runs the daily_warehouse job in this process: the same assets the
Dagster UI shows, for the landing days that are new or changed."""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import dagster as dg

from batchtrack.ingestion.landing import day_folders
from batchtrack.ingestion.planning import plan_days
from batchtrack.settings import Settings
from batchtrack.warehouse import Warehouse


@dataclass
class IngestReport:
    days_requested: list[date] = field(default_factory=list)
    outside_partitions: list[date] = field(default_factory=list)
    results: list[dict] = field(default_factory=list)  # one per changed (day, feed)
    success: bool = True
    published: bool = False  # the run's working copy replaced the published warehouse
    failure: str | None = None
    log_file: Path | None = None  # dbt's output of the run
    step_seconds: dict[str, float] = field(default_factory=dict)  # wall time of each step, in run order

    @property
    def rejected_files(self) -> list[str]:
        return [error for result in self.results for error in result["errors"]]

    @property
    def data_loaded(self) -> bool:
        # A failure after publishing (drawing the dashboards) leaves the data loaded.
        return self.published and not self.rejected_files and not self.outside_partitions


@contextlib.contextmanager
def _dbt_output(log_file: Path, echo: bool):
    """dagster-dbt copies every dbt log line to stdout; keep them in a log file instead,
    unless the caller asked to watch the run."""
    if echo:
        yield
        return
    with log_file.open("w", encoding="utf-8") as handle, contextlib.redirect_stdout(handle):
        yield


def _error_text(error) -> str:
    """The message of a step's error and of what caused it, without Dagster's framing."""
    messages = []
    while error is not None:
        messages.append(error.message.strip().splitlines()[-1] if error.message.strip() else error.cls_name)
        error = error.cause
    return " <- ".join(messages) or "step failed"


def _step_seconds(instance: dg.DagsterInstance, run_id: str) -> dict[str, float]:
    """Each step's wall time, from its start to its success or failure event."""
    started: dict[str, float] = {}
    seconds: dict[str, float] = {}
    ends = {dg.DagsterEventType.STEP_SUCCESS, dg.DagsterEventType.STEP_FAILURE}
    for entry in instance.all_logs(run_id):
        event = entry.dagster_event
        if event is None or event.step_key is None:
            continue
        if event.event_type == dg.DagsterEventType.STEP_START:
            started[event.step_key] = entry.timestamp
        elif event.event_type in ends and event.step_key in started:
            seconds[event.step_key] = entry.timestamp - started[event.step_key]
    return seconds


def dagster_instance() -> dg.DagsterInstance:
    """The project's Dagster instance when DAGSTER_HOME is set (runs then show in the UI),
    otherwise a throwaway one."""
    if os.environ.get("DAGSTER_HOME"):
        return dg.DagsterInstance.get()
    return dg.DagsterInstance.ephemeral()


def run_ingest(
    settings: Settings, day: date | None = None, *, build_models: bool = True, log_level: str = "WARNING"
) -> IngestReport:
    """Load new or changed days (or `day`, again), rebuild the models, publish.

    build_models=False loads and publishes the raw layer only (the dbt step is skipped);
    the tests of ingestion behaviour use it to stay fast.
    """
    if not settings.landing.is_dir():
        raise FileNotFoundError(f"no landing folder {settings.landing} (pass --landing or set BATCHTRACK_LANDING)")
    if day is not None and day not in day_folders(settings.landing):
        raise FileNotFoundError(f"no day folder {day.isoformat()} under {settings.landing}")
    # The working copy of a large warehouse takes seconds to copy: do it while the pipeline's
    # definitions are imported (several seconds: Dagster, dbt's manifest, Great Expectations),
    # the run is planned and Dagster sets it up; the run's first writing step adopts it (or
    # copies again, and reports what went wrong, if this failed).
    preparing = threading.Thread(target=_prepare_quietly, args=(Warehouse(settings.warehouse),), daemon=True)
    preparing.start()
    try:
        from pipelines.dbt_manifest import ensure_manifest
        from pipelines.defs.automation import partitionable

        ensure_manifest()
        report = IngestReport()
        if day is not None:
            days, force = [day], True
        else:
            plans = plan_days(settings.landing, settings.warehouse)
            days, force = [plan.day for plan in plans if plan.status != "unchanged"], False
        report.days_requested, report.outside_partitions = partitionable(days)
        _execute(settings, report, build_models, days, force, log_level)
    finally:
        preparing.join()
    report.results.sort(key=lambda row: (row["day"], row["feed"]))
    return report


def _prepare_quietly(warehouse: Warehouse) -> None:
    try:
        warehouse.prepare()
    except Exception:  # noqa: BLE001 - the run's own copy reports what went wrong
        logging.getLogger(__name__).debug("preparing the working copy failed", exc_info=True)


def _execute(
    settings: Settings, report: IngestReport, build_models: bool, days: list[date], force: bool, log_level: str
) -> None:
    from pipelines.definitions import build_definitions
    from pipelines.defs.automation import partition_range_tags
    from pipelines.defs.jobs import RAW_KEYS, non_raw_asset_keys, published_warehouse

    job = build_definitions(settings).resolve_job_def("daily_warehouse")
    if report.days_requested:
        tags = partition_range_tags(report.days_requested)
        selection = None if build_models else [*RAW_KEYS, *published_warehouse.keys]
        run_config = {"ops": {key.to_python_identifier(): {"config": {"force": force}} for key in RAW_KEYS}}
    else:
        tags, run_config = {}, {}
        selection = non_raw_asset_keys() if build_models else list(published_warehouse.keys)
    run_config["loggers"] = {"console": {"config": {"log_level": log_level}}}
    report.log_file = settings.output / "logs" / "ingest.log"
    report.log_file.parent.mkdir(parents=True, exist_ok=True)
    with dagster_instance() as instance, _dbt_output(report.log_file, echo=log_level != "WARNING"):
        result = job.execute_in_process(
            run_config=run_config,
            instance=instance,
            tags=tags,
            asset_selection=selection,
            raise_on_error=False,
        )
        for event in result.all_events:
            if event.is_step_failure and event.step_failure_data and report.failure is None:
                report.failure = f"{event.step_key}: {_error_text(event.step_failure_data.error)}"
        report.success = result.success
        report.step_seconds = _step_seconds(instance, result.run_id)
        report.published = bool(result.asset_materializations_for_node(published_warehouse.key.to_python_identifier()))
        for key in RAW_KEYS:
            seen: set[tuple[str, str]] = set()
            for materialization in result.asset_materializations_for_node(key.to_python_identifier()):
                entry = materialization.metadata.get("results")
                for row in entry.value if entry else []:
                    if (row["day"], row["feed"]) not in seen:
                        seen.add((row["day"], row["feed"]))
                        report.results.append(row)
