"""Run one benchmark phase in a child process and measure its peak memory.

    python -m benchmarks.child PHASE PARAMS_JSON RESULT_JSON

Peak memory is measured two ways: the largest single process of the phase's process tree
(ru_maxrss from wait4, which covers the descendants the child waited for, e.g. dbt), and the
sum of the proportional set size (PSS) of the whole tree, sampled twice a second, which also
covers processes running side by side (a PostgreSQL server and its backends).
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path

PHASE_FUNCTIONS = {
    "generate": "benchmarks.dataset:generate_landing",
    "ingest_raw": "benchmarks.ingestion:ingest_raw",
    "ingest_yardstick": "benchmarks.ingestion:read_csv_yardstick",
    "pipeline_run": "benchmarks.pipeline:pipeline_run",
    "recall": "benchmarks.latency:measure_macros",
    "edges": "benchmarks.competitors:extract_edges",
    "duckdb_cte": "benchmarks.competitors:measure_duckdb_cte",
    "python_bfs": "benchmarks.competitors:measure_python_bfs",
    "postgres": "benchmarks.postgres:measure_postgres",
}
SAMPLE_SECONDS = 0.5


class PhaseFailed(RuntimeError):
    def __init__(self, phase: str, reason: str):
        super().__init__(f"phase {phase} failed: {reason}")
        self.phase = phase
        self.reason = reason


def _children(pid: int) -> list[int]:
    found = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as handle:
                found.extend(int(child) for child in handle.read().split())
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        pass
    return found


def _pss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as handle:
            for line in handle:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        pass
    return 0


class TreeMemorySampler(threading.Thread):
    """The peak of the summed PSS of a process and all its descendants."""

    def __init__(self, root_pid: int):
        super().__init__(daemon=True)
        self.root_pid = root_pid
        self.peak_kb = 0
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.is_set():
            pending, total = [self.root_pid], 0
            while pending:
                pid = pending.pop()
                total += _pss_kb(pid)
                pending.extend(_children(pid))
            self.peak_kb = max(self.peak_kb, total)
            self._done.wait(SAMPLE_SECONDS)

    def stop(self) -> None:
        self._done.set()
        self.join()


def run_phase(phase: str, params: dict, *, source: Path, env: dict | None = None) -> dict:
    """Run `phase` in a child process started in the `source` folder (a snapshot of the
    project's code); its result, wall time and peak memory. Raises PhaseFailed."""
    with tempfile.TemporaryDirectory(prefix=f"bench-{phase}-") as scratch:
        params_path, result_path = Path(scratch) / "params.json", Path(scratch) / "result.json"
        params_path.write_text(json.dumps(params))
        started = time.perf_counter()
        child = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.child", phase, str(params_path), str(result_path)], cwd=source, env=env
        )
        sampler = TreeMemorySampler(child.pid)
        sampler.start()
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
        sampler.stop()
        seconds = time.perf_counter() - started
        outcome = json.loads(result_path.read_text()) if result_path.is_file() else {}
    if "error" in outcome or child.returncode != 0:
        raise PhaseFailed(phase, outcome.get("error") or f"child process exited with status {child.returncode}")
    return {
        "seconds": seconds,
        "peak_process_mb": usage.ru_maxrss / 1024,
        "peak_tree_pss_mb": sampler.peak_kb / 1024,
        "result": outcome["result"],
    }


def main(phase: str, params_path: str, result_path: str) -> int:
    module_name, function_name = PHASE_FUNCTIONS[phase].split(":")
    params = json.loads(Path(params_path).read_text())
    try:
        result = getattr(importlib.import_module(module_name), function_name)(params)
    except Exception as error:
        traceback.print_exc()
        Path(result_path).write_text(json.dumps({"error": f"{type(error).__name__}: {error}"}))
        return 1
    Path(result_path).write_text(json.dumps({"result": result}))
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
