"""The fixed-width text report of a run (printed, and saved as bench.txt)."""

from __future__ import annotations

from benchmarks.latency import MACROS
from benchmarks.report import COMPETITORS, PRIMARY_SET, TARGET_EDGES, TARGET_SCALE, phase_result

PIPELINE_RUNS = {
    "pipeline_history": "full history but the last day, empty warehouse",
    "pipeline_incremental_day": "last day on top of the full history",
    "pipeline_empty_warehouse_day": "last day on an empty warehouse",
}


def _cell(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        if abs(value) >= 1000:
            return f"{value:,.0f}"
        return f"{value:.1f}" if abs(value) >= 10 else f"{value:.3g}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _comparison(engine_ms: float, ours_ms: float) -> str:
    if not engine_ms or not ours_ms:
        return "-"
    ratio = engine_ms / ours_ms
    factor = ratio if ratio >= 1 else 1 / ratio
    text = f"{factor:,.0f}x" if factor >= 100 else f"{factor:.1f}x"
    return f"{text} faster" if ratio >= 1 else f"{text} slower"


def _table(headers: list[str], rows: list[list]) -> list[str]:
    if not rows:
        return ["not measured"]
    cells = [[_cell(value) for value in row] for row in rows]
    widths = [max(len(header), *(len(row[i]) for row in cells)) for i, header in enumerate(headers)]
    numeric = [
        all(value is None or isinstance(value, int | float) for value in column) for column in zip(*rows, strict=True)
    ]

    def line(values: list[str]) -> str:
        padded = (v.rjust(w) if num else v.ljust(w) for v, w, num in zip(values, widths, numeric, strict=True))
        return "  ".join(padded).rstrip()

    return [line(headers), line(["-" * width for width in widths]), *(line(row) for row in cells)]


def _header(report: dict) -> list[str]:
    config, machine = report["config"], report["machine"]
    edges = report["summary"]["genealogy_edges"]
    lines = [
        f"Batchtrack benchmark: {config['scale']} data, {config['days']} days, seed {config['seed']}"
        + (f", {edges:,} genealogy edges" if edges else ""),
        f"{machine['date']}; {machine['cpu']}, {machine['cores']} cores, {machine['ram_gb']} GB RAM; "
        f"Python {machine['python']}, DuckDB {machine['duckdb']}, {machine['postgres'] or 'no PostgreSQL'}; "
        f"git {machine['git']}",
    ]
    if config["scale"] != TARGET_SCALE or (edges is not None and edges < TARGET_EDGES):
        lines.append(
            f"NOTE: the targets are set for {TARGET_SCALE} data with >= {TARGET_EDGES:,} genealogy edges; "
            "on this data they are indicative only."
        )
    return lines


def _recall_section(report: dict) -> list[str]:
    ours = report["summary"]["latency"].get("ours", {})
    rows = []
    for macro in MACROS:
        for set_name, entry in ours.get(macro, {}).items():
            cold, warm = entry["cold"], entry["warm"]
            marker = " *" if PRIMARY_SET[macro] == set_name else ""
            rows.append([macro, set_name + marker, warm["n"], cold["p50"], cold["p95"], entry["cold_connect"]["p50"]])
            rows[-1] += [warm["p50"], warm["p95"]]
    if not rows:
        return ["Recall latency of the warehouse macros", "not measured"]
    return [
        f"Recall latency of the warehouse macros, ms. Warm: median of {report['config']['warm_repeats']} runs per lot "
        "after a warm-up pass, one connection.",
        "Cold: the first query in a fresh process on a freshly opened warehouse (OS page cache not dropped); "
        "open = duckdb.connect.",
        *_table(["macro", "lots", "n", "cold p50", "cold p95", "open p50", "warm p50", "warm p95"], rows),
        "* the lot set the targets judge: forward and shipments from raw (received) lots, backward from finished lots",
    ]


def _competitor_section(report: dict) -> list[str]:
    latency, summary = report["summary"]["latency"], report["summary"]
    rows = []
    for macro in MACROS:
        for set_name, entry in latency.get("ours", {}).get(macro, {}).items():
            ours = entry["warm"]
            rows.append([macro, set_name, "ours (macro)", ours["p50"], ours["p95"], None, None])
            for phase, label in COMPETITORS.items():
                other = latency.get(phase, {}).get(macro, {}).get(set_name, {}).get("warm")
                if other:
                    comparisons = [_comparison(other[key], ours[key]) for key in ("p50", "p95")]
                    rows.append(["", "", label, other["p50"], other["p95"], *comparisons])
    lines = [
        "Same traces on the same edges through other engines, warm ms, and how our macro compares at p50 and p95",
        *_table(["macro", "lots", "engine", "p50", "p95", "ours at p50", "ours at p95"], rows),
    ]
    for phase, label in COMPETITORS.items():
        entry = report["phases"].get(phase, {})
        if entry.get("status") == "failed":
            lines.append(f"{label}: FAILED: {entry['error']}")
        elif entry.get("status") == "skipped":
            lines.append(f"{label}: skipped: {entry.get('reason') or entry['result']['skipped']}")
    bfs, postgres = phase_result(report, "competitor_python_bfs"), phase_result(report, "competitor_postgres")
    if bfs:
        lines.append(f"Python BFS: adjacency maps built in {bfs['build_seconds']:.1f}s (not in the query times)")
    if postgres and "copy_seconds" in postgres:
        lines.append(
            f"PostgreSQL ({postgres['version']}): COPY {postgres['copy_seconds']:.1f}s, btree indexes and analyze "
            f"{postgres['index_seconds']:.1f}s; shared_buffers {postgres['settings']['shared_buffers']}"
        )
    mismatches = summary["answer_mismatches"]
    if mismatches:
        lines += [f"ANSWER MISMATCHES ({len(mismatches)}):", *(f"  {problem}" for problem in mismatches[:20])]
    elif rows:
        lines.append("Answers: every engine returned the same number of rows as our macros for every lot.")
    return lines


def _ingestion_section(report: dict) -> list[str]:
    ingestion = report["summary"]["ingestion"]
    header = "Ingestion of the full generated history, CSV files (rows in the files, bad rows included)"
    if not ingestion:
        return [header, "not measured"]
    rows = []
    for feed, figures in [*ingestion["csv_feeds"].items(), ("all CSV", ingestion["csv_total"])]:
        rows.append([feed, figures["rows"], figures["seconds"], figures["rows_per_second"]])
        rows[-1] += [figures["yardstick_seconds"], figures["yardstick_rows_per_second"]]
        rows[-1] += [figures["rows_per_second"] / figures["yardstick_rows_per_second"]]
        rows[-1] += [figures.get("yardstick_variant", "")]
    lines = [header, *_table(["feed", "rows", "ingest s", "rows/s", "read_csv s", "rows/s", "share", "form"], rows)]
    for feed, figures in ingestion["csv_feeds"].items():
        for form, error in figures["yardstick_errors"].items():
            lines.append(f"read_csv form {form} could not read the {feed} files: {error}")
    for feed, entry in ingestion["parquet"].items():
        yardstick = entry["yardstick"] or {}
        lines.append(
            f"Parquet ({feed}, not in the CSV figures): {entry['files']} files, {entry['rows']:,} rows in "
            f"{entry['seconds']:.1f}s ({entry['rows'] / entry['seconds']:,.0f} rows/s); DuckDB read_parquet "
            f"{yardstick.get('seconds', float('nan')):.2f}s"
        )
    return [
        *lines,
        "ingest: batchtrack.ingestion.ingest_feed_days over every day of a feed (once for its CSV days, once for its",
        "Parquet days), as the raw asset calls it, into a fresh DuckDB file (read, validate, quarantine, load).",
        "read_csv: DuckDB's create table as select * from read_csv([all files of the feed]) into",
        "another fresh file, in the fastest of the forms tried (form; all forms are in bench.json).",
    ]


def _pipeline_section(report: dict) -> list[str]:
    rows = []
    for phase, label in PIPELINE_RUNS.items():
        entry, result = report["phases"].get(phase), phase_result(report, phase)
        if result:
            rows.append([label, result["days"], result["rows_in"], result["seconds"]])
            rows[-1] += [result["rows_in"] / result["seconds"], entry["status"]]
        elif entry:
            rows.append([label, None, None, None, None, entry["status"]])
    return [
        "Whole pipeline: run_ingest (raw ingest, dbt build, quality checks, publish, dashboards), end to end",
        *_table(["run", "days", "rows in", "seconds", "rows/s", "status"], rows),
        *_day_steps(report),
    ]


# The Dagster steps of a run, by what they do (the first writing step also waits for the
# working copy of the published file).
STEP_GROUPS = {
    "raw__": "working copy, raw load and its checks",
    "warehouse_models": "dbt build",
    "mart_checks": "mart checks",
    "quality__findings": "quality findings",
    "warehouse__published": "publish",
    "reports__dashboards": "dashboards",
}


def _grouped_steps(result: dict) -> dict[str, float]:
    grouped = dict.fromkeys(STEP_GROUPS.values(), 0.0)
    for step, seconds in result.get("step_seconds", {}).items():
        group = next((label for prefix, label in STEP_GROUPS.items() if step.startswith(prefix)), None)
        grouped[group or "other steps"] = grouped.get(group or "other steps", 0.0) + seconds
    grouped["planning, Dagster and process set-up"] = result["seconds"] - sum(grouped.values())
    return grouped


def _day_steps(report: dict) -> list[str]:
    """Where the extra day's time goes, on the history and on an empty warehouse."""
    on_history = phase_result(report, "pipeline_incremental_day")
    on_empty = phase_result(report, "pipeline_empty_warehouse_day")
    if not (on_history and on_empty and on_history.get("step_seconds") and on_empty.get("step_seconds")):
        return []
    history, empty = _grouped_steps(on_history), _grouped_steps(on_empty)
    rows = [[group, history.get(group, 0.0), empty.get(group, 0.0)] for group in history | empty]
    rows = [[*row, row[1] - row[2]] for row in rows]
    rows.append(["whole run", on_history["seconds"], on_empty["seconds"], on_history["seconds"] - on_empty["seconds"]])
    return [
        "",
        "The last day, by step, seconds: on top of the full history, on an empty warehouse, and the difference",
        *_table(["steps", "on history", "on empty", "difference"], rows),
    ]


def _memory_section(report: dict) -> list[str]:
    rows = [
        [phase, entry["status"], entry.get("seconds"), entry.get("peak_process_mb"), entry.get("peak_tree_pss_mb")]
        for phase, entry in report["phases"].items()
    ]
    return [
        "Peak memory per phase, MB: the largest process (ru_maxrss) and the whole process tree (PSS, sampled at 2 Hz)",
        *_table(["phase", "status", "seconds", "largest process", "process tree"], rows),
    ]


def _targets_section(report: dict) -> list[str]:
    rows = [[t["target"], t["value"], t["goal"], t["verdict"]] for t in report["summary"]["targets"]]
    return ["Targets", *_table(["target", "value", "goal", "verdict"], rows)]


def render(report: dict) -> str:
    sections = [
        _header(report),
        _recall_section(report),
        _competitor_section(report),
        _pipeline_section(report),
        _ingestion_section(report),
        _memory_section(report),
        _targets_section(report),
    ]
    failed = [f"  {name}: {entry['error']}" for name, entry in report["phases"].items() if entry["status"] == "failed"]
    if failed:
        sections.append(["FAILED PHASES:", *failed])
    if report["notes"]:
        sections.append(["Notes:", *(f"  {note}" for note in report["notes"])])
    return "\n\n".join("\n".join(section) for section in sections) + "\n"
