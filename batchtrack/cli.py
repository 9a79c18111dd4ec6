"""The `batchtrack` command line."""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from datetime import date
from pathlib import Path

from batchtrack.settings import Settings


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from error


def _add_warehouse(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--warehouse",
        metavar="FILE",
        help="the warehouse readers open (default: $BATCHTRACK_WAREHOUSE or data/warehouse.duckdb)",
    )


def _add_landing(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--landing",
        metavar="DIR",
        help="landing root with one folder per day (default: $BATCHTRACK_LANDING or data/landing)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="batchtrack", description="Batch (lot) traceability warehouse.")
    commands = parser.add_subparsers(dest="command", required=True)

    generate = commands.add_parser("generate", help="write a realistic sample landing zone")
    generate.add_argument("--days", type=int, default=90)
    generate.add_argument("--seed", type=int, default=7)
    generate.add_argument("--scale", choices=("small", "medium", "large"), default="small")
    generate.add_argument("--start-date", type=_day, default=date(2026, 6, 1))
    generate.add_argument("--bad-row-rate", type=float, default=0.002)
    _add_landing(generate)

    ingest = commands.add_parser(
        "ingest", help="load new or changed landing days, rebuild the models, publish the warehouse"
    )
    ingest.add_argument("--date", type=_day, help="load this day again, changed or not")
    ingest.add_argument("--verbose", action="store_true", help="show the Dagster run's log as it goes")
    ingest.add_argument(
        "--output", metavar="DIR", help="dashboards, Data Docs and logs (default: $BATCHTRACK_OUTPUT or output/)"
    )
    _add_warehouse(ingest)
    _add_landing(ingest)

    recall = commands.add_parser("recall", help="the recall scope of a lot: lots, shipments, customers, stock")
    recall.add_argument("lot", metavar="LOT", help="the lot code (quote it in the shell if it has odd characters)")
    recall.add_argument("--backward", action="store_true", help="the lots and suppliers it came from instead")
    recall.add_argument("--format", choices=("table", "csv", "json"), default="table")
    recall.add_argument("--report", metavar="FILE", help="write the recall page (HTML, works offline)")
    recall.add_argument("--notify", metavar="FILE", help="write the notification list, one row per customer (CSV)")
    recall.add_argument(
        "--fsma204",
        metavar="FILE",
        help="write the FDA Food Traceability Rule's key data elements of every affected lot (CSV)",
    )
    _add_warehouse(recall)

    quality = commands.add_parser("quality", help="what the quality checks find, most serious first")
    quality.add_argument(
        "--date", type=_day, help="check the rows delivered on this landing day now (default: the latest findings)"
    )
    _add_warehouse(quality)

    reports = commands.add_parser("reports", help="draw the dashboards again from the published warehouse")
    _add_warehouse(reports)
    reports.add_argument("--output", metavar="DIR", help="where the pages go (default: $BATCHTRACK_OUTPUT or output/)")

    demo = commands.add_parser("demo", help="generate sample data, ingest it, and show what came out")
    demo.add_argument("--days", type=int, default=90)
    demo.add_argument("--seed", type=int, default=7)
    return parser


def cmd_generate(args: argparse.Namespace) -> int:
    from batchtrack.generator import generate

    settings = Settings.from_env(landing=args.landing)
    summary = generate(
        settings.landing,
        days=args.days,
        seed=args.seed,
        scale=args.scale,
        start_date=args.start_date,
        bad_row_rate=args.bad_row_rate,
    )
    rows = summary.get("rows", {})
    print(f"wrote {summary.get('days', args.days)} day folders to {settings.landing}")
    for feed, count in sorted(rows.items()):
        print(f"  {feed:<12} {count:>12,} rows")
    return 0


def cmd_ingest(args: argparse.Namespace) -> int:
    from pipelines.ingest_run import run_ingest

    settings = Settings.from_env(warehouse=args.warehouse, landing=args.landing, output=args.output)
    try:
        report = run_ingest(settings, day=args.date, log_level="INFO" if args.verbose else "WARNING")
    except FileNotFoundError as error:
        print(f"batchtrack ingest: {error}", file=sys.stderr)
        return 1
    if not report.days_requested and not report.outside_partitions:
        print(f"no new or changed day folders under {settings.landing}; rebuilding the models")
    if report.results:
        print(f"{'day':<10}  {'file':<32} {'status':<9} {'loaded':>10} {'quarantined':>11}")
        for row in report.results:
            names = ", ".join(name.split("/", 1)[1] for name in row["files"]) or f"({row['feed']})"
            print(
                f"{row['day']:<10}  {names:<32} {row['status']:<9} {row['rows_loaded']:>10,} "
                f"{row['rows_quarantined']:>11,}"
            )
        loaded = sum(row["rows_loaded"] for row in report.results)
        quarantined = sum(row["rows_quarantined"] for row in report.results)
        days = len({row["day"] for row in report.results})
        print(f"{days} day(s): {loaded:,} rows loaded, {quarantined:,} quarantined (see table quarantine)")
    for error in report.rejected_files:
        print(f"REJECTED {error}", file=sys.stderr)
    for day in report.outside_partitions:
        print(
            f"NOT LOADED {day.isoformat()}: outside the landing-day partitions (set BATCHTRACK_FIRST_DAY)",
            file=sys.stderr,
        )
    if not report.published:
        print(f"batchtrack ingest: the run failed: {report.failure}", file=sys.stderr)
        print(f"the published warehouse {settings.warehouse} is unchanged", file=sys.stderr)
        if report.failure and "asset check failed" in report.failure:
            print(
                "a structural check failed; the Dagster UI (make dev) shows the failing columns on the asset",
                file=sys.stderr,
            )
        if report.log_file:
            print(f"dbt's output of the run: {report.log_file}", file=sys.stderr)
        return 1
    print(f"warehouse published: {settings.warehouse}")
    if report.success:
        print(f"dashboards: {settings.output / 'index.html'}")
    else:
        print(f"warning: a step after publishing failed: {report.failure}", file=sys.stderr)
    return 0 if report.data_loaded else 1


def cmd_recall(args: argparse.Namespace) -> int:
    import duckdb

    from batchtrack.recall import UnknownLot, recall_scope
    from batchtrack.recall_output import write_recall
    from batchtrack.recall_reports import fsma204_kdes, notification_list, write_fsma204, write_notification_list
    from batchtrack.warehouse import Warehouse

    settings = Settings.from_env(warehouse=args.warehouse)
    if args.backward and (args.notify or args.fsma204 or args.report):
        print(
            "batchtrack recall: --notify, --fsma204 and --report go with a forward recall, not --backward",
            file=sys.stderr,
        )
        return 2
    try:
        with Warehouse(settings.warehouse).open_readonly() as con:
            scope = recall_scope(con, args.lot, backward=args.backward)
            if args.notify:
                path = write_notification_list(notification_list(con, args.lot), args.notify)
                print(f"notification list: {path}", file=sys.stderr)
            if args.fsma204:
                path = write_fsma204(fsma204_kdes(con, args.lot), args.fsma204)
                print(f"FSMA 204 key data elements: {path}", file=sys.stderr)
            if args.report:
                from dashboards import build_recall_report

                path = build_recall_report(con, args.lot, Path(args.report))
                print(f"recall report: {path}", file=sys.stderr)
    except FileNotFoundError as error:
        print(f"batchtrack recall: {error}", file=sys.stderr)
        return 1
    except UnknownLot:
        print(f"batchtrack recall: lot {args.lot!r} is not in the warehouse {settings.warehouse}", file=sys.stderr)
        return 1
    except RuntimeError as error:  # e.g. .xlsx asked for without an xlsx writer
        print(f"batchtrack recall: {error}", file=sys.stderr)
        return 1
    except duckdb.CatalogException as error:
        print(
            f"batchtrack recall: {settings.warehouse} has no recall macros yet ({error}); run `batchtrack ingest`",
            file=sys.stderr,
        )
        return 1
    write_recall(scope, args.format, sys.stdout)
    return 0


def cmd_quality(args: argparse.Namespace) -> int:
    from batchtrack.warehouse import Warehouse
    from quality_checks import current_results, format_findings, has_errors, run_quality_checks

    settings = Settings.from_env(warehouse=args.warehouse)
    try:
        with Warehouse(settings.warehouse).open_readonly() as con:
            # Without --date: the latest result of every check and day, from the recorded runs
            # and a check of any day changed since, so a long history is not checked again.
            results = run_quality_checks(con, day=args.date) if args.date else current_results(con)
    except FileNotFoundError as error:
        print(f"batchtrack quality: {error}", file=sys.stderr)
        return 1
    print(format_findings(results))
    return 1 if has_errors(results) else 0


def cmd_reports(args: argparse.Namespace) -> int:
    from batchtrack.warehouse import Warehouse
    from dashboards import build_dashboards
    from dashboards.queries import ModelMissing

    settings = Settings.from_env(warehouse=args.warehouse, output=args.output)
    try:
        with Warehouse(settings.warehouse).open_readonly() as con:
            pages = build_dashboards(con, settings.output)
    except (FileNotFoundError, ModelMissing) as error:
        print(f"batchtrack reports: {error}", file=sys.stderr)
        return 1
    for name, path in pages.items():
        print(f"{name:<14} {path}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from batchtrack.demo import run_demo

    return run_demo(days=args.days, seed=args.seed)


COMMANDS = {
    "generate": cmd_generate,
    "ingest": cmd_ingest,
    "recall": cmd_recall,
    "quality": cmd_quality,
    "reports": cmd_reports,
    "demo": cmd_demo,
}


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    # Dagster's notes about its own beta parameters mean nothing to a person running us.
    warnings.filterwarnings("ignore", message=".*is currently in beta")
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except BrokenPipeError:  # `batchtrack recall X | head`: the reader has all it wants
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
