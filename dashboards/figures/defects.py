"""Defect figures: p-charts with control limits, the Pareto of defect codes and the supplier
scorecard. Inputs are the frames of `dashboards.queries`."""

from __future__ import annotations

import math

import plotly.graph_objects as go
import polars as pl

from dashboards.figures.style import ALERT, CENTER, LIMIT, PALETTE, base_layout, dropdown, empty_figure

P_CHART_ROLES = ("rate", "ucl", "lcl", "center", "out_of_control")


def p_chart_points(daily: pl.DataFrame) -> pl.DataFrame:
    """Control limits of a p-chart per member, from one row per member and day (samples,
    defects): p = defects / samples, p̄ = the member's defects / samples over the whole period,
    limits p̄ ± 3·sqrt(p̄(1−p̄)/n) for each point's n, the lower one floored at 0 and the upper
    capped at 1. A point is out of control above the upper or below a positive lower limit."""
    points = daily.with_columns(
        (pl.col("defects") / pl.col("samples")).alias("p"),
        (pl.col("defects").sum().over("member") / pl.col("samples").sum().over("member")).alias("p_bar"),
    )
    sigma = ((pl.col("p_bar") * (1 - pl.col("p_bar"))) / pl.col("samples")).sqrt()
    points = points.with_columns(
        (pl.col("p_bar") + 3 * sigma).clip(upper_bound=1.0).alias("ucl"),
        (pl.col("p_bar") - 3 * sigma).clip(lower_bound=0.0).alias("lcl"),
    )
    return points.with_columns(
        (pl.col("p") > pl.col("ucl")).alias("above_ucl"),
        ((pl.col("p") < pl.col("lcl")) & (pl.col("lcl") > 0)).alias("below_lcl"),
    ).with_columns((pl.col("above_ucl") | pl.col("below_lcl")).alias("out_of_control"))


def members_by_signal(points: pl.DataFrame) -> list[dict]:
    """Members ordered by how many points sit above the upper limit, then by p̄: the order of
    a p-chart's dropdown, so the member that most needs a look is the one shown first."""
    ranked = (
        points.group_by("member")
        .agg(
            pl.col("above_ucl").sum().alias("above_ucl"),
            pl.col("below_lcl").sum().alias("below_lcl"),
            pl.col("p_bar").first().alias("p_bar"),
            pl.len().alias("days"),
        )
        .sort(["above_ucl", "p_bar", "member"], descending=[True, True, False])
    )
    return ranked.to_dicts()


def p_chart_figure(daily: pl.DataFrame, *, dimension_label: str, title: str) -> go.Figure:
    """A p-chart per member of one dimension (line, product, check code), one member shown at a
    time and a dropdown to pick another. Each member has five traces, in P_CHART_ROLES order;
    every trace's `meta` is {"member", "role"} so a reader (or a test) can find it."""
    if daily.is_empty():
        return empty_figure(title, "no inspections in the data")
    points = p_chart_points(daily)
    ranking = members_by_signal(points)
    by_member = points.sort("inspected_date").partition_by("member", as_dict=True)
    fig = go.Figure()
    for index, member in enumerate(ranking):
        name = member["member"]
        rows = by_member[(name,)]
        # Columns as numpy arrays, not lists: plotly checks and copies a list value by value, and
        # it writes a number array as base64 (exact, and half the text), for hundreds of members.
        dates = rows["inspected_date"].cast(pl.String).to_numpy()
        visible = index == 0
        fig.add_trace(
            go.Scatter(
                x=dates,
                y=rows["p"].to_numpy(),
                mode="lines+markers",
                name="defect rate",
                line={"color": PALETTE[0], "width": 1.5},
                marker={"size": 5},
                customdata=rows.select("defects", "samples").to_numpy(),
                hovertemplate="%{x|%Y-%m-%d}<br>rate %{y:.3%}<br>%{customdata[0]} defects in "
                "%{customdata[1]} samples<extra>" + name + "</extra>",
                visible=visible,
                meta={"member": name, "role": "rate"},
            )
        )
        for role, column, label in (("ucl", "ucl", "upper control limit"), ("lcl", "lcl", "lower control limit")):
            fig.add_trace(
                go.Scatter(
                    x=dates,
                    y=rows[column].to_numpy(),
                    mode="lines",
                    name=label,
                    line={"color": LIMIT, "width": 1, "dash": "dash", "shape": "hvh"},
                    hovertemplate="%{x|%Y-%m-%d}<br>" + label + " %{y:.3%}<extra></extra>",
                    visible=visible,
                    meta={"member": name, "role": role},
                )
            )
        fig.add_trace(
            go.Scatter(
                x=[dates[0], dates[-1]],
                y=[member["p_bar"], member["p_bar"]],
                mode="lines",
                name="p̄ (whole period)",
                line={"color": CENTER, "width": 1},
                hovertemplate="p̄ %{y:.3%}<extra></extra>",
                visible=visible,
                meta={"member": name, "role": "center"},
            )
        )
        flagged = rows.filter(pl.col("out_of_control"))
        fig.add_trace(
            go.Scatter(
                x=flagged["inspected_date"].cast(pl.String).to_numpy(),
                y=flagged["p"].to_numpy(),
                mode="markers",
                name="out of control",
                marker={"color": ALERT, "size": 11, "symbol": "x"},
                hovertemplate="%{x|%Y-%m-%d}<br>rate %{y:.3%} outside the limits<extra>" + name + "</extra>",
                visible=visible,
                meta={"member": name, "role": "out_of_control"},
            )
        )
    per_member = len(P_CHART_ROLES)
    buttons = []
    for index, member in enumerate(ranking):
        mask = [False] * (per_member * len(ranking))
        mask[index * per_member : (index + 1) * per_member] = [True] * per_member
        label = f"{member['member']} ({member['above_ucl']} above UCL)"
        buttons.append(
            {
                "label": label,
                "method": "update",
                "args": [{"visible": mask}, {"title.text": f"{title}: {member['member']}"}],
            }
        )
    base_layout(fig, f"{title}: {ranking[0]['member']}", height=480)
    fig.update_layout(updatemenus=[dropdown(buttons, label=dimension_label)], hovermode="x unified")
    fig.update_yaxes(title_text="defect rate (defects / samples)", tickformat=".2%", rangemode="tozero")
    fig.update_xaxes(title_text="inspection day")
    return fig


def signal_overview_figure(daily: pl.DataFrame, *, title: str) -> go.Figure:
    """Points above the upper control limit per member over the first and the second half of the
    period: a drift shows as a member whose count grows."""
    if daily.is_empty():
        return empty_figure(title, "no inspections in the data")
    points = p_chart_points(daily)
    first, last = points["inspected_date"].min(), points["inspected_date"].max()
    middle = first + (last - first) / 2
    halves = (
        points.with_columns(
            pl.when(pl.col("inspected_date") <= middle)
            .then(pl.lit(f"{first} to {middle}"))
            .otherwise(pl.lit(f"after {middle}"))
            .alias("half")
        )
        .group_by("member", "half")
        .agg(pl.col("above_ucl").sum().alias("above_ucl"))
    )
    order = [row["member"] for row in members_by_signal(points)]
    fig = go.Figure()
    for color, half in zip(PALETTE[:2], [f"{first} to {middle}", f"after {middle}"], strict=True):
        rows = {row["member"]: row["above_ucl"] for row in halves.filter(pl.col("half") == half).to_dicts()}
        fig.add_trace(
            go.Bar(
                x=order,
                y=[rows.get(member, 0) for member in order],
                name=half,
                marker_color=color,
                hovertemplate="%{x}: %{y} days above UCL<extra>" + half + "</extra>",
            )
        )
    base_layout(fig, title, height=380)
    fig.update_layout(barmode="group")
    fig.update_yaxes(title_text="days above the upper control limit")
    return fig


def pareto_figure(whole_period: pl.DataFrame, recent: pl.DataFrame, *, recent_label: str) -> go.Figure:
    """Pareto of defects by check code: bars sorted by count and the cumulative share on a
    second axis; buttons switch between the whole period and the recent window. Traces 0-1 are
    the whole period, 2-3 the recent window."""
    title = "Pareto of defects by check code"
    if whole_period.is_empty():
        return empty_figure(title, "no inspections in the data")
    fig = go.Figure()
    for index, (label, frame) in enumerate((("whole period", whole_period), (recent_label, recent))):
        frame = frame.sort(["defects", "check_code"], descending=[True, False])
        total = frame["defects"].sum() or 1
        cumulative = [value / total for value in frame["defects"].cum_sum().to_list()]
        visible = index == 0
        fig.add_trace(
            go.Bar(
                x=frame["check_code"].to_list(),
                y=frame["defects"].to_list(),
                name=f"defects ({label})",
                marker_color=PALETTE[index],
                customdata=frame["samples"].to_list(),
                hovertemplate="%{x}: %{y} defects in %{customdata} samples<extra></extra>",
                visible=visible,
                meta={"period": label, "role": "defects"},
            )
        )
        fig.add_trace(
            go.Scatter(
                x=frame["check_code"].to_list(),
                y=cumulative,
                name="cumulative share",
                mode="lines+markers",
                yaxis="y2",
                line={"color": CENTER},
                hovertemplate="%{x}: %{y:.1%} of all defects<extra></extra>",
                visible=visible,
                meta={"period": label, "role": "cumulative"},
            )
        )
    buttons = [
        {"label": "whole period", "method": "update", "args": [{"visible": [True, True, False, False]}]},
        {"label": recent_label, "method": "update", "args": [{"visible": [False, False, True, True]}]},
    ]
    base_layout(fig, title, height=420)
    fig.update_layout(
        updatemenus=[{**dropdown(buttons), "type": "buttons", "direction": "right"}],
        yaxis={"title": {"text": "defects"}},
        yaxis2={"title": {"text": "cumulative share"}, "overlaying": "y", "side": "right", "tickformat": ".0%"},
        yaxis2_range=[0, 1.05],
    )
    return fig


def supplier_scorecard_figure(scorecard: pl.DataFrame) -> go.Figure:
    """Heatmap of suppliers by check code: the defect rate of finished lots holding the
    supplier's material relative to all finished lots (1 = average; red = worse)."""
    title = "Supplier scorecard: downstream defect rate relative to all finished lots"
    if scorecard.is_empty():
        return empty_figure(title, "no finished lots with a supplier in their genealogy")
    checks = sorted(scorecard["check_code"].unique().to_list())
    worst = (
        scorecard.group_by("supplier_code")
        .agg(pl.col("relative_rate").max().alias("worst"))
        .sort(["worst", "supplier_code"], descending=[False, True])
    )
    suppliers = worst["supplier_code"].to_list()  # the worst supplier ends up on top
    cells = {(row["supplier_code"], row["check_code"]): row for row in scorecard.to_dicts()}
    z, text, custom = [], [], []
    for supplier in suppliers:
        z_row, text_row, custom_row = [], [], []
        for check in checks:
            cell = cells.get((supplier, check))
            relative = cell["relative_rate"] if cell else None
            z_row.append(None if relative is None else math.log2(max(relative, 1 / 16)))
            text_row.append("" if relative is None else f"×{relative:.1f}")
            custom_row.append(
                [relative, cell["defects"], cell["samples"], cell["defective_lots"], cell["finished_lots"]]
                if cell
                else [None, 0, 0, 0, 0]
            )
        z.append(z_row)
        text.append(text_row)
        custom.append(custom_row)
    fig = go.Figure(
        go.Heatmap(
            x=checks,
            y=suppliers,
            z=z,
            text=text,
            texttemplate="%{text}",
            customdata=custom,
            zmid=0,
            zmin=-2,
            zmax=2,
            colorscale="RdBu_r",
            colorbar={
                "title": {"text": "relative<br>rate"},
                "tickvals": [-2, -1, 0, 1, 2],
                "ticktext": ["×¼", "×½", "×1", "×2", "×4"],
            },
            hovertemplate="%{y} · %{x}<br>×%{customdata[0]:.2f} the average rate<br>"
            "%{customdata[1]} defects in %{customdata[2]} samples<br>"
            "%{customdata[3]} of %{customdata[4]} finished lots with defects<extra></extra>",
        )
    )
    base_layout(fig, title, height=max(380, 34 * len(suppliers) + 140))
    fig.update_xaxes(title_text="check code", side="bottom")
    fig.update_yaxes(title_text="supplier")
    return fig
