"""Runs expectations on a frame with Great Expectations 1.x and reads the result back as CheckResults.

One ephemeral context per process: nothing is written to disk, suites live in this package's code.
A frame that spans several landing days is validated once and its results are split by day, so a
backfill of many days costs one validation per suite, not one per suite and day.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from functools import cache
from typing import Any

import great_expectations as gx
import pandas as pd
from great_expectations.core import ExpectationSuiteValidationResult
from great_expectations.data_context.types.base import ProgressBarsConfig
from great_expectations.execution_engine import PandasExecutionEngine
from great_expectations.expectations import Expectation
from great_expectations.expectations.row_conditions import Condition

from quality_checks.results import MAX_SAMPLE_KEYS, CheckResult, Severity, format_key, unique_keys

DATA_SOURCE = "batchtrack_frames"


@dataclass(frozen=True)
class Check:
    """One named expectation: what it asserts, how serious a failure is, and what it means."""

    name: str  # stable name, e.g. "shipments.lot_known"
    severity: Severity
    description: str
    expectation: Expectation
    # The frame holds only failing rows (a cross-table rule computed in SQL): sample keys come
    # from the frame itself, because a table-level expectation names no rows.
    frame_is_failing_rows: bool = False


@cache
def gx_context() -> Any:
    context = gx.get_context(mode="ephemeral")
    # The progress bars would otherwise write to stderr once per validation.
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return context


def _batch_definition(asset_name: str) -> Any:
    context = gx_context()
    try:
        source = context.data_sources.get(DATA_SOURCE)
    except (KeyError, ValueError, LookupError):
        source = context.data_sources.add_pandas(DATA_SOURCE)
    try:
        asset = source.get_asset(asset_name)
    except LookupError:
        asset = source.add_dataframe_asset(asset_name)
    try:
        return asset.get_batch_definition("whole_frame")
    except (KeyError, ValueError, LookupError):
        return asset.add_batch_definition_whole_dataframe("whole_frame")


def _release(batch: Any) -> None:
    """Drop the frame the context's execution engine caches for the batch.

    GX keeps every batch and its data in its datasource's execution engine until the process ends,
    one frame per suite: on a first run over a large history, about 400 MB of month-long frames that the
    process keeps while dbt builds beside it."""
    manager = batch.data.execution_engine.batch_manager
    manager.batch_data_cache.pop(batch.id, None)
    manager.reset_batch_cache()  # the batches themselves, which hold their request's frame


def validate_frame(
    frame: pd.DataFrame,
    *,
    suite: str,
    checks: Sequence[Check],
    key_columns: Sequence[str],
    days: Collection[date] | None = None,
) -> list[CheckResult]:
    """Validate `frame` against `checks` as one GX suite named `suite`.

    Without `days`: one CheckResult per check, for the frame as a whole. With `days`: the frame has a
    landing_date column and each check gets one CheckResult per day of `days` (a day without rows
    passes, having checked none); rows of other days take part (a key compared across deliveries)
    but are reported on their own day's run, not this one."""
    if not checks or (days is not None and not days):
        return []
    by_name = {check.name: check for check in checks}
    expectations = []
    for check in checks:
        expectation = check.expectation  # built fresh for each run by the suite functions
        expectation.meta = {**(expectation.meta or {}), "check": check.name, "severity": check.severity}
        expectation.notes = check.description
        expectations.append(expectation)
    gx_suite = gx.ExpectationSuite(name=suite, expectations=expectations)
    keys = [column for column in key_columns if column in frame.columns]
    result_format: dict[str, Any] = {"result_format": "SUMMARY", "partial_unexpected_count": MAX_SAMPLE_KEYS * 3}
    index_columns = keys
    if days is not None:
        # Every failing row with its day, to count and name them per day; a healthy day has none.
        index_columns = list(dict.fromkeys([*keys, "landing_date"]))
        result_format = {"result_format": "COMPLETE"}
    if index_columns:
        result_format["unexpected_index_column_names"] = index_columns
    batch = _batch_definition(suite).get_batch(batch_parameters={"dataframe": frame})
    try:
        validation: ExpectationSuiteValidationResult = batch.validate(gx_suite, result_format=result_format)
    finally:
        _release(batch)

    results = []
    row_days = None if days is None else _row_days(frame)
    for expectation_result in validation.results:
        check = by_name[expectation_result.expectation_config.meta["check"]]
        if row_days is None:
            results.append(_check_result(check, expectation_result, frame, keys, suite, None, validation))
        else:
            results += _results_by_day(
                check, expectation_result, frame, row_days, keys, suite, sorted(set(days)), validation
            )
    order = {check.name: index for index, check in enumerate(checks)}
    return sorted(results, key=lambda result: (order[result.expectation], result.landing_date or date.min))


def _results_by_day(
    check: Check,
    expectation_result: Any,
    frame: pd.DataFrame,
    row_days: pd.Series,
    keys: list[str],
    suite: str,
    days: list[date],
    validation: ExpectationSuiteValidationResult,
) -> list[CheckResult]:
    """One validation's result for one check, split into the result of each landing day."""
    if _raised(expectation_result.exception_info or {}) or (
        not expectation_result.success
        and not check.frame_is_failing_rows
        and "unexpected_index_list" not in (expectation_result.result or {})
    ):
        # Not evaluated, or a table-level answer that names no rows: it holds for every day alike.
        whole = _check_result(check, expectation_result, frame, keys, suite, None, validation)
        return [replace(whole, landing_date=day) for day in days]
    checked = row_days[_condition_mask(frame, check.expectation)].value_counts()
    failing: dict[date, list[str]] = {day: [] for day in days}
    if check.frame_is_failing_rows:
        for position, row in enumerate(frame[keys].to_dict("records")):
            failing.setdefault(row_days.iloc[position], []).append(format_key([row[column] for column in keys]))
    else:
        for row in expectation_result.result.get("unexpected_index_list") or []:
            failing.setdefault(as_date(row["landing_date"]), []).append(
                format_key([_plain(row.get(column)) for column in keys])
            )
    results = []
    for day in days:
        failing_keys = failing[day]
        results.append(
            CheckResult(
                suite=suite,
                expectation=check.name,
                severity=check.severity,
                success=not failing_keys,
                failing_count=len(failing_keys),
                sample_keys=unique_keys(failing_keys),
                description=check.description,
                landing_date=day,
                checked_count=int(checked.get(day, 0)),
                validation=validation,
            )
        )
    return results


def _row_days(frame: pd.DataFrame) -> pd.Series:
    """The landing day of each row as a date (DuckDB hands DATE columns to pandas as datetime64)."""
    column = frame["landing_date"]
    if pd.api.types.is_datetime64_any_dtype(column):
        return column.dt.date
    return column.map(as_date)


def _condition_mask(frame: pd.DataFrame, expectation: Expectation) -> Any:
    """The rows an expectation looks at: all, or those its row_condition keeps."""
    condition = getattr(expectation, "row_condition", None)
    if not isinstance(condition, Condition) or frame.empty:
        return slice(None)
    kept = frame.query(PandasExecutionEngine().condition_to_filter_clause(condition))
    return frame.index.isin(kept.index)


def as_date(value: Any) -> date:
    """A landing_date as DuckDB or pandas hands it over (date, datetime, Timestamp) as a date."""
    if isinstance(value, datetime | pd.Timestamp):
        return value.date()
    return value


def _check_result(
    check: Check,
    expectation_result: Any,
    frame: pd.DataFrame,
    keys: list[str],
    suite: str,
    landing_date: date | None,
    validation: ExpectationSuiteValidationResult,
) -> CheckResult:
    outcome = expectation_result.result or {}
    exception = expectation_result.exception_info or {}
    if _raised(exception):
        message = _exception_message(exception)
        return CheckResult(
            suite=suite,
            expectation=check.name,
            severity="error",
            success=False,
            failing_count=0,
            sample_keys=(),
            description=f"{check.description} Could not be evaluated: {message}",
            landing_date=landing_date,
            validation=validation,
        )
    success = bool(expectation_result.success)
    if check.frame_is_failing_rows:
        failing_count = len(frame)
        sample = [
            format_key([row[column] for column in keys])
            for row in frame[keys].head(MAX_SAMPLE_KEYS * 3).to_dict("records")
        ]
        checked = len(frame)
    else:
        failing_count = int(outcome.get("unexpected_count") or 0)
        if not success and failing_count == 0 and "observed_value" in outcome:
            failing_count = 1
        sample = [
            format_key([_plain(row.get(column)) for column in keys])
            for row in outcome.get("partial_unexpected_index_list") or []
        ]
        checked = outcome.get("element_count")
    return CheckResult(
        suite=suite,
        expectation=check.name,
        severity=check.severity,
        success=success,
        failing_count=0 if success else failing_count,
        sample_keys=() if success else unique_keys(sample),
        description=check.description,
        landing_date=landing_date,
        checked_count=None if checked is None else int(checked),
        validation=validation,
    )


def _raised(exception_info: dict) -> bool:
    if exception_info.get("raised_exception"):
        return True
    return any(isinstance(value, dict) and value.get("raised_exception") for value in exception_info.values())


def _exception_message(exception_info: dict) -> str:
    if exception_info.get("exception_message"):
        return str(exception_info["exception_message"])
    for value in exception_info.values():
        if isinstance(value, dict) and value.get("exception_message"):
            return str(value["exception_message"])
    return "unknown error"


def _plain(value: Any) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value
