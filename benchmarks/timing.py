"""Warm per-lot timing and the percentiles every latency figure is reported with."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def time_warm(run: Callable[[str], int], lots: list[str], repeats: int) -> tuple[dict[str, float], dict[str, int]]:
    """Per lot: the median milliseconds of `repeats` runs after one warm-up pass over all lots,
    and the rows `run` returned (from the warm-up)."""
    rows = {lot: run(lot) for lot in lots}
    samples: dict[str, list[float]] = {lot: [] for lot in lots}
    for _ in range(repeats):
        for lot in lots:
            started = time.perf_counter()
            run(lot)
            samples[lot].append((time.perf_counter() - started) * 1000)
    return {lot: statistics.median(values) for lot, values in samples.items()}, rows


def time_once(run: Callable[[str], int], lots: list[str]) -> tuple[dict[str, float], dict[str, int]]:
    """Per lot: the milliseconds of a single run, and its rows. For engines whose traces take
    seconds (the plain recursive CTE on large), where a warm-up would change nothing but the
    length of the benchmark."""
    times: dict[str, float] = {}
    rows: dict[str, int] = {}
    for lot in lots:
        started = time.perf_counter()
        rows[lot] = run(lot)
        times[lot] = (time.perf_counter() - started) * 1000
    return times, rows


def percentiles(values: list[float]) -> dict[str, float] | None:
    """p50 and p95 (linear interpolation between the closest ranks), or None for no values."""
    if not values:
        return None
    if len(values) == 1:
        return {"p50": values[0], "p95": values[0], "n": 1}
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return {"p50": statistics.median(values), "p95": cuts[94], "n": len(values)}
