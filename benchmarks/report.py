"""Figures, targets and answer checks from a run's raw measurements."""

from __future__ import annotations

from benchmarks.timing import percentiles

COMPETITORS = {
    "competitor_duckdb_cte": "DuckDB recursive CTE",
    "competitor_postgres": "PostgreSQL recursive CTE",
    "competitor_python_bfs": "Python BFS",
}
# The lot set each macro is judged on: forward from what a supplier reports, backward from
# what a customer complains about. The other set is measured and shown too.
PRIMARY_SET = {"trace_forward": "raw", "trace_backward": "finished", "recall_shipments": "raw"}
P50_TARGET_MS, P95_TARGET_MS, CTE_SPEEDUP_TARGET = 25.0, 250.0, 10.0
INCREMENTAL_RATIO_TARGET, INGEST_SHARE_TARGET, MEMORY_TARGET_MB = 2.0, 0.5, 4096.0
TARGET_SCALE, TARGET_EDGES = "large", 10_000_000
# The phases that run Batchtrack's own code: the memory target is theirs. The yardstick and the
# competing engines are measured and shown, not judged.
BATCHTRACK_PHASES = (
    "generate",
    "ingest_raw",
    "pipeline_history",
    "pipeline_incremental_day",
    "pipeline_empty_warehouse_day",
    "recall",
)


def phase_result(report: dict, phase: str) -> dict | None:
    entry = report["phases"].get(phase)
    return entry.get("result") if entry and entry["status"] in ("ok", "cached") else None


def _verdict(ok: bool | None) -> str:
    return "N/A" if ok is None else ("PASS" if ok else "MISS")


def latency_figures(report: dict) -> dict:
    """Per engine, macro and lot set: p50/p95 of the per-lot warm (and for ours, cold) times."""
    figures: dict[str, dict] = {}
    engines = {"ours": "recall", **{name: name for name in COMPETITORS}}
    for engine, phase in engines.items():
        result = phase_result(report, phase)
        if not result or "macros" not in result:
            continue
        for macro, sets in result["macros"].items():
            for set_name, measured in sets.items():
                entry = {"warm": percentiles(list(measured["warm_ms"].values()))}
                if "cold_ms" in measured:
                    entry["cold"] = percentiles(list(measured["cold_ms"].values()))
                    entry["cold_connect"] = percentiles(list(measured["cold_connect_ms"].values()))
                figures.setdefault(engine, {}).setdefault(macro, {})[set_name] = entry
    return figures


def engine_ratios(latency: dict) -> dict:
    """Per macro, lot set and competing engine: engine time / our time at p50 and p95 (above 1: ours is faster)."""
    ratios: dict[str, dict] = {}
    for macro, sets in latency.get("ours", {}).items():
        for set_name, entry in sets.items():
            for phase in COMPETITORS:
                other = latency.get(phase, {}).get(macro, {}).get(set_name, {}).get("warm")
                if other:
                    ratios.setdefault(macro, {}).setdefault(set_name, {})[phase] = {
                        key: other[key] / entry["warm"][key] if entry["warm"][key] else None for key in ("p50", "p95")
                    }
    return ratios


def answer_mismatches(report: dict) -> list[str]:
    """Every lot where an engine's row count differs from our macro's (or our cold from our warm)."""
    ours = phase_result(report, "recall")
    if not ours:
        return []
    problems = []
    for macro, sets in ours["macros"].items():
        for set_name, measured in sets.items():
            expected = measured["rows"]
            for lot, rows in measured["cold_rows"].items():
                if rows != expected[lot]:
                    problems.append(f"{macro}({lot}) ours cold {rows} rows, warm {expected[lot]}")
            for phase, label in COMPETITORS.items():
                other = phase_result(report, phase)
                if not other or "macros" not in other:
                    continue
                for lot, rows in other["macros"][macro][set_name]["rows"].items():
                    if rows != expected[lot]:
                        problems.append(f"{macro}({lot}) ours {expected[lot]} rows, {label} {rows}")
    return problems


def ingestion_figures(report: dict) -> dict | None:
    ours, yardstick = phase_result(report, "ingest_raw"), phase_result(report, "ingest_yardstick")
    if not ours or not yardstick:
        return None
    feeds, total = {}, {"rows": 0, "seconds": 0.0, "yardstick_rows": 0, "yardstick_seconds": 0.0}
    for feed, formats in ours["feeds"].items():
        csv = formats["csv"]
        variants = {name: v for name, v in yardstick["feeds"][feed]["csv"].items() if "seconds" in v and v["files"]}
        if not csv["files"] or not variants:
            continue
        variant, best = min(variants.items(), key=lambda item: item[1]["seconds"])
        feeds[feed] = {
            "files": csv["files"],
            "rows": csv["rows"],
            "quarantined": csv["quarantined"],
            "seconds": csv["seconds"],
            "rows_per_second": csv["rows"] / csv["seconds"],
            "yardstick_variant": variant,
            "yardstick_rows": best["rows"],
            "yardstick_seconds": best["seconds"],
            "yardstick_rows_per_second": best["rows"] / best["seconds"],
            "yardstick_errors": {
                name: v["error"] for name, v in yardstick["feeds"][feed]["csv"].items() if "error" in v
            },
        }
        total["rows"] += csv["rows"]
        total["seconds"] += csv["seconds"]
        total["yardstick_rows"] += best["rows"]
        total["yardstick_seconds"] += best["seconds"]
    total["rows_per_second"] = total["rows"] / total["seconds"] if total["seconds"] else None
    total["yardstick_rows_per_second"] = (
        total["yardstick_rows"] / total["yardstick_seconds"] if total["yardstick_seconds"] else None
    )
    parquet = {
        feed: {**formats["parquet"], "yardstick": yardstick["feeds"][feed]["parquet"].get("read_parquet")}
        for feed, formats in ours["feeds"].items()
        if formats["parquet"]["files"]
    }
    return {"csv_feeds": feeds, "csv_total": total, "parquet": parquet}


def targets(report: dict, latency: dict, ingestion: dict | None) -> list[dict]:
    rows: list[dict] = []

    def add(name: str, value: float | None, target: str, ok: bool | None) -> None:
        rows.append({"target": name, "value": value, "goal": target, "verdict": _verdict(ok)})

    ours = latency.get("ours", {})
    cte = latency.get("competitor_duckdb_cte", {})
    postgres_latency = latency.get("competitor_postgres", {})
    for macro in ("trace_forward", "trace_backward"):
        set_name = PRIMARY_SET[macro]
        warm = ours.get(macro, {}).get(set_name, {}).get("warm")
        p50, p95 = (warm["p50"], warm["p95"]) if warm else (None, None)
        add(
            f"{macro} warm p50 ms ({set_name} lots)",
            p50,
            f"<= {P50_TARGET_MS:g}",
            None if p50 is None else p50 <= P50_TARGET_MS,
        )
        add(
            f"{macro} warm p95 ms ({set_name} lots)",
            p95,
            f"<= {P95_TARGET_MS:g}",
            None if p95 is None else p95 <= P95_TARGET_MS,
        )
        other = cte.get(macro, {}).get(set_name, {}).get("warm")
        speedup = other["p50"] / p50 if other and p50 else None
        add(
            f"{macro} p50 speed-up vs DuckDB recursive CTE",
            speedup,
            f">= {CTE_SPEEDUP_TARGET:g}x",
            None if speedup is None else speedup >= CTE_SPEEDUP_TARGET,
        )
        postgres = postgres_latency.get(macro, {}).get(set_name, {}).get("warm")
        rows.append(
            {
                "target": f"{macro} p50 speed-up vs PostgreSQL recursive CTE",
                "value": postgres["p50"] / p50 if postgres and p50 else None,
                "goal": "reported",
                "verdict": "-",
            }
        )
    incremental = phase_result(report, "pipeline_incremental_day")
    empty = phase_result(report, "pipeline_empty_warehouse_day")
    ratio = incremental["seconds"] / empty["seconds"] if incremental and empty else None
    add(
        "one day on full history / on empty warehouse",
        ratio,
        f"<= {INCREMENTAL_RATIO_TARGET:g}x",
        None if ratio is None else ratio <= INCREMENTAL_RATIO_TARGET,
    )
    share = None
    if ingestion and ingestion["csv_total"]["rows_per_second"]:
        share = ingestion["csv_total"]["rows_per_second"] / ingestion["csv_total"]["yardstick_rows_per_second"]
    add(
        "CSV ingestion speed / DuckDB read_csv speed",
        share,
        f">= {INGEST_SHARE_TARGET:g}",
        None if share is None else share >= INGEST_SHARE_TARGET,
    )
    for phase, entry in report["phases"].items():
        if phase not in BATCHTRACK_PHASES:
            continue
        peak = _peak_mb(entry)
        add(
            f"peak memory MB: {phase}",
            peak,
            f"< {MEMORY_TARGET_MB:g}",
            None if peak is None else peak < MEMORY_TARGET_MB,
        )
    return rows


def _peak_mb(entry: dict) -> float | None:
    if "peak_process_mb" not in entry:
        return None
    return max(entry["peak_process_mb"], entry["peak_tree_pss_mb"])


def summarize(report: dict) -> dict:
    latency = latency_figures(report)
    ingestion = ingestion_figures(report)
    edges = phase_result(report, "competitor_edges")
    return {
        "latency": latency,
        "engine_ratios": engine_ratios(latency),
        "ingestion": ingestion,
        "answer_mismatches": answer_mismatches(report),
        "genealogy_edges": edges["edges"] if edges else None,
        "targets": targets(report, latency, ingestion),
    }
