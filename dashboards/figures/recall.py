"""Recall figures: the flow from suppliers through lots to customers, and stock still on hand."""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl

from dashboards.figures.style import ALERT, PALETTE, base_layout, empty_figure

RECALLED = "#000000"
NODE_COLORS = {"supplier": PALETTE[3], "lot": PALETTE[0], "customer": PALETTE[1], "on_hand": ALERT}


def recall_sankey_figure(flows: pl.DataFrame, *, lot_code: str) -> go.Figure:
    """Sankey of a recall: supplier -> lot -> lot ... -> customer (by code) or on hand at a
    site, link widths in the lots' base units (hover names the unit). The recalled lot's node is
    black."""
    title = f"Where lot {lot_code} went: suppliers, lots, customers and stock on hand"
    if flows.is_empty():
        return empty_figure(title, "the lot has no inputs, outputs, shipments or stock to draw")
    nodes: dict[str, int] = {}
    kinds: list[str] = []
    for row in flows.iter_rows(named=True):
        for name, kind in ((row["source"], row["source_kind"]), (row["target"], row["target_kind"])):
            key = f"{kind}:{name}"
            if key not in nodes:
                nodes[key] = len(nodes)
                kinds.append(kind)
    labels = [key.split(":", 1)[1] for key in nodes]
    fig = go.Figure(
        go.Sankey(
            arrangement="snap",
            node={
                "label": labels,
                "color": [
                    RECALLED if label == lot_code else NODE_COLORS[kind]
                    for label, kind in zip(labels, kinds, strict=True)
                ],
                "customdata": kinds,
                "hovertemplate": "%{label} (%{customdata})<br>%{value:,.3f}<extra></extra>",
                # one width for all: plotly.js mispositions labels when node line widths vary
                "line": {"color": "rgba(0,0,0,0.3)", "width": 0.5},
                "pad": 12,
            },
            link={
                "source": [nodes[f"{row['source_kind']}:{row['source']}"] for row in flows.iter_rows(named=True)],
                "target": [nodes[f"{row['target_kind']}:{row['target']}"] for row in flows.iter_rows(named=True)],
                "value": flows["quantity"].to_list(),
                "customdata": flows["unit_of_measure"].fill_null("").to_list(),
                "hovertemplate": "%{source.label} → %{target.label}<br>%{value:,.3f} %{customdata}<extra></extra>",
            },
        )
    )
    base_layout(fig, title, height=max(500, 16 * len(labels)))
    return fig


def on_hand_by_site_figure(on_hand: pl.DataFrame) -> go.Figure:
    """Stock of the recalled lots still on hand, per site, stacked by status."""
    title = "Stock of the recalled lots still on hand, by site and status"
    if on_hand.is_empty():
        return empty_figure(title, "none of the recalled lots is on hand anywhere")
    totals = on_hand.group_by("site_code", "status").agg(pl.col("quantity_on_hand").sum())
    sites = sorted(totals["site_code"].unique().to_list())
    fig = go.Figure()
    for index, status in enumerate(sorted(totals["status"].unique().to_list())):
        rows = {
            row["site_code"]: row["quantity_on_hand"] for row in totals.filter(pl.col("status") == status).to_dicts()
        }
        fig.add_trace(
            go.Bar(
                x=sites,
                y=[rows.get(site, 0) for site in sites],
                name=status,
                marker_color=PALETTE[index % len(PALETTE)],
                hovertemplate="%{x}: %{y:,.3f} " + status + "<extra></extra>",
            )
        )
    base_layout(fig, title, height=360)
    fig.update_layout(barmode="stack")
    fig.update_yaxes(title_text="quantity on hand (base units)")
    return fig
