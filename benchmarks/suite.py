"""The order of the phases, what is cached between runs, and what a failed phase leaves."""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from benchmarks import dataset
from benchmarks.child import PhaseFailed, run_phase
from benchmarks.config import BenchConfig
from benchmarks.latency import pick_lots
from benchmarks.machine import machine_info
from benchmarks.snapshot import snapshot_source

# Benchmark runs use a throwaway Dagster instance, never the one behind `make dev`'s UI.
CHILD_ENV = {name: value for name, value in os.environ.items() if name != "DAGSTER_HOME"}


class Suite:
    def __init__(self, config: BenchConfig, on_phase: Callable[[dict], object] | None = None):
        self.config = config
        # Called with the report after every phase, so a run that stops keeps its figures.
        self.on_phase = on_phase or (lambda report: None)
        self.source = snapshot_source(config.dataset_dir / "source")
        self.stamp = dataset.wanted_stamp(config.scale, config.days, config.seed, self.source)
        self.report: dict = {
            "config": {
                "scale": config.scale,
                "days": config.days,
                "seed": config.seed,
                "dataset": str(config.dataset_dir),
                "lots_per_set": config.lots_per_set,
                "hub_lots_per_set": config.hub_lots_per_set,
                "warm_repeats": config.warm_repeats,
            },
            "machine": machine_info(),
            "phases": {},
            "notes": [],
        }

    # -- bookkeeping -------------------------------------------------------------------------

    def note(self, text: str) -> None:
        print(f"note: {text}")
        self.report["notes"].append(text)

    def phase(self, name: str, child_phase: str, params: dict) -> dict | None:
        """Run one measured phase; a failure is printed and recorded, and the run goes on."""
        print(f"== {name}")
        try:
            outcome = run_phase(child_phase, params, source=self.source, env=CHILD_ENV)
        except PhaseFailed as failure:
            print(f"!! phase {name} failed: {failure.reason}")
            self.report["phases"][name] = {"status": "failed", "error": failure.reason}
            self.on_phase(self.report)
            return None
        result = outcome["result"]
        status = "skipped" if isinstance(result, dict) and "skipped" in result else "ok"
        if status == "skipped":
            print(f"-- phase {name} skipped: {result['skipped']}")
        self.report["phases"][name] = {"status": status, **outcome}
        self.on_phase(self.report)
        return result

    def skipped(self, name: str, reason: str) -> None:
        print(f"-- phase {name} skipped: {reason}")
        self.report["phases"][name] = {"status": "skipped", "reason": reason}

    # -- phases ------------------------------------------------------------------------------

    def guarded(self, step: str, action, *args):
        """Run a step's own (parent-side) work; an error in it is recorded like a failed phase."""
        try:
            return action(*args)
        except Exception as error:
            reason = f"{type(error).__name__}: {error}"
            print(f"!! {step} failed: {reason}")
            self.report["phases"][f"{step} (setup)"] = {"status": "failed", "error": reason}
            return None

    def run(self) -> dict:
        started = time.perf_counter()
        if self.guarded("generate", self.ensure_landing):
            days = dataset.landing_days(self.config.landing)
            self.report["config"]["landing_days"] = [days[0].isoformat(), days[-1].isoformat()]
            warehouse = self.config.dataset_dir / "full" / "warehouse.duckdb"
            # The recall figures matter most, so they come before the long ingestion phases.
            if "pipeline" in self.config.phases:
                ready = self.guarded("pipeline", self.pipeline, days)
            else:
                ready = warehouse.is_file()
            if {"recall", "competitors"} & set(self.config.phases):
                if ready:
                    self.guarded("recall", self.latency, warehouse)
                else:
                    self.skipped("recall", f"no complete warehouse at {warehouse}")
            if "ingestion" in self.config.phases:
                self.guarded("ingestion", self.ingestion)
        self.report["total_seconds"] = time.perf_counter() - started
        return self.report

    def ensure_landing(self) -> bool:
        config = self.config
        status = dataset.landing_status(config.landing, self.stamp)
        self.report["config"]["landing_status"] = status
        if status == "adopted":
            self.note(f"adopted the unstamped landing zone at {config.landing} (its _generator.json matches)")
        if status != "missing":
            print(f"== generate: {status} ({config.landing})")
            return True
        if "generate" not in config.phases:
            self.skipped("generate", f"no cached landing zone at {config.landing} and the generate phase is off")
            return False
        params = {"landing": str(config.landing), "scale": config.scale, "days": config.days, "seed": config.seed}
        return self.phase("generate", "generate", {**params, "stamp": self.stamp}) is not None

    def ingestion(self) -> None:
        scratch = self.config.dataset_dir / "scratch"
        warmed = dataset.warm_page_cache(self.config.landing)
        self.note(f"read all {warmed / 2**20:,.0f} MiB of landing files once before ingestion (warm OS page cache)")
        try:
            self.phase(
                "ingest_raw",
                "ingest_raw",
                {"landing": str(self.config.landing), "database": str(scratch / "bench_ingest.duckdb")},
            )
            self.phase(
                "ingest_yardstick",
                "ingest_yardstick",
                {"landing": str(self.config.landing), "database": str(scratch / "bench_read_csv.duckdb")},
            )
        finally:
            shutil.rmtree(scratch, ignore_errors=True)

    def pipeline(self, days) -> bool:
        """The three pipeline runs; True when the full warehouse (every day) is built."""
        root, landing = self.config.dataset_dir, self.config.landing
        history, full = root / "history", root / "full"
        _reset(full)
        key = dataset.warehouse_key(self.stamp, self.source)
        saved_path = history / "result.json"
        saved = json.loads(saved_path.read_text()) if saved_path.is_file() else None
        if not self.config.rebuild and saved and saved["key"] == key and (history / "warehouse.duckdb").is_file():
            self.report["phases"]["pipeline_history"] = {**saved["phase"], "status": "cached"}
            self.note(
                f"full-history warehouse reused from {history} (built {saved['measured_at']} with the same code and "
                "data; its timing is from then; --rebuild measures it again)"
            )
            # back where it was built (a fresh build below stays where it is)
            for name in KEPT_WITH_WAREHOUSE:
                if (history / name).is_file():
                    shutil.copyfile(history / name, full / name)
        else:
            # Built where the extra day runs, then kept in history/: the day then finds the
            # warehouse at the path it was built at, with what a daily run finds beside it
            # (dbt's parse state, which names the working file's path).
            _reset(history)
            dataset.link_days(full / "landing", landing, days[:-1])
            if self.phase("pipeline_history", "pipeline_run", _pipeline_params(full)) is None:
                return False
            for name in KEPT_WITH_WAREHOUSE:
                if (full / name).is_file():
                    shutil.copyfile(full / name, history / name)
            saved = {
                "key": key,
                "measured_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
                "phase": self.report["phases"]["pipeline_history"],
            }
            saved_path.write_text(json.dumps(saved, indent=1) + "\n")

        dataset.link_days(full / "landing", landing, days)
        _settle_disk()
        incremental = self.phase("pipeline_incremental_day", "pipeline_run", _pipeline_params(full))

        last_day = root / "last_day"
        _reset(last_day)
        dataset.link_days(last_day / "landing", landing, days[-1:])
        _settle_disk()
        self.phase("pipeline_empty_warehouse_day", "pipeline_run", _pipeline_params(last_day))
        return incremental is not None

    def latency(self, warehouse: Path) -> None:
        config = self.config
        picked = pick_lots(warehouse, config.lots_per_set, config.hub_lots_per_set, config.seed)
        self.report["lots"] = picked
        lots = {name: entry["lots"] for name, entry in picked.items()}
        common = {"lots": lots, "repeats": config.warm_repeats}
        if "recall" in config.phases:
            self.phase("recall", "recall", {**common, "warehouse": str(warehouse)})
        if "competitors" not in config.phases:
            return
        competitors = config.dataset_dir / "competitors"
        edges = {"edges_db": str(competitors / "edges.duckdb"), "csv_dir": str(competitors / "csv")}
        if self.phase("competitor_edges", "edges", {**edges, "warehouse": str(warehouse)}) is None:
            return
        self.phase("competitor_duckdb_cte", "duckdb_cte", {**common, **edges})
        if config.skip_postgres:
            self.skipped("competitor_postgres", "--skip-postgres")
        else:
            self.phase("competitor_postgres", "postgres", {**common, **edges})
        self.phase("competitor_python_bfs", "python_bfs", {**common, **edges})


def _settle_disk() -> None:
    """Write out the dirty pages the bench's own copies left (the history copied into or out of
    the cache, 4.2 GB at `large`) before a timed daily run. A daily run starts long after the
    last one wrote its file; here, without this, the run's own copy of the warehouse meets the
    kernel's limit on dirty pages and is slowed to the disk's write speed by the bench's copy.
    The run's own copy stays in its time."""
    os.sync()


def _reset(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)


# The warehouse file and what the pipeline keeps beside it between runs (Warehouse.dbt_parse_state).
KEPT_WITH_WAREHOUSE = ("warehouse.duckdb", ".warehouse.duckdb.dbt_partial_parse.msgpack")


def _pipeline_params(folder: Path) -> dict:
    return {
        "warehouse": str(folder / "warehouse.duckdb"),
        "landing": str(folder / "landing"),
        "output": str(folder / "output"),
    }
