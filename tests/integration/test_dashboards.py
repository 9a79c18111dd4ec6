"""The dashboards on a warehouse built the real way (generated landing days loaded by the
installed `batchtrack ingest`), loaded in headless Chromium over the DevTools protocol: no
console errors, every chart drawn, and the numbers in the charts equal the same numbers
computed here in SQL from the marts. Also: no customer contact data outside the recall page,
and no page needs the network."""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import defaultdict
from pathlib import Path

import duckdb
import pytest
from websockets.sync.client import connect

from batchtrack.generator import generate
from dashboards import build_dashboards, build_recall_report
from dashboards.screenshots import HEADLESS_FLAGS, find_chromium, take_screenshots

BIN = Path(sys.executable).parent
DAYS = 30
SEED = 7

CHROMIUM = find_chromium()
pytestmark = [pytest.mark.slow]


@pytest.fixture(scope="module", autouse=True)
def chromium_installed():
    # `make test` installs it; a missing browser is a failure, never a silent skip.
    assert CHROMIUM, "headless Chromium is not installed: apt-get install chromium (make test does this)"


# Run in the page once it has loaded: waits until every plotly div has drawn (or 20 s pass),
# then reports each chart's drawing state and its data. A figure may ship a number array as a
# typed array, {dtype, bdata (base64), shape}, which plotly.js decodes when it draws: decoded
# the same way here.
CHART_STATE_JS = """
(async () => {
  const charts = () => Array.from(document.querySelectorAll('.plotly-graph-div'));
  const drawn = (div) => !!div._fullLayout && !!(div.querySelector('svg.main-svg') || div.querySelector('canvas'));
  const deadline = Date.now() + 20000;
  while (Date.now() < deadline && !charts().every(drawn)) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const typedArrays = {
    f8: Float64Array, f4: Float32Array, i4: Int32Array, u4: Uint32Array,
    i2: Int16Array, u2: Uint16Array, i1: Int8Array, u1: Uint8Array,
  };
  const values = (array) => {
    if (!array || !array.bdata) return array || null;
    const bytes = Uint8Array.from(atob(array.bdata), (c) => c.charCodeAt(0));
    const flat = Array.from(new typedArrays[array.dtype](bytes.buffer));
    if (!array.shape) return flat;
    const width = Number(String(array.shape).split(',')[1]);
    return Array.from({length: flat.length / width}, (_, row) => flat.slice(row * width, (row + 1) * width));
  };
  // the label a reader sees on the first point of the first shown line chart trace
  const hover = async (div) => {
    const trace = div.data.findIndex((each) => each.type === 'scatter' && each.visible !== false);
    if (trace < 0 || !drawn(div)) return null;
    Plotly.Fx.hover(div, [{curveNumber: trace, pointNumber: 0}]);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const text = Array.from(div.querySelectorAll('.hoverlayer text')).map((node) => node.textContent).join(' ');
    Plotly.Fx.unhover(div);
    return text;
  };
  const hovers = {};
  for (const div of charts()) hovers[div.id] = await hover(div);
  return JSON.stringify(charts().map((div) => ({
    id: div.id,
    drawn: drawn(div),
    hover: hovers[div.id],
    data: div.data.map((trace) => ({
      type: trace.type, name: trace.name, visible: trace.visible, meta: trace.meta || null,
      x: values(trace.x), y: values(trace.y), customdata: values(trace.customdata),
      node_labels: trace.node ? trace.node.label : null,
      link: trace.link ? {source: trace.link.source, target: trace.link.target, value: trace.link.value} : null,
    })),
  })));
})()
"""


class DevToolsPage:
    """One headless Chromium tab driven over the Chrome DevTools Protocol websocket."""

    def __init__(self, chromium: str, profile: Path):
        self.process = subprocess.Popen(
            [chromium, *HEADLESS_FLAGS, f"--user-data-dir={profile}", "--remote-debugging-port=0", "about:blank"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not (port_file.exists() and port_file.read_text().strip()):
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise RuntimeError("Chromium did not open its DevTools port")
            time.sleep(0.1)
        port = port_file.read_text().split()[0]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as response:
            targets = json.load(response)
        page = next(target for target in targets if target["type"] == "page")
        self.connection = contextlib.ExitStack()
        self.socket = self.connection.enter_context(
            connect(page["webSocketDebuggerUrl"], max_size=None, open_timeout=10)
        )
        self.next_id = 0
        self.events: list[dict] = []
        for method in ("Runtime.enable", "Log.enable", "Page.enable"):
            self.send(method)

    def send(self, method: str, params: dict | None = None, timeout: float = 60) -> dict:
        self.next_id += 1
        message_id = self.next_id
        self.socket.send(json.dumps({"id": message_id, "method": method, "params": params or {}}))
        deadline = time.monotonic() + timeout
        while True:
            message = json.loads(self.socket.recv(timeout=max(0.1, deadline - time.monotonic())))
            if message.get("id") == message_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message["result"]
            self.events.append(message)

    def wait_for_event(self, method: str, timeout: float = 60) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            for index, event in enumerate(self.events):
                if event.get("method") == method:
                    return self.events.pop(index)
            self.events.append(json.loads(self.socket.recv(timeout=max(0.1, deadline - time.monotonic()))))

    def load(self, path: Path) -> dict:
        """Open a file, wait for its charts; returns {"errors": [...], "charts": {id: state}}."""
        self.events.clear()
        self.send("Page.navigate", {"url": path.resolve().as_uri()})
        self.wait_for_event("Page.loadEventFired")
        result = self.send(
            "Runtime.evaluate", {"expression": CHART_STATE_JS, "awaitPromise": True, "returnByValue": True}
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"chart state script failed: {result['exceptionDetails']}")
        charts = {chart["id"]: chart for chart in json.loads(result["result"]["value"])}
        self.send("Runtime.evaluate", {"expression": "1"})  # flush events raised while drawing
        errors = []
        for event in self.events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.exceptionThrown":
                errors.append(params["exceptionDetails"].get("text", "exception"))
            elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                errors.append(" ".join(str(arg.get("value", arg.get("description"))) for arg in params["args"]))
            elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
                errors.append(params["entry"]["text"])
        return {"errors": errors, "charts": charts}

    def close(self) -> None:
        self.connection.close()
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A warehouse from DAYS generated days, the dashboards and one recall report built from it."""
    root = tmp_path_factory.mktemp("dashboards")
    landing, warehouse, output = root / "landing", root / "warehouse.duckdb", root / "output"
    manifest = generate(landing, days=DAYS, seed=SEED, scale="small")
    completed = subprocess.run(
        [str(BIN / "batchtrack"), "ingest", "--warehouse", str(warehouse), "--landing", str(landing)],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "BATCHTRACK_OUTPUT": str(output)},
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    generator = json.loads((landing / "_generator.json").read_text())
    recall_lot = generator["recall_example"]["lot_code"]
    con = duckdb.connect(str(warehouse), read_only=True)
    pages = build_dashboards(con, output)
    pages["recall"] = build_recall_report(con, recall_lot, output / "recall.html")
    yield {"con": con, "pages": pages, "output": output, "generator": generator, "manifest": manifest}
    con.close()


@pytest.fixture(scope="module")
def loaded(built):
    """Every page loaded once in headless Chromium: page name -> {"errors", "charts"}."""
    profile = Path(tempfile.mkdtemp(prefix="batchtrack-chromium-"))
    browser = DevToolsPage(CHROMIUM, profile)
    try:
        yield {name: browser.load(path) for name, path in built["pages"].items()}
    finally:
        browser.close()
        shutil.rmtree(profile, ignore_errors=True)


def _visible(chart: dict, **meta) -> list[dict]:
    return [
        trace
        for trace in chart["data"]
        if trace["visible"] in (True, None) and all((trace["meta"] or {}).get(k) == v for k, v in meta.items())
    ]


def _by_meta(chart: dict, **meta) -> list[dict]:
    return [trace for trace in chart["data"] if all((trace["meta"] or {}).get(k) == v for k, v in meta.items())]


# ---------------------------------------------------------------- every page


def test_every_page_loads_without_console_errors_and_draws_every_chart(built, loaded):
    expected_charts = {
        "index": set(),
        "defect_trends": {
            "ooc-by-line",
            "p-chart-line",
            "p-chart-product",
            "p-chart-check",
            "pareto",
            "supplier-scorecard",
        },
        "expiry_waste": {
            "writeoffs-by-month",
            "writeoffs-by-product",
            "stock-at-risk-by-site",
            "stock-at-risk-by-product",
            "stock-age",
            "fefo-violations",
        },
        "data_quality": {"quarantine-by-day", "quarantine-by-feed", "findings-by-day"},
        "recall": {"recall-sankey", "recall-on-hand"},
    }
    assert set(loaded) == set(expected_charts)
    for name, state in loaded.items():
        assert state["errors"] == [], f"{name}: {state['errors']}"
        assert set(state["charts"]) == expected_charts[name], name
        undrawn = [chart_id for chart_id, chart in state["charts"].items() if not chart["drawn"]]
        assert undrawn == [], f"{name}: charts not drawn: {undrawn}"


def test_pages_are_self_contained_and_link_each_other(built):
    pages = built["pages"]
    for name, path in pages.items():
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"<script[^>]*\ssrc\s*=\s*[\"']?(https?:)?//", text, re.I), name
        assert not re.search(r"<link[^>]*href\s*=\s*[\"']?(https?:)?//", text, re.I), name
        if name != "index":  # plotly.js is inlined once, in the head
            assert text.split("</head>")[0].count("<script") == 1 and len(text) > 3_000_000, name
    index = pages["index"].read_text(encoding="utf-8")
    for name in ("defect_trends", "expiry_waste", "data_quality"):
        assert f'href="{pages[name].name}"' in index
    freshness = built["con"].execute("select min(landing_date), max(landing_date) from ingest.loaded_files").fetchone()
    as_of = built["con"].execute("select max(as_of_date) from main.dim_lots").fetchone()[0]
    for text in (str(freshness[0]), str(freshness[1]), f"as of {as_of}", "page built", "warehouse last loaded"):
        assert text in index
    # the ingest wrote Data Docs into the output folder: the quality page links them, relatively
    quality_page = pages["data_quality"].read_text(encoding="utf-8")
    link = re.search(r'id="data-docs-link" href="([^"]+)"', quality_page)
    assert link and (pages["data_quality"].parent / link.group(1)).is_file()


def test_customer_contacts_appear_only_in_the_recall_report(built):
    con = built["con"]
    contacts = [
        value
        for (email, phone) in con.execute(
            "select customer_contact_email, customer_phone from main.dim_customers"
        ).fetchall()
        for value in (email, phone)
        if value
    ]
    names = [name for (name,) in con.execute("select customer_name from main.dim_customers").fetchall() if name]
    assert contacts
    for name, path in built["pages"].items():
        if name == "recall":
            continue
        text = path.read_text(encoding="utf-8")
        leaked = [value for value in contacts if value in text]
        assert leaked == [], f"{name} shows contact data: {leaked[:5]}"
        leaked_names = [value for value in names if f">{value}<" in text or f'"{value}"' in text]
        assert leaked_names == [], f"{name} shows customer names: {leaked_names[:5]}"
    recall = built["pages"]["recall"].read_text(encoding="utf-8")
    lot = built["generator"]["recall_example"]["lot_code"]
    notified = con.execute(
        """
        select distinct customers.customer_contact_email
        from recall_shipments(?) as shipments
        inner join main.dim_customers as customers on shipments.customer_code = customers.customer_code
        where customers.customer_contact_email is not null
        """,
        [lot],
    ).fetchall()
    assert notified
    for (email,) in notified:
        assert email in recall


# ---------------------------------------------------------------- numbers in the charts


def test_line_p_chart_equals_sql(built, loaded):
    con = built["con"]
    chart = loaded["defect_trends"]["charts"]["p-chart-line"]
    (rate,) = _visible(chart, role="rate")
    member = rate["meta"]["member"]
    rows = con.execute(
        """
        select inspected_date, sum(defects) / sum(samples), sum(samples)
        from main.fct_inspection_defects
        where site_code || ' ' || line_code = ?
        group by inspected_date having sum(samples) > 0 order by inspected_date
        """,
        [member],
    ).fetchall()
    p_bar = con.execute(
        "select sum(defects) / sum(samples) from main.fct_inspection_defects where site_code || ' ' || line_code = ?",
        [member],
    ).fetchone()[0]
    assert [x[:10] for x in rate["x"]] == [str(day) for day, _, _ in rows]
    assert rate["y"] == pytest.approx([float(p) for _, p, _ in rows], rel=1e-9)
    first_day, _, first_samples = rows[0]
    first_defects = con.execute(
        "select sum(defects) from main.fct_inspection_defects where site_code || ' ' || line_code = ? "
        "and inspected_date = ?",
        [member, first_day],
    ).fetchone()[0]
    assert rate["customdata"][0] == [first_defects, first_samples]
    assert f"{first_defects} defects in {first_samples} samples" in chart["hover"]
    (ucl,) = _visible(chart, role="ucl")
    expected_ucl = [min(1.0, p_bar + 3 * math.sqrt(p_bar * (1 - p_bar) / float(n))) for _, _, n in rows]
    assert ucl["y"] == pytest.approx(expected_ucl, rel=1e-9)
    (center,) = _visible(chart, role="center")
    assert center["y"] == pytest.approx([p_bar, p_bar])
    (flagged,) = _visible(chart, role="out_of_control")
    expected_flags = [
        str(day)
        for (day, p, n), limit in zip(rows, expected_ucl, strict=True)
        if p > limit
        or (
            p < p_bar - 3 * math.sqrt(p_bar * (1 - p_bar) / float(n))
            and p_bar - 3 * math.sqrt(p_bar * (1 - p_bar) / float(n)) > 0
        )
    ]
    assert [x[:10] for x in flagged["x"]] == expected_flags
    # every line of the data is in the dropdown, one set of five traces each
    lines = con.execute(
        "select count(distinct site_code || ' ' || line_code) from main.fct_inspection_defects"
    ).fetchone()[0]
    assert len(chart["data"]) == 5 * lines


def test_drifting_line_is_the_first_line_shown(built, loaded):
    drifting = built["generator"]["drifting_line"]
    chart = loaded["defect_trends"]["charts"]["p-chart-line"]
    (rate,) = _visible(chart, role="rate")
    assert rate["meta"]["member"] == f"{drifting['site_code']} {drifting['line_code']}"


def test_pareto_equals_sql_for_both_periods(built, loaded):
    con = built["con"]
    chart = loaded["defect_trends"]["charts"]["pareto"]
    whole = dict(
        con.execute("select check_code, sum(defects) from main.fct_inspection_defects group by all").fetchall()
    )
    recent = dict(
        con.execute(
            """
            select check_code, sum(defects) from main.fct_inspection_defects
            where inspected_date > (select max(as_of_date) from main.dim_lots) - 30 group by all
            """
        ).fetchall()
    )
    for period, expected in (("whole period", whole), ("last 30 days", recent)):
        (bars,) = _by_meta(chart, period=period, role="defects")
        assert dict(zip(bars["x"], bars["y"], strict=True)) == {code: int(n) for code, n in expected.items()}
        assert bars["y"] == sorted(bars["y"], reverse=True)
    assert [trace["visible"] for trace in chart["data"]] == [True, True, False, False]


def test_bad_supplier_stands_out_in_the_scorecard(built, loaded):
    bad = built["generator"]["bad_supplier"]["supplier_code"]
    chart = loaded["defect_trends"]["charts"]["supplier-scorecard"]
    (heatmap,) = chart["data"]
    assert heatmap["type"] == "heatmap"
    # suppliers are ordered worst last, which plotly draws at the top
    assert heatmap["y"][-1] == bad


def test_expiry_writeoffs_by_month_equal_sql(built, loaded):
    con = built["con"]
    chart = loaded["expiry_waste"]["charts"]["writeoffs-by-month"]
    expected = defaultdict(float)
    for site, value in con.execute(
        "select site_code, sum(value_written_off) from main.fct_expiry_writeoffs group by all"
    ).fetchall():
        expected[site] = float(value)
    drawn = {trace["meta"]["site"]: sum(trace["y"]) for trace in _by_meta(chart, role="value_written_off")}
    for site in set(expected) | set(drawn):
        assert drawn.get(site, 0.0) == pytest.approx(expected.get(site, 0.0), abs=1e-6), site
    at_risk = loaded["expiry_waste"]["charts"]["stock-at-risk-by-site"]
    (seven,) = _by_meta(at_risk, role="value_expiring_30_days")
    expected_30 = dict(
        con.execute(
            """
            select site_code, sum(stock_value) from main.fct_stock_on_hand
            where days_to_expiry between 0 and 30 group by all
            """
        ).fetchall()
    )
    assert dict(zip(seven["x"], seven["y"], strict=True)) == pytest.approx(
        {site: float(value or 0) for site, value in expected_30.items()}
    )


def test_quarantine_chart_equals_sql(built, loaded):
    con = built["con"]
    chart = loaded["data_quality"]["charts"]["quarantine-by-day"]
    per_day = defaultdict(int)
    for trace in _by_meta(chart, feed="all feeds"):
        for x, y in zip(trace["x"], trace["y"], strict=True):
            per_day[x[:10]] += y
    expected = {
        str(day): n
        for day, n in con.execute("select landing_date, count(*) from main.quarantine group by all").fetchall()
    }
    assert expected and dict(per_day) == expected
    for feed, n in con.execute("select feed, count(*) from main.quarantine group by all").fetchall():
        assert sum(sum(trace["y"]) for trace in _by_meta(chart, feed=feed)) == n


def test_recall_sankey_carries_the_shipments_of_the_scope(built, loaded):
    con = built["con"]
    lot = built["generator"]["recall_example"]["lot_code"]
    (sankey,) = loaded["recall"]["charts"]["recall-sankey"]["data"]
    assert sankey["type"] == "sankey"
    labels, link = sankey["node_labels"], sankey["link"]
    shipped = defaultdict(float)
    for source, target, value in zip(link["source"], link["target"], link["value"], strict=True):
        shipped[labels[target]] += value if labels[source] != labels[target] else 0
    expected = {
        code: float(quantity)
        for code, quantity in con.execute(
            "select customer_code, sum(quantity) from recall_shipments(?) group by all", [lot]
        ).fetchall()
    }
    assert expected
    assert {code: shipped[code] for code in expected} == pytest.approx(expected)
    assert lot in labels


def test_screenshots_of_every_page(built):
    shots = take_screenshots(built["pages"].values(), built["output"] / "screenshots")
    assert [shot.name for shot in shots] == [f"{path.stem}.png" for path in built["pages"].values()]
    for shot in shots:
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
