"""Great Expectations Data Docs as static HTML in a folder.

One GX validation page per validated suite (rendered by GX's own renderer and Jinja views) and an
index.html of ours that lists every check with its numbers and sample keys. The index has no
external links at all; GX's pages pull Bootstrap, jQuery and Font Awesome from public CDNs for
styling and the collapse widgets only: offline they are unstyled, but every number is in the HTML.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from great_expectations.core import ExpectationSuiteValidationResult
from great_expectations.render.renderer import ValidationResultsPageRenderer
from great_expectations.render.view import DefaultJinjaPageView

from quality_checks.results import CheckResult, by_seriousness

INDEX_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em; }
table { border-collapse: collapse; width: 100%; }
th, td { border: 1px solid #ccc; padding: 4px 8px; text-align: left; vertical-align: top; }
tr.error td { background: #fde2e2; } tr.warning td { background: #fff4d6; } tr.pass td { color: #555; }
"""


def _page_name(suite_name: str, number: int) -> str:
    return f"{number:03d}_{re.sub(r'[^A-Za-z0-9_.-]+', '_', suite_name)}.html"


def build_data_docs(
    results_or_validation_results: Iterable[CheckResult | ExpectationSuiteValidationResult], folder: Path
) -> Path:
    """Write the Data Docs for these results into `folder`; returns the path of index.html."""
    folder = Path(folder)
    (folder / "validations").mkdir(parents=True, exist_ok=True)
    items = list(results_or_validation_results)
    checks = [item for item in items if isinstance(item, CheckResult)]
    validations: dict[int, ExpectationSuiteValidationResult] = {}
    for item in items:
        validation = item.validation if isinstance(item, CheckResult) else item
        if validation is not None:
            validations.setdefault(id(validation), validation)

    renderer = ValidationResultsPageRenderer()
    view = DefaultJinjaPageView()
    pages: dict[int, str] = {}
    for number, (key, validation) in enumerate(validations.items(), start=1):
        name = f"validations/{_page_name(validation.suite_name, number)}"
        (folder / name).write_text(view.render(renderer.render(validation)), encoding="utf-8")
        pages[key] = name

    index = folder / "index.html"
    index.write_text(_index_html(checks, validations, pages), encoding="utf-8")
    return index


def _index_html(
    checks: list[CheckResult], validations: dict[int, ExpectationSuiteValidationResult], pages: dict[int, str]
) -> str:
    escape = html.escape
    rows = []
    for check in by_seriousness(checks):
        status = "pass" if check.success else check.severity
        page = pages.get(id(check.validation)) if check.validation is not None else None
        suite = f'<a href="{escape(page)}">{escape(check.suite)}</a>' if page else escape(check.suite)
        rows.append(
            f'<tr class="{status}"><td>{escape(status.upper())}</td><td>{escape(check.expectation)}</td>'
            f"<td>{suite}</td><td>{check.failing_count}</td>"
            f"<td>{'' if check.checked_count is None else check.checked_count}</td>"
            f"<td>{escape(check.landing_date.isoformat()) if check.landing_date else ''}</td>"
            f"<td>{escape(check.description)}</td><td>{escape(', '.join(check.sample_keys))}</td></tr>"
        )
    suite_links = "".join(
        f'<li><a href="{escape(pages[key])}">{escape(validation.suite_name)}</a> '
        f"({_statistic(validation, 'successful_expectations')}/"
        f"{_statistic(validation, 'evaluated_expectations')} passed)</li>"
        for key, validation in validations.items()
    )
    failed = sum(1 for check in checks if not check.success)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Batchtrack data quality</title>
<style>{INDEX_STYLE}</style></head>
<body>
<h1>Batchtrack data quality</h1>
<p>{len(checks)} checks, {failed} failed.</p>
<table>
<thead><tr><th>status</th><th>expectation</th><th>suite</th><th>failing</th><th>checked</th><th>landing date</th>
<th>description</th><th>sample keys</th></tr></thead>
<tbody>
{"".join(rows)}
</tbody></table>
<h2>Great Expectations validation pages</h2>
<ul>{suite_links}</ul>
</body></html>
"""


def _statistic(validation: ExpectationSuiteValidationResult, name: str) -> Any:
    return (validation.statistics or {}).get(name, "?")
