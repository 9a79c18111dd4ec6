"""The terminal summary of `batchtrack quality`: most serious first, naming the rows involved."""

from __future__ import annotations

from collections.abc import Iterable

from quality_checks.results import CheckResult, by_check, by_seriousness, has_errors

SHOWN_KEYS = 10
SHOWN_DAYS = 5


def format_findings(results: Iterable[CheckResult], *, shown_keys: int = SHOWN_KEYS) -> str:
    """One line per check (its per-day results summed), failures first, naming days and rows."""
    ordered = by_seriousness(by_check(results))
    failed = [result for result in ordered if not result.success]
    errors = sum(1 for result in failed if result.severity == "error")
    warnings = len(failed) - errors
    lines = [
        f"Quality checks: {len(ordered)} run, {len(ordered) - len(failed)} passed, "
        f"{errors} error{'s' if errors != 1 else ''}, {warnings} warning{'s' if warnings != 1 else ''}."
    ]
    for result in failed:
        day = f" [{result.landing_date.isoformat()}]" if result.landing_date else ""
        if len(result.failing_days) > 1:
            shown_days = ", ".join(failing_day.isoformat() for failing_day in result.failing_days[-SHOWN_DAYS:])
            etc = "..., " if len(result.failing_days) > SHOWN_DAYS else ""
            day = f" [{len(result.failing_days)} days: {etc}{shown_days}]"
        rows = "row" if result.failing_count == 1 else "rows"
        lines.append(f"{result.severity.upper():7} {result.expectation}{day}: {result.failing_count} {rows}")
        lines.append(f"        {result.description}")
        if result.sample_keys:
            shown = result.sample_keys[:shown_keys]
            etc = ", ..." if result.failing_count > len(shown) else ""
            lines.append(f"        {', '.join(shown)}{etc}")
    if not failed:
        lines.append("All checks passed.")
    return "\n".join(lines)


__all__ = ["format_findings", "has_errors"]
