"""The dashboard pages: each reads its frames through `dashboards.queries`, draws them with the
figure builders and writes one self-contained HTML file. `build_dashboards` writes them all and
the index; `build_recall_report` writes the page for one lot's recall, the only page that
names customers' contact details."""

from __future__ import annotations

import html
from datetime import datetime
from pathlib import Path

import duckdb
import polars as pl

from dashboards import queries
from dashboards.figures import defects, expiry, quality, recall
from dashboards.layout import Section, figure_html, freshness_text, page_html, table_html, write_page

RECENT_DAYS = 30
DATA_DOCS = Path("quality") / "data_docs" / "index.html"

PAGES = {
    "defect_trends": "defect_trends.html",
    "expiry_waste": "expiry_waste.html",
    "data_quality": "data_quality.html",
}

P_CHART_NOTE = (
    "Each point is one day: defects / samples over every inspection of that day. The centre line p̄ is the "
    "whole period's rate; the dashed limits are p̄ ± 3·√(p̄(1−p̄)/n) for that day's n samples, so they widen "
    "on days with few samples. Red crosses are points outside the limits. The dropdown lists every {what}, "
    "the one with the most days above the upper limit first."
)


def _defect_trends(con: duckdb.DuckDBPyConnection) -> list[Section]:
    with queries.defect_facts_copy(con) as facts:
        line_daily = queries.daily_defects(con, "line", facts)
        product_daily = queries.daily_defects(con, "product", facts)
        check_daily = queries.daily_defects(con, "check", facts)
        whole_period = queries.defects_by_check_code(con, facts=facts)
        recent = queries.defects_by_check_code(con, RECENT_DAYS, facts=facts)
        scorecard = queries.supplier_scorecard(con, facts)
        worst = queries.worst_lots(con, facts=facts)
    worst_suppliers = (
        scorecard.filter(pl.col("relative_rate").is_not_null())
        .sort(["relative_rate", "supplier_code"], descending=[True, False])
        .head(10)
    )
    return [
        Section(
            "Which lines drift? Days above the upper control limit, first and second half of the period",
            figure_html(defects.signal_overview_figure(line_daily, title="Days above UCL per line"), "ooc-by-line"),
            note="A line whose count grows from the first half to the second is drifting: open its p-chart below.",
        ),
        Section(
            "p-chart per production line",
            figure_html(
                defects.p_chart_figure(line_daily, dimension_label="line", title="Defect rate"), "p-chart-line"
            ),
            note=P_CHART_NOTE.format(what="line (site and line code)"),
        ),
        Section(
            "p-chart per product",
            figure_html(
                defects.p_chart_figure(product_daily, dimension_label="product", title="Defect rate"),
                "p-chart-product",
            ),
            note=P_CHART_NOTE.format(what="product"),
        ),
        Section(
            "p-chart per check code",
            figure_html(
                defects.p_chart_figure(check_daily, dimension_label="check code", title="Defect rate"),
                "p-chart-check",
            ),
            note=P_CHART_NOTE.format(what="check code"),
        ),
        Section(
            "Pareto of defect codes",
            figure_html(
                defects.pareto_figure(whole_period, recent, recent_label=f"last {RECENT_DAYS} days"),
                "pareto",
            ),
            note=f"Defects per check code, most first, with the cumulative share. The buttons switch between the "
            f"whole period and the last {RECENT_DAYS} days up to the as-of date.",
        ),
        Section(
            "Supplier scorecard",
            figure_html(defects.supplier_scorecard_figure(scorecard), "supplier-scorecard")
            + table_html(
                worst_suppliers,
                {
                    "supplier_code": "supplier",
                    "check_code": "check",
                    "relative_rate": "× average rate",
                    "defects": "defects attributed",
                    "samples": "samples of its finished lots",
                    "defective_lots": "finished lots with defects",
                    "finished_lots": "finished lots inspected",
                },
                formats={"relative_rate": ".2f"},
                table_id="worst-suppliers",
            ),
            note="Defects of finished lots attributed to the suppliers of their raw materials through the genealogy, "
            "at any depth (fct_supplier_defect_attribution). A cell is the defect rate of finished lots that hold "
            "the supplier's material, relative to all finished lots, for that check: ×1 is average, ×2 twice as "
            "many defects per sample. Finished lots usually hold several suppliers' materials, so a bad supplier "
            "shows as one clearly red row while the others sit near ×1. The table lists the ten worst cells.",
        ),
        Section(
            "Lots with the worst defect rates",
            table_html(
                worst,
                {
                    "lot_code": "lot",
                    "product_code": "product",
                    "line": "line",
                    "first_inspected_date": "inspected",
                    "samples": "samples",
                    "defects": "defects",
                    "defect_rate": "rate",
                    "defective_checks": "checks with defects",
                    "supplier_codes": "suppliers of its raw materials",
                },
                formats={"defect_rate": ".2%"},
                table_id="worst-lots",
            ),
            note="Defects / samples over all checks of a lot, lots with at least 100 samples. Suppliers are listed "
            "for finished lots with defects (from the attribution through genealogy).",
        ),
    ]


FEFO_RULE = (
    "A shipment line breaks first-expired-first-out when, at the moment it was shipped, the same site held "
    "stock of another lot of the same product that expires <em>earlier</em> than the lot shipped, could still be "
    "sold (at least 40% of its shelf life left, the dbt var fefo_min_shelf_life_left: customers refuse stock with "
    "less, which waits for its write-off) and was not on hold. Stock at that moment is the running sum of the "
    "lot's movements at the site (production, receipts, transfers, consumption, shipments, scrap, write-offs, "
    "returns, adjustments); "
    "hold status is the lot's latest hold or release before the shipment. A lot without an expiry date expires "
    "last. Stock reserved for another order, or at another location of the site that the picker could not reach, "
    "is not known to the warehouse, so some breaches may have a reason."
)


def _expiry_waste(con: duckdb.DuckDBPyConnection) -> list[Section]:
    at_risk = queries.stock_at_risk(con)
    breaches = queries.fefo_breach_count(con)
    shipment_lines = queries.shipment_line_count(con)
    share = f"{breaches / shipment_lines:.1%}" if shipment_lines else "0%"
    return [
        Section(
            "Expiry write-offs by month and site",
            figure_html(expiry.writeoffs_by_month_figure(queries.monthly_writeoffs(con)), "writeoffs-by-month"),
            note="Value written off because of expiry (quantity × unit cost), stacked by the site where it was "
            "written off, and the month's write-off value as a share of the value made or received that month.",
        ),
        Section(
            "Expiry write-offs by product",
            figure_html(expiry.writeoffs_by_product_figure(queries.product_writeoffs(con)), "writeoffs-by-product"),
            note="Quantity written off as a share of the quantity of the product made or received in the period.",
        ),
        Section(
            "Stock at risk of expiring",
            figure_html(expiry.stock_at_risk_by_site_figure(at_risk), "stock-at-risk-by-site")
            + figure_html(expiry.stock_at_risk_by_product_figure(at_risk), "stock-at-risk-by-product"),
            note="Value of stock on hand, not yet expired, that expires within 7, 14 and 30 days of the as-of date "
            "(cumulative: the 30-day bar includes the 7- and 14-day stock).",
        ),
        Section(
            "Stock age by site",
            figure_html(expiry.stock_age_figure(queries.stock_age(con)), "stock-age"),
            note="Value on hand per site by days since the lot was made or received.",
        ),
        Section(
            "First-expired-first-out breaches",
            figure_html(expiry.fefo_breaches_figure(queries.fefo_breaches_by_week(con)), "fefo-violations")
            + f'<p class="note">{breaches:,} of {shipment_lines:,} shipment lines ({share}). '
            "The 100 most recent:</p>"
            + table_html(
                queries.latest_fefo_breaches(con, limit=100),
                {
                    "shipped_at": "shipped",
                    "shipment_id": "shipment",
                    "line_no": "line",
                    "site_code": "site",
                    "product_code": "product",
                    "lot_code": "lot shipped",
                    "expiry_date": "expires",
                    "first_expiring_lot_code": "lot expiring first",
                    "first_expiring_expiry_date": "it expires",
                    "earlier_expiring_lot_count": "lots expiring earlier",
                    "earlier_expiring_quantity_on_hand": "their stock on hand",
                    "customer_code": "customer",
                },
                table_id="fefo-table",
                empty="no shipment broke first-expired-first-out",
            ),
            note=FEFO_RULE,
        ),
    ]


def _data_quality(con: duckdb.DuckDBPyConnection, output_dir: Path) -> list[Section]:
    by_day = queries.quarantine_by_day(con)
    findings = queries.latest_findings(con)
    failed = findings.filter(~pl.col("success")) if not findings.is_empty() else findings
    docs = ""
    if (output_dir / DATA_DOCS).exists():
        docs = (
            f'<p>The full validation results are in the <a id="data-docs-link" href="{DATA_DOCS.as_posix()}">'
            "Great Expectations Data Docs</a>.</p>"
        )
    return [
        Section(
            "Quarantined rows per landing day",
            figure_html(quality.quarantine_figure(by_day), "quarantine-by-day")
            + figure_html(quality.quarantine_by_feed_figure(by_day), "quarantine-by-feed"),
            note="Rows that broke the feed contract and were kept out of the warehouse tables, by the day folder "
            "they came in and the kind of problem. Pick a feed in the dropdown to see only its rows.",
        ),
        Section(
            "Quarantined rows to fix",
            table_html(
                queries.quarantine_rows(con),
                {
                    "landing_date": "landing day",
                    "feed": "feed",
                    "source_file": "file",
                    "line_number": "line",
                    "reason_kind": "problem",
                    "column_name": "column",
                },
                table_id="quarantine-table",
                empty="no row was quarantined",
            ),
            note="The 200 most recent, by file and line (line 1 is the header). The page names the problem and the "
            "column, not the value: the full reason and the raw row are in the warehouse table main.quarantine.",
        ),
        Section(
            "Quality check findings",
            figure_html(quality.findings_figure(queries.quality_findings_by_day(con)), "findings-by-day")
            + docs
            + table_html(
                failed,
                {
                    "severity": "severity",
                    "expectation": "expectation",
                    "failing_count": "failing rows",
                    "failing_days": "landing days failing",
                    "sample_keys": "sample keys",
                    "description": "what it checks",
                },
                table_id="findings-table",
                empty="every check passes on its latest result",
            ),
            note="Failing rows per expectation and landing day from main.quality_findings (the latest result of each "
            "check for each day: a daily run checks the days that changed), and the checks whose latest result "
            "fails, with the days they fail on and sample keys to look up.",
        ),
    ]


def _index(freshness: dict, pages: dict[str, Path], output_dir: Path) -> list[Section]:
    descriptions = {
        "defect_trends": "p-charts of the defect rate per line, product and check code with control limits; Pareto "
        "of defect codes; the worst lots; supplier scorecard through genealogy.",
        "expiry_waste": "expiry write-offs by month, site and product; stock at risk in 7/14/30 days; stock age; "
        "shipments that broke first-expired-first-out.",
        "data_quality": "quarantined rows per feed and day; quality check findings; link to the Data Docs.",
    }
    items = "".join(
        f'<li><a href="{html.escape(path.name)}">{html.escape(path.name)}</a>: {html.escape(descriptions[name])}</li>'
        for name, path in pages.items()
    )
    if (output_dir / DATA_DOCS).exists():
        items += f'<li><a href="{DATA_DOCS.as_posix()}">Great Expectations Data Docs</a></li>'
    rows = pl.DataFrame(
        {
            "what": [
                "first landing day",
                "last landing day",
                "landing days loaded",
                "as-of date",
                "warehouse last loaded",
                "quality checks last run",
            ],
            "value": [
                str(freshness.get(key) or "")
                for key in (
                    "first_landing_date",
                    "last_landing_date",
                    "landing_days",
                    "as_of_date",
                    "last_loaded_at",
                    "last_checked_at",
                )
            ],
        }
    )
    return [
        Section("Pages", f"<ul>{items}</ul>", note="Every page is one file that works offline."),
        Section(
            "Data range and freshness",
            table_html(rows, table_id="freshness-table"),
            note="The as-of date is the latest data day: stock age, days to expiry and 'last 30 days' count from it. "
            "A recall page for one lot is written by <code>batchtrack recall LOT --report FILE.html</code>.",
        ),
    ]


def build_dashboards(con: duckdb.DuckDBPyConnection, output_dir: Path) -> dict[str, Path]:
    """Write index.html, defect_trends.html, expiry_waste.html and data_quality.html into
    `output_dir` from the warehouse behind `con` (read-only is enough). Returns page name -> path."""
    output_dir = Path(output_dir)
    built_at = datetime.now()
    freshness = queries.freshness(con)
    stamp = freshness_text(freshness, built_at)
    paths = {name: output_dir / filename for name, filename in PAGES.items()}
    builders = {
        "defect_trends": ("Defect trends", lambda: _defect_trends(con)),
        "expiry_waste": ("Expiry and waste", lambda: _expiry_waste(con)),
        "data_quality": ("Data quality", lambda: _data_quality(con, output_dir)),
    }
    for name, (title, build) in builders.items():
        write_page(paths[name], page_html(title, build(), freshness=stamp, current=paths[name].name))
    index = write_page(
        output_dir / "index.html",
        page_html("Batchtrack dashboards", _index(freshness, paths, output_dir), freshness=stamp, current="index.html"),
    )
    return {"index": index, **paths}


# ---------------------------------------------------------------- recall report


def build_recall_report(con: duckdb.DuckDBPyConnection, lot_code: str, path: Path) -> Path:
    """Write the recall page of `lot_code` to `path`: the flow from suppliers through lots to
    customers, the notification list with contact details (this page only), stock still on hand
    by site, and the mass balance. Raises batchtrack.recall.UnknownLot for a lot not in the
    warehouse."""
    from batchtrack.recall_reports import mass_balance_summary, notification_list

    lot_code = lot_code.strip()
    path = Path(path)
    notifications = notification_list(con, lot_code)  # raises UnknownLot first
    balance = mass_balance_summary(con, lot_code)
    flows = queries.recall_flows(con, lot_code)
    on_hand = queries.recall_on_hand_by_site(con, lot_code)
    freshness = queries.freshness(con)
    total = balance["total"]
    balance_note = (
        "The recalled lot's balance closes."
        if total.get("is_balanced")
        else f'<span class="warning-banner">The recalled lot\'s balance does not close: '
        f"{html.escape(str(total.get('finding') or ''))}.</span>"
    )
    lots = balance["lots"]
    sections = [
        Section(
            "Scope",
            f"<p>Lot <strong>{html.escape(lot_code)}</strong>: {len(lots)} lots in the forward trace, "
            f"{len(notifications)} customers to notify, {len(on_hand)} stock positions still on hand.</p>",
            note="Confidential: this page holds customer contact details. Share it only with the recall team.",
        ),
        Section(
            "Flow from suppliers through lots to customers",
            figure_html(recall.recall_sankey_figure(flows, lot_code=lot_code), "recall-sankey"),
            note="Link widths are quantities in each lot's base unit (hover for the unit); customers appear by code, "
            "their contacts are in the notification list below.",
        ),
        Section(
            "Notification list",
            table_html(
                notifications,
                {
                    "customer_code": "customer",
                    "customer_name": "name",
                    "customer_contact_email": "e-mail",
                    "customer_phone": "phone",
                    "customer_country": "country",
                    "ship_to": "ship to",
                    "lot_codes": "lots received",
                    "shipments": "shipments",
                    "quantity_by_unit": "quantity",
                    "first_shipped_at": "first shipped",
                    "last_shipped_at": "last shipped",
                },
                table_id="notification-list",
                empty="no lot of the scope was shipped to a customer",
            ),
        ),
        Section(
            "Stock still on hand",
            figure_html(recall.on_hand_by_site_figure(on_hand), "recall-on-hand")
            + table_html(on_hand, table_id="on-hand-table", empty="no stock of the scope is on hand"),
        ),
        Section(
            "Mass balance",
            f"<p>{balance_note}</p>"
            + table_html(
                balance["disposition"],
                {
                    "direction": "direction",
                    "disposition": "where",
                    "counterpart": "lot, customer or site",
                    "quantity": "quantity",
                    "unit_of_measure": "unit",
                    "percent_of_made_or_received": "% of made or received",
                },
                table_id="disposition-table",
            )
            + "<h3>Every lot of the scope</h3>"
            + table_html(
                lots,
                {
                    "depth": "depth",
                    "lot_code": "lot",
                    "product_code": "product",
                    "unit_of_measure": "unit",
                    "quantity_made_or_received": "made or received",
                    "quantity_consumed": "consumed",
                    "quantity_shipped": "shipped",
                    "quantity_scrapped": "scrapped",
                    "quantity_written_off": "written off",
                    "quantity_on_hand": "on hand",
                    "quantity_unaccounted": "unaccounted",
                    "is_balanced": "balanced",
                    "finding": "finding",
                },
                table_id="mass-balance-table",
            ),
            note="Made or received + returned + adjusted = consumed + shipped + scrapped + written off + on hand "
            "+ unaccounted, in the lot's base unit.",
        ),
    ]
    text = page_html(
        f"Recall of lot {lot_code}",
        sections,
        freshness=freshness_text(freshness, datetime.now()),
        navigation=[],
    )
    return write_page(path, text)
