"""What one quality check found: the result type every suite returns, and how results are ordered."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any, Literal

Severity = Literal["error", "warning"]
SEVERITY_RANK: dict[str, int] = {"error": 0, "warning": 1}
MAX_SAMPLE_KEYS = 20


@dataclass(frozen=True)
class CheckResult:
    suite: str  # e.g. "raw.shipments", "references", "timeline", "marts"
    expectation: str  # stable, greppable name, e.g. "shipments.lot_known"
    severity: Severity
    success: bool
    failing_count: int
    sample_keys: tuple[str, ...]  # up to MAX_SAMPLE_KEYS lot codes / keys naming failing rows
    description: str
    landing_date: date | None = None
    checked_count: int | None = None  # rows (or groups) the expectation looked at
    # For a check summed over days (`by_check`): the landing days it failed on.
    failing_days: tuple[date, ...] = ()
    # The Great Expectations suite validation this check was part of (for Data Docs).
    validation: Any = field(default=None, repr=False, compare=False)

    @property
    def is_error(self) -> bool:
        return not self.success and self.severity == "error"


def has_errors(results: Iterable[CheckResult]) -> bool:
    """True when an error-severity check failed (`batchtrack quality` then exits 1)."""
    return any(result.is_error for result in results)


def by_seriousness(results: Iterable[CheckResult]) -> list[CheckResult]:
    """Failures first (errors, then warnings, most failing rows first), then passes, by name."""
    return sorted(
        results,
        key=lambda r: (r.success, SEVERITY_RANK[r.severity], -r.failing_count, r.expectation),
    )


def by_check(results: Iterable[CheckResult]) -> list[CheckResult]:
    """One result per check: the per-day results of a check summed (failing rows, sample keys,
    rows checked), naming the days it failed on; a result for all days is kept as it is."""
    groups: dict[tuple[str, str], list[CheckResult]] = {}
    for result in results:
        groups.setdefault((result.expectation, result.severity), []).append(result)
    combined = []
    for group in groups.values():
        group.sort(key=lambda result: result.landing_date or date.min)
        failed = [result for result in group if not result.success]
        days = tuple(result.landing_date for result in failed if result.landing_date)
        checked = [result.checked_count for result in group if result.checked_count is not None]
        first = failed[0] if failed else group[0]
        combined.append(
            replace(
                first,
                success=not failed,
                failing_count=sum(result.failing_count for result in failed),
                # The newest days' rows first: the ones a person is likely still able to fix.
                sample_keys=unique_keys(key for result in reversed(failed) for key in result.sample_keys),
                landing_date=group[0].landing_date if len(group) == 1 else (days[0] if len(days) == 1 else None),
                checked_count=sum(checked) if checked else None,
                failing_days=days,
            )
        )
    return combined


def format_key(values: Sequence[Any]) -> str:
    """'LOT-1' for one key column; 'LOT-1 (SH-9:2)' when more columns name the row."""
    texts = ["" if value is None else str(value) for value in values]
    if len(texts) == 1:
        return texts[0]
    return f"{texts[0]} ({':'.join(texts[1:])})"


def unique_keys(keys: Iterable[str], limit: int = MAX_SAMPLE_KEYS) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for key in keys:
        seen.setdefault(key, None)
        if len(seen) >= limit:
            break
    return tuple(seen)
