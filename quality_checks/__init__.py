"""What good data is: Great Expectations suites for the raw feeds and the key marts, as code.

Plain functions on a DuckDB connection or a frame; no Dagster here (pipelines/ wraps them).
"""

from quality_checks.data_docs import build_data_docs
from quality_checks.findings import ensure_findings_table, latest_results, record_quality_run, write_findings
from quality_checks.results import CheckResult, by_check, has_errors
from quality_checks.runner import (
    QualityRun,
    QualitySettings,
    current_results,
    daily_mart_checks,
    daily_row_checks,
    daily_schema_checks,
    run_and_record_daily_checks,
    run_changed_day_checks,
    run_quality_checks,
)
from quality_checks.summary import format_findings

__all__ = [
    "CheckResult",
    "QualityRun",
    "QualitySettings",
    "build_data_docs",
    "by_check",
    "current_results",
    "daily_mart_checks",
    "daily_row_checks",
    "daily_schema_checks",
    "ensure_findings_table",
    "format_findings",
    "has_errors",
    "latest_results",
    "record_quality_run",
    "run_and_record_daily_checks",
    "run_changed_day_checks",
    "run_quality_checks",
    "write_findings",
]
