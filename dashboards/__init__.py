"""What a person sees: self-contained HTML reports (plotly.js embedded, no server, no CDN) built
from the warehouse marts. `build_dashboards` writes the overview pages; `build_recall_report`
writes the page for one lot's recall."""

from dashboards.pages import build_dashboards, build_recall_report

__all__ = ["build_dashboards", "build_recall_report"]
