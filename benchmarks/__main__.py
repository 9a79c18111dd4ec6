"""`python -m benchmarks` (`make bench`): run the suite, print the table, write bench.json and bench.txt."""

from __future__ import annotations

import argparse
import json
import sys

from batchtrack.generator import SCALES
from benchmarks.config import DEFAULT_DAYS, DEFAULT_SCALE, DEFAULT_SEED, PHASES, BenchConfig
from benchmarks.render import render
from benchmarks.report import summarize
from benchmarks.suite import Suite


def parse_args(argv: list[str]) -> BenchConfig:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--scale", choices=sorted(SCALES), default=DEFAULT_SCALE)
    parser.add_argument("--days", type=int, default=DEFAULT_DAYS)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--lots", type=int, default=50, help="lots per set (raw, finished); default 50")
    parser.add_argument("--skip-postgres", action="store_true", help="leave PostgreSQL out of the competitors")
    parser.add_argument("--rebuild", action="store_true", help="build the full-history warehouse again even if cached")
    parser.add_argument(
        "--phases",
        default=",".join(PHASES),
        help=f"comma-separated subset of {','.join(PHASES)} (default: all)",
    )
    args = parser.parse_args(argv)
    phases = tuple(name.strip() for name in args.phases.split(",") if name.strip())
    unknown = sorted(set(phases) - set(PHASES))
    if unknown:
        parser.error(f"unknown phase(s): {', '.join(unknown)}")
    if args.days < 2:
        parser.error("--days must be at least 2 (the last day is loaded on its own)")
    return BenchConfig(
        scale=args.scale,
        days=args.days,
        seed=args.seed,
        lots_per_set=args.lots,
        skip_postgres=args.skip_postgres,
        rebuild=args.rebuild,
        phases=phases,
    )


def write_report(config: BenchConfig, report: dict) -> str:
    report["summary"] = summarize(report)
    text = render(report)
    config.output_dir.mkdir(parents=True, exist_ok=True)
    (config.output_dir / "bench.json").write_text(json.dumps(report, indent=1, default=str) + "\n")
    (config.output_dir / "bench.txt").write_text(text)
    return text


def main(argv: list[str] | None = None) -> int:
    config = parse_args(sys.argv[1:] if argv is None else argv)
    suite = Suite(config, on_phase=lambda report: write_report(config, report))
    try:
        report = suite.run()
    except KeyboardInterrupt:
        # A run of an hour stopped half-way keeps what it measured.
        suite.note("interrupted: the phases after the last one shown were not run")
        report = suite.report
    text = write_report(config, report)
    print()
    print(text, end="")
    print(f"written: {config.output_dir / 'bench.json'}, {config.output_dir / 'bench.txt'}")
    failed = [name for name, entry in report["phases"].items() if entry["status"] == "failed"]
    return 1 if failed or report["summary"]["answer_mismatches"] else 0


if __name__ == "__main__":
    sys.exit(main())
