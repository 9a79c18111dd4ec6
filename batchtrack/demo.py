"""`make demo`: a sample landing zone, ingested end to end, then a tour of what came out."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import duckdb

from batchtrack.settings import Settings


def _print_ingest(report, title: str) -> None:
    by_feed: dict[str, list[int]] = {}
    for row in report.results:
        totals = by_feed.setdefault(row["feed"], [0, 0, 0])
        totals[0] += 1
        totals[1] += row["rows_loaded"]
        totals[2] += row["rows_quarantined"]
    print(f"\n{title}")
    print(f"  {'feed':<12} {'days':>5} {'rows loaded':>12} {'quarantined':>12}")
    for feed, (days, loaded, quarantined) in sorted(by_feed.items()):
        print(f"  {feed:<12} {days:>5} {loaded:>12,} {quarantined:>12,}")
    for error in report.rejected_files:
        print(f"  REJECTED {error}")


def apply_resend(landing: Path) -> list[str]:
    """Copy the generator's corrected files over their day folder, as a re-send would."""
    copied = []
    resend_root = landing / "_resend"
    for day_folder in sorted(resend_root.iterdir()) if resend_root.is_dir() else []:
        for source in sorted(day_folder.iterdir()):
            shutil.copyfile(source, landing / day_folder.name / source.name)
            copied.append(f"{day_folder.name}/{source.name}")
    return copied


def run_demo(days: int = 90, seed: int = 7) -> int:
    from batchtrack.generator import generate
    from pipelines.ingest_run import run_ingest

    base = Settings.from_env()
    demo_root = base.project_root / "data" / "demo"
    settings = Settings.from_env(
        warehouse=demo_root / "warehouse.duckdb", landing=demo_root / "landing", output=base.output
    )
    shutil.rmtree(demo_root, ignore_errors=True)
    started = time.perf_counter()

    print(f"1. generating {days} days of a sample plant network (scale small, seed {seed})")
    summary = generate(settings.landing, days=days, seed=seed, scale="small")
    generated = time.perf_counter()
    print(f"   {sum(summary.get('rows', {}).values()):,} rows in {generated - started:.1f} s -> {settings.landing}")

    print("2. ingesting every day through the Dagster job (raw -> dbt models -> publish)")
    report = run_ingest(settings)
    if not report.data_loaded:
        print(f"   the run failed: {report.failure}")
        return 1
    _print_ingest(report, f"   loaded in {time.perf_counter() - generated:.1f} s:")

    copied = apply_resend(settings.landing)
    if copied:
        print(f"\n3. a corrected re-send arrives ({', '.join(copied)}); ingesting again loads only that day")
        resend_started = time.perf_counter()
        again = run_ingest(settings)
        if not again.data_loaded:
            print(f"   the run failed: {again.failure}")
            return 1
        _print_ingest(again, f"   re-ingested in {time.perf_counter() - resend_started:.1f} s:")

    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        print("\n4. quarantined rows by reason (table quarantine):")
        reasons = con.execute(
            """
            select
                feed,
                regexp_replace(regexp_extract(reason, '^[^:(=''"]+'), ' -?[0-9][0-9.]*', '', 'g') as kind,
                count(*),
            from quarantine group by all order by 1, 2
            """
        ).fetchall()
        for feed, kind, count in reasons:
            print(f"   {feed:<12} {kind.strip():<45} {count:>5}")
        _print_recall_example(con, settings)
        _print_quality(con, settings)

    print(f"\ndone in {time.perf_counter() - started:.1f} s")
    print(f"  warehouse (open read-only): .venv/bin/duckdb -readonly {settings.warehouse}")
    print(f"  landing zone:               {settings.landing}")
    print(f"  Data Docs:                  {settings.output / 'quality' / 'data_docs' / 'index.html'}")
    print("  dashboards (open in a browser, they work offline):")
    print(f"  {settings.output / 'index.html'}")
    return 0


def _print_quality(con: duckdb.DuckDBPyConnection, settings: Settings) -> None:
    from quality_checks import format_findings, run_quality_checks

    print("\n6. quality checks (Great Expectations; every run's results are in table quality_findings):")
    summary = format_findings(run_quality_checks(con)).splitlines()
    for line in summary[:16]:
        print(f"   {line}")
    if len(summary) > 16:
        print(f"   ... ({len(summary) - 16} more lines: .venv/bin/batchtrack quality --warehouse {settings.warehouse})")
    print(f"   Data Docs: {settings.output / 'quality' / 'data_docs' / 'index.html'}")


def _print_recall_example(con: duckdb.DuckDBPyConnection, settings: Settings) -> None:
    manifest_path = settings.landing / "_generator.json"
    if not manifest_path.exists():
        return
    manifest = json.loads(manifest_path.read_text())
    example = manifest.get("recall_example") or {}
    lot = example.get("lot_code")
    has_macros = con.execute(
        "select count(*) from duckdb_functions() where function_name = 'trace_forward'"
    ).fetchone()[0]
    if not lot or not has_macros:
        return
    print(
        f"\n5. recall: supplier {example.get('supplier_code')} reports its lot {example.get('supplier_lot_code')} "
        f"contaminated; we received it as lot {lot}"
    )
    affected = con.execute("select count(*) from trace_forward(?)", [lot]).fetchone()[0]
    shipments = con.execute(
        "select count(*), count(distinct customer_code), coalesce(sum(quantity), 0) from recall_shipments(?)", [lot]
    ).fetchone()
    on_hand = con.execute(
        "select count(*), coalesce(sum(quantity_on_hand), 0) from recall_on_hand(?)", [lot]
    ).fetchone()
    print(f"   {affected} lots made from it (itself included)")
    print(f"   {shipments[0]} shipment lines to {shipments[1]} customers, {shipments[2]:,.1f} units shipped")
    print(f"   {on_hand[0]} stock positions still holding {on_hand[1]:,.1f} units")
    print(f"   full answer: .venv/bin/batchtrack recall '{lot}' --warehouse {settings.warehouse}")
