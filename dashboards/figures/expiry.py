"""Expiry and stock figures: write-offs by month, site and product; stock at risk; stock age;
first-expired-first-out breaches. Inputs are the frames of `dashboards.queries`."""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl

from dashboards.figures.style import ALERT, CENTER, PALETTE, base_layout, empty_figure

RISK_WINDOWS = (7, 14, 30)
AGE_BUCKETS = ["0-7 days", "8-30 days", "31-90 days", "over 90 days", "unknown"]


def writeoffs_by_month_figure(monthly: pl.DataFrame) -> go.Figure:
    """Value written off for expiry per month, stacked by site, with the share of the value made
    or received that month (all sites) on a second axis."""
    title = "Expiry write-offs by month and site (value), and share of the value made"
    if monthly.is_empty():
        return empty_figure(title, "no stock movements in the data")
    months = sorted(monthly["month"].unique().to_list())
    fig = go.Figure()
    sites = sorted(monthly["site_code"].unique().to_list())
    for index, site in enumerate(sites):
        rows = {row["month"]: row for row in monthly.filter(pl.col("site_code") == site).to_dicts()}
        fig.add_trace(
            go.Bar(
                x=months,
                y=[rows[m]["value_written_off"] if m in rows else 0 for m in months],
                customdata=[rows[m]["quantity_written_off"] if m in rows else 0 for m in months],
                name=site,
                marker_color=PALETTE[index % len(PALETTE)],
                hovertemplate="%{x|%Y-%m}: %{y:,.2f} written off (%{customdata:,.0f} units)<extra>" + site + "</extra>",
                meta={"site": site, "role": "value_written_off"},
            )
        )
    totals = monthly.group_by("month").agg(pl.col("value_written_off").sum(), pl.col("value_made").sum()).sort("month")
    shares = [
        (row["value_written_off"] / row["value_made"]) if row["value_made"] else None for row in totals.to_dicts()
    ]
    fig.add_trace(
        go.Scatter(
            x=totals["month"].to_list(),
            y=shares,
            name="share of value made",
            mode="lines+markers",
            yaxis="y2",
            line={"color": ALERT},
            hovertemplate="%{x|%Y-%m}: %{y:.2%} of the value made or received<extra></extra>",
            meta={"role": "share"},
        )
    )
    base_layout(fig, title)
    fig.update_layout(
        barmode="stack",
        yaxis={"title": {"text": "value written off"}},
        yaxis2={
            "title": {"text": "share of value made"},
            "overlaying": "y",
            "side": "right",
            "tickformat": ".1%",
            "rangemode": "tozero",
        },
    )
    fig.update_xaxes(dtick="M1", tickformat="%Y-%m")
    return fig


def writeoffs_by_product_figure(products: pl.DataFrame) -> go.Figure:
    """Share of what was made (or received) of each product that was written off for expiry."""
    title = "Expiry write-offs by product, as a share of the quantity made"
    if products.is_empty():
        return empty_figure(title, "nothing was written off for expiry")
    frame = products.sort(["share_written_off", "product_code"], descending=[True, False], nulls_last=True)
    fig = go.Figure(
        go.Bar(
            x=frame["product_code"].to_list(),
            y=frame["share_written_off"].to_list(),
            marker_color=PALETTE[1],
            customdata=list(
                zip(
                    frame["quantity_written_off"].to_list(),
                    frame["quantity_made"].to_list(),
                    frame["base_unit"].to_list(),
                    frame["value_written_off"].to_list(),
                    strict=True,
                )
            ),
            hovertemplate="%{x}: %{y:.2%} written off<br>%{customdata[0]:,.0f} of %{customdata[1]:,.0f} "
            "%{customdata[2]}<br>value %{customdata[3]:,.2f}<extra></extra>",
            name="share written off",
        )
    )
    base_layout(fig, title, height=400)
    fig.update_yaxes(title_text="share of quantity made", tickformat=".1%")
    return fig


def stock_at_risk_by_site_figure(at_risk: pl.DataFrame) -> go.Figure:
    """Value of unexpired stock that expires within 7, 14 and 30 days, per site (cumulative:
    the 30-day bar includes the 7-day stock)."""
    title = "Stock at risk: value expiring within 7, 14 and 30 days, by site"
    if at_risk.is_empty():
        return empty_figure(title, "no stock expires within 30 days")
    by_site = at_risk.group_by("site_code").agg(pl.col(f"value_expiring_{d}_days").sum() for d in RISK_WINDOWS)
    by_site = by_site.sort("site_code")
    fig = go.Figure()
    for index, days in enumerate(RISK_WINDOWS):
        fig.add_trace(
            go.Bar(
                x=by_site["site_code"].to_list(),
                y=by_site[f"value_expiring_{days}_days"].to_list(),
                name=f"within {days} days",
                marker_color=[ALERT, PALETTE[1], PALETTE[7]][index],
                hovertemplate="%{x}: %{y:,.2f} expiring within " + str(days) + " days<extra></extra>",
                meta={"role": f"value_expiring_{days}_days"},
            )
        )
    base_layout(fig, title, height=400)
    fig.update_layout(barmode="group")
    fig.update_yaxes(title_text="stock value")
    return fig


def stock_at_risk_by_product_figure(at_risk: pl.DataFrame, *, top: int = 20) -> go.Figure:
    """The products with the most value expiring within 30 days, all sites together."""
    title = f"Stock at risk by product (top {top} by value expiring within 30 days)"
    if at_risk.is_empty():
        return empty_figure(title, "no stock expires within 30 days")
    by_product = (
        at_risk.group_by("product_code")
        .agg(pl.col(f"value_expiring_{d}_days").sum() for d in RISK_WINDOWS)
        .sort(["value_expiring_30_days", "product_code"], descending=[True, False])
        .head(top)
    )
    fig = go.Figure()
    for index, days in enumerate(RISK_WINDOWS):
        fig.add_trace(
            go.Bar(
                x=by_product["product_code"].to_list(),
                y=by_product[f"value_expiring_{days}_days"].to_list(),
                name=f"within {days} days",
                marker_color=[ALERT, PALETTE[1], PALETTE[7]][index],
                hovertemplate="%{x}: %{y:,.2f} expiring within " + str(days) + " days<extra></extra>",
            )
        )
    base_layout(fig, title, height=420)
    fig.update_layout(barmode="group")
    fig.update_yaxes(title_text="stock value")
    return fig


def stock_age_figure(stock_age: pl.DataFrame) -> go.Figure:
    """Stock on hand per site by age (days since made or received), stacked by value."""
    title = "Stock age by site (value on hand, days since made or received)"
    if stock_age.is_empty():
        return empty_figure(title, "no stock on hand")
    sites = sorted(stock_age["site_code"].unique().to_list())
    fig = go.Figure()
    colors = [PALETTE[2], PALETTE[0], PALETTE[1], ALERT, CENTER]
    for bucket, color in zip(AGE_BUCKETS, colors, strict=True):
        rows = {row["site_code"]: row for row in stock_age.filter(pl.col("stock_age_bucket") == bucket).to_dicts()}
        if not rows:
            continue
        fig.add_trace(
            go.Bar(
                x=sites,
                y=[rows[s]["stock_value"] if s in rows else 0 for s in sites],
                customdata=[rows[s]["lot_count"] if s in rows else 0 for s in sites],
                name=bucket,
                marker_color=color,
                hovertemplate="%{x}: %{y:,.2f} in %{customdata} lots aged " + bucket + "<extra></extra>",
                meta={"role": "stock_value", "bucket": bucket},
            )
        )
    base_layout(fig, title, height=400)
    fig.update_layout(barmode="stack")
    fig.update_yaxes(title_text="stock value")
    return fig


def fefo_breaches_figure(weekly: pl.DataFrame) -> go.Figure:
    """Shipment lines that broke first-expired-first-out, per week and site
    (queries.fefo_breaches_by_week)."""
    title = "Shipment lines that broke first-expired-first-out, by week and site"
    if weekly.is_empty():
        return empty_figure(title, "no shipment broke first-expired-first-out")
    fig = go.Figure()
    for index, site in enumerate(sorted(weekly["site_code"].unique().to_list())):
        rows = weekly.filter(pl.col("site_code") == site)
        fig.add_trace(
            go.Bar(
                x=rows["week"].to_list(),
                y=rows["lines"].to_list(),
                name=site,
                marker_color=PALETTE[index % len(PALETTE)],
                customdata=rows["quantity_shipped"].to_list(),
                hovertemplate="week of %{x|%Y-%m-%d}: %{y} lines (%{customdata:,.0f} units)<extra>" + site + "</extra>",
                meta={"site": site, "role": "lines"},
            )
        )
    base_layout(fig, title, height=400)
    fig.update_layout(barmode="stack")
    fig.update_yaxes(title_text="shipment lines")
    fig.update_xaxes(title_text="week (Monday)")
    return fig
