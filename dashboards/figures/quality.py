"""Data quality figures: quarantined rows per feed and day, and quality check findings."""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl

from dashboards.figures.style import PALETTE, base_layout, dropdown, empty_figure

ALL_FEEDS = "all feeds"


def quarantine_figure(by_day: pl.DataFrame) -> go.Figure:
    """Quarantined rows per landing day, stacked by reason kind, with a dropdown per feed (the
    first option adds all feeds up). Every trace's meta is {"feed", "reason_kind"}."""
    title = "Quarantined rows per landing day, by reason"
    if by_day.is_empty():
        return empty_figure(title, "no row was quarantined")
    kinds = sorted(by_day["reason_kind"].unique().to_list())
    feeds = [ALL_FEEDS, *sorted(by_day["feed"].unique().to_list())]
    colors = {kind: PALETTE[index % len(PALETTE)] for index, kind in enumerate(kinds)}
    fig = go.Figure()
    trace_feeds = []
    for feed in feeds:
        rows = by_day if feed == ALL_FEEDS else by_day.filter(pl.col("feed") == feed)
        rows = rows.group_by("landing_date", "reason_kind").agg(pl.col("quarantined_rows").sum()).sort("landing_date")
        for kind in kinds:
            kind_rows = rows.filter(pl.col("reason_kind") == kind)
            if kind_rows.is_empty():
                continue
            fig.add_trace(
                go.Bar(
                    x=kind_rows["landing_date"].to_list(),
                    y=kind_rows["quarantined_rows"].to_list(),
                    name=kind,
                    legendgroup=kind,
                    marker_color=colors[kind],
                    hovertemplate="%{x|%Y-%m-%d}: %{y} rows<extra>" + kind + "</extra>",
                    visible=feed == ALL_FEEDS,
                    meta={"feed": feed, "reason_kind": kind},
                )
            )
            trace_feeds.append(feed)
    buttons = [
        {
            "label": feed,
            "method": "update",
            "args": [
                {"visible": [trace_feed == feed for trace_feed in trace_feeds]},
                {"title.text": f"{title}: {feed}"},
            ],
        }
        for feed in feeds
    ]
    base_layout(fig, f"{title}: {ALL_FEEDS}", height=440)
    fig.update_layout(barmode="stack", updatemenus=[dropdown(buttons, label="feed")])
    fig.update_yaxes(title_text="quarantined rows")
    fig.update_xaxes(title_text="landing day")
    return fig


def quarantine_by_feed_figure(by_day: pl.DataFrame) -> go.Figure:
    """Quarantined rows per feed over the whole period, stacked by reason kind."""
    title = "Quarantined rows per feed, by reason (whole period)"
    if by_day.is_empty():
        return empty_figure(title, "no row was quarantined")
    totals = by_day.group_by("feed", "reason_kind").agg(pl.col("quarantined_rows").sum())
    feeds = sorted(totals["feed"].unique().to_list())
    fig = go.Figure()
    for index, kind in enumerate(sorted(totals["reason_kind"].unique().to_list())):
        rows = {row["feed"]: row["quarantined_rows"] for row in totals.filter(pl.col("reason_kind") == kind).to_dicts()}
        fig.add_trace(
            go.Bar(
                x=feeds,
                y=[rows.get(feed, 0) for feed in feeds],
                name=kind,
                marker_color=PALETTE[index % len(PALETTE)],
                hovertemplate="%{x}: %{y} rows<extra>" + kind + "</extra>",
            )
        )
    base_layout(fig, title, height=380)
    fig.update_layout(barmode="stack")
    fig.update_yaxes(title_text="quarantined rows")
    return fig


def findings_figure(findings: pl.DataFrame) -> go.Figure:
    """Failing rows per day and expectation from the quality checks (stacked bars); days
    without failures are not drawn."""
    title = "Quality check findings: failing rows per day and expectation"
    if findings.is_empty():
        return empty_figure(title, "every quality check passed")
    fig = go.Figure()
    for index, expectation in enumerate(sorted(findings["expectation"].unique().to_list())):
        rows = findings.filter(pl.col("expectation") == expectation).sort("finding_date")
        severity = rows["severity"][0]
        fig.add_trace(
            go.Bar(
                x=[day.isoformat() for day in rows["finding_date"].to_list()],
                y=rows["failing_count"].to_list(),
                name=f"{expectation} ({severity})",
                marker_color=PALETTE[index % len(PALETTE)],
                marker_pattern_shape="/" if severity == "error" else "",
                hovertemplate="%{x|%Y-%m-%d}: %{y} failing<extra>" + expectation + "</extra>",
                meta={"expectation": expectation},
            )
        )
    base_layout(fig, title, height=420)
    fig.update_layout(barmode="stack")
    fig.update_yaxes(title_text="failing rows")
    # one category per day with findings: a date axis stretches a single day over hours
    fig.update_xaxes(type="category", categoryorder="category ascending", title_text="day")
    return fig
