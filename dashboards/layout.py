"""The HTML around the figures: one self-contained file per page, plotly.js inlined once in the
head (no CDN, so a page works offline, from disk or as an e-mail attachment), a navigation bar,
the data's freshness, and plain HTML tables for lists a person reads row by row."""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import plotly.graph_objects as go
import plotly.io as pio
import polars as pl
from plotly.offline import get_plotlyjs

FIGURE_CONFIG = {"displaylogo": False, "responsive": True, "scrollZoom": False}

PAGE_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; color: #222; background: #fafafa; }
header { background: #263238; color: #fff; padding: 12px 24px; }
header h1 { margin: 0 0 4px 0; font-size: 1.5em; }
header .freshness { font-size: 0.9em; color: #cfd8dc; }
nav { background: #37474f; padding: 6px 24px; }
nav a { color: #fff; margin-right: 18px; text-decoration: none; }
nav a.current { font-weight: bold; text-decoration: underline; }
main { padding: 8px 24px 40px 24px; max-width: 1500px; }
section { background: #fff; border: 1px solid #e0e0e0; border-radius: 6px; margin: 16px 0; padding: 12px 16px; }
section h2 { margin: 4px 0 6px 0; font-size: 1.2em; }
p.note { color: #555; margin: 4px 0 10px 0; max-width: 1100px; }
table.data { border-collapse: collapse; font-size: 0.88em; width: 100%; }
table.data th, table.data td { border: 1px solid #ddd; padding: 3px 8px; text-align: left; vertical-align: top; }
table.data th { background: #eceff1; position: sticky; top: 0; }
table.data td.number { text-align: right; font-variant-numeric: tabular-nums; }
div.table-scroll { max-height: 520px; overflow: auto; }
.warning-banner { background: #fff4d6; border: 1px solid #f0c36d; padding: 8px 12px; border-radius: 4px; }
"""

NAVIGATION = [
    ("index.html", "Overview"),
    ("defect_trends.html", "Defect trends"),
    ("expiry_waste.html", "Expiry & waste"),
    ("data_quality.html", "Data quality"),
]


@dataclass
class Section:
    """One block of a page: a heading, a note saying how to read it, and HTML (figures, tables)."""

    title: str
    body: str
    note: str = ""
    anchor: str = ""


def figure_html(fig: go.Figure, div_id: str) -> str:
    """The figure as a div plus its Plotly.newPlot call; plotly.js itself is in the page head."""
    return pio.to_html(
        fig, full_html=False, include_plotlyjs=False, div_id=div_id, config=FIGURE_CONFIG, default_height=None
    )


def _cell(value, number_format: str | None) -> tuple[str, bool]:
    if value is None:
        return "", False
    if isinstance(value, bool):
        return ("yes" if value else "no"), False
    if isinstance(value, int | float | Decimal):
        if number_format:
            return format(value, number_format), True
        return (f"{value:,}" if isinstance(value, int) else f"{float(value):,.3f}".rstrip("0").rstrip(".")), True
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M"), False
    if isinstance(value, date):
        return value.isoformat(), False
    if isinstance(value, list | tuple):
        return ", ".join(str(item) for item in value), False
    return str(value), False


def table_html(
    frame: pl.DataFrame,
    columns: dict[str, str] | None = None,
    *,
    formats: dict[str, str] | None = None,
    table_id: str | None = None,
    empty: str = "none",
) -> str:
    """An HTML table of `frame`: `columns` maps column names to headings (and picks them, in
    order); `formats` maps column names to Python format specs."""
    if frame.is_empty():
        return f'<p class="note">{html.escape(empty)}</p>'
    columns = columns or {name: name.replace("_", " ") for name in frame.columns}
    formats = formats or {}
    id_attribute = f' id="{html.escape(table_id)}"' if table_id else ""
    head = "".join(f"<th>{html.escape(label)}</th>" for label in columns.values())
    rows = []
    for row in frame.select(list(columns)).iter_rows(named=True):
        cells = []
        for name, value in row.items():
            text, numeric = _cell(value, formats.get(name))
            css = ' class="number"' if numeric else ""
            cells.append(f"<td{css}>{html.escape(text)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return (
        f'<div class="table-scroll"><table class="data"{id_attribute}><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )


def freshness_text(freshness: dict, built_at: datetime) -> str:
    """'Data from 2026-06-01 to 2026-08-29 (90 landing days), as of 2026-08-29; last loaded ...'"""
    parts = []
    if freshness.get("first_landing_date"):
        parts.append(
            f"Data from {freshness['first_landing_date']} to {freshness['last_landing_date']} "
            f"({freshness['landing_days']} landing days)"
        )
    else:
        parts.append("No data loaded yet")
    if freshness.get("as_of_date"):
        parts.append(f"as of {freshness['as_of_date']}")
    if freshness.get("last_loaded_at"):
        parts.append(f"warehouse last loaded {freshness['last_loaded_at']:%Y-%m-%d %H:%M}")
    if freshness.get("last_checked_at"):
        parts.append(f"quality checks run {freshness['last_checked_at']:%Y-%m-%d %H:%M}")
    parts.append(f"page built {built_at:%Y-%m-%d %H:%M}")
    return "; ".join(parts) + "."


def page_html(
    title: str,
    sections: Iterable[Section],
    *,
    freshness: str,
    current: str | None = None,
    navigation: Sequence[tuple[str, str]] = NAVIGATION,
) -> str:
    """A complete, self-contained HTML document."""
    links = "".join(
        f'<a href="{html.escape(href)}"{" class=current" if href == current else ""}>{html.escape(label)}</a>'
        for href, label in navigation
    )
    blocks = []
    for section in sections:
        anchor = f' id="{html.escape(section.anchor)}"' if section.anchor else ""
        note = f'<p class="note">{section.note}</p>' if section.note else ""
        blocks.append(f"<section{anchor}><h2>{html.escape(section.title)}</h2>{note}{section.body}</section>")
    body = "".join(blocks)
    # plotly.js only where a figure needs it: it is most of a page's 5 MB.
    plotly_script = f'<script type="text/javascript">{get_plotlyjs()}</script>' if "Plotly.newPlot" in body else ""
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)} · Batchtrack</title>
<style>{PAGE_STYLE}</style>
{plotly_script}
</head>
<body>
<header><h1>{html.escape(title)}</h1><div class="freshness" id="freshness">{html.escape(freshness)}</div></header>
<nav>{links}</nav>
<main>
{body}
</main>
</body>
</html>
"""


def write_page(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
