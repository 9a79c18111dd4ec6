"""The look every figure shares: one template, one palette, one way to add a dropdown."""

from __future__ import annotations

import plotly.graph_objects as go

PALETTE = [
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
    "#d62728",
]
ALERT = "#d62728"
LIMIT = "#c0392b"
CENTER = "#555555"


def base_layout(fig: go.Figure, title: str, *, height: int = 460) -> go.Figure:
    fig.update_layout(
        title={"text": title, "x": 0.01, "xanchor": "left"},
        template="plotly_white",
        height=height,
        margin={"l": 60, "r": 30, "t": 90, "b": 60},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0.0, "xanchor": "left"},
        hovermode="closest",
    )
    return fig


def dropdown(buttons: list[dict], *, x: float = 1.0, label: str | None = None, active: int = 0) -> dict:
    """An updatemenu in the top right corner; `label` is shown before it as an annotation."""
    return {
        "type": "dropdown",
        "buttons": buttons,
        "active": active,
        "x": x,
        "xanchor": "right",
        "y": 1.22,
        "yanchor": "top",
        "showactive": True,
        "name": label or "",
    }


def empty_figure(title: str, message: str) -> go.Figure:
    """A figure that says there is nothing to show, so a page never has a blank hole."""
    fig = go.Figure()
    fig.add_annotation(text=message, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper", font={"size": 16})
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return base_layout(fig, title, height=260)
