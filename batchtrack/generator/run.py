"""The generator's entry point: simulate day by day, write each day folder, then the manifest.

Only the current day's rows are held in memory; each day folder is written before the
next day is simulated.
"""

from __future__ import annotations

import json
import random
from datetime import date, timedelta
from pathlib import Path

from batchtrack.feeds import FEEDS
from batchtrack.generator.catalogue import BAD_SUPPLIER_MATERIALS, PRODUCTS_BY_CODE
from batchtrack.generator.faults import GUARANTEED, KINDS, FaultInjector
from batchtrack.generator.formats import MILLI, quantity_milli, quantity_text
from batchtrack.generator.masterdata import MasterData
from batchtrack.generator.network import SCALES, build_network
from batchtrack.generator.simulation import Simulation
from batchtrack.generator.writers import write_csv, write_parquet

MANIFEST_NAME = "_generator.json"
RESEND_FOLDER = "_resend"
PARQUET_EVERY = 10  # every 10th day ships shipments.parquet instead of shipments.csv


def is_parquet_day(index: int) -> bool:
    return index % PARQUET_EVERY == PARQUET_EVERY - 1


def generate(
    landing: Path,
    *,
    days: int,
    seed: int,
    scale: str = "small",
    start_date: date = date(2026, 6, 1),
    bad_row_rate: float = 0.002,
) -> dict:
    """Write `days` day folders of sample feeds under `landing`, plus `_generator.json`.

    Same arguments, same bytes. Returns a summary: days written, rows per feed, paths.
    """
    if days < 1:
        raise ValueError("days must be at least 1")
    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r} (expected one of: {', '.join(SCALES)})")
    if not 0 <= bad_row_rate < 1:
        raise ValueError("bad_row_rate must be in [0, 1)")
    landing = Path(landing)
    landing.mkdir(parents=True, exist_ok=True)

    network = build_network(SCALES[scale], random.Random(f"batchtrack-network-{seed}"))
    simulation = Simulation(network, seed=seed, days=days, start_date=start_date)
    master = MasterData(network, seed)
    faults = FaultInjector(seed, bad_row_rate)
    edit_rng = random.Random(f"batchtrack-resend-{seed}")

    # Spread the guaranteed bad-row kinds over the run, from day 2 (when DCs have shipped).
    guaranteed: dict[int, list[tuple[str, str]]] = {}
    if bad_row_rate > 0:
        for number, item in enumerate(GUARANTEED):
            guaranteed.setdefault(min(days - 1, 1 + number * max(1, days - 2) // len(GUARANTEED)), []).append(item)
    resend_index = days // 2 if days >= 2 else None
    if resend_index is not None and is_parquet_day(resend_index):
        resend_index += 1 if resend_index + 1 < days else -1

    good_rows = {feed.name: 0 for feed in FEEDS}
    bad_rows: list[dict] = []
    written: list[str] = []
    pending: list[tuple[str, str]] = []
    resend: dict | None = None
    for index in range(days):
        day_text = (start_date + timedelta(days=index)).isoformat()
        day_rows = simulation.run_day(index)
        day_rows.update(master.rows_for(index, day_text))
        pending.extend(guaranteed.get(index, []))
        corrected: dict[str, list[dict]] = {}
        if index == resend_index:
            resend, corrected = _plant_resend(day_rows, simulation, edit_rng, day_text)

        for feed in FEEDS:
            rows = day_rows.get(feed.name)
            if not rows:
                continue
            good_rows[feed.name] += len(rows)
            forced = [kind for kind, name in pending if name == feed.name]
            pending = [(kind, name) for kind, name in pending if name != feed.name]
            rows, injected = faults.inject(feed.name, rows, forced)
            pending.extend((kind, feed.name) for kind in forced)
            suffix = ".parquet" if feed.name == "shipments" and is_parquet_day(index) else ".csv"
            relative = f"{day_text}/{feed.name}{suffix}"
            (write_parquet if suffix == ".parquet" else write_csv)(landing / relative, feed.name, rows)
            written.append(relative)
            bad_rows.extend(
                {
                    "file": relative,
                    "line_number": bad.line_number,
                    "kind": bad.kind,
                    "column": bad.column,
                    "expected_reason": bad.reason_keyword,
                }
                for bad in injected
            )
        for feed_name, rows in corrected.items():
            relative = f"{RESEND_FOLDER}/{day_text}/{feed_name}.csv"
            write_csv(landing / relative, feed_name, rows)
            written.append(relative)

    end_date = start_date + timedelta(days=days - 1)
    manifest = _manifest(
        network,
        simulation,
        master,
        seed=seed,
        scale=scale,
        days=days,
        start_date=start_date,
        end_date=end_date,
        bad_row_rate=bad_row_rate,
        good_rows=good_rows,
        bad_rows=bad_rows,
        resend=resend,
        written=written,
        unplaced=pending,
    )
    manifest_path = landing / MANIFEST_NAME
    manifest_path.write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return {
        "landing": str(landing),
        "manifest": str(manifest_path),
        "days": days,
        "start_date": start_date.isoformat(),
        "end_date": end_date.isoformat(),
        "rows": good_rows,
        "bad_rows": len(bad_rows),
        "files": len(written),
        "paths": [str(landing / relative) for relative in written],
    }


def _plant_resend(day_rows, simulation: Simulation, rng: random.Random, day_text: str):
    """Make the day's first delivery wrong in three ways the corrected re-send fixes.

    The simulation's rows are the truth and go to `_resend/<day>/`; the first delivery
    over-reports one batch, under-reports one shipment line and carries an inspection keyed
    against the wrong lot. None of these can make stock negative in the first delivery.
    """
    changes: list[dict] = []
    corrected: dict[str, list[dict]] = {}
    production = day_rows.get("production", [])
    if production:
        corrected["production"] = [dict(row) for row in production]
        position = rng.randrange(len(production))
        row = dict(production[position])
        product = PRODUCTS_BY_CODE[row["product_code"]]
        truth = quantity_milli(row["quantity"])
        over = (
            truth + max(12 * MILLI, truth // 10 // (12 * MILLI) * 12 * MILLI)
            if product.whole_units
            else truth * 11 // 10
        )
        row["quantity"] = quantity_text(over, product.whole_units)
        production[position] = row
        changes.append(
            {
                "file": "production.csv",
                "change": "quantity corrected",
                "key": {"lot_code": row["lot_code"]},
                "original": row["quantity"],
                "corrected": corrected["production"][position]["quantity"],
            }
        )
    shipments = day_rows.get("shipments", [])
    halvable = [i for i, row in enumerate(shipments) if quantity_milli(row["quantity"]) >= 2 * MILLI]
    if halvable:
        corrected["shipments"] = [dict(row) for row in shipments]
        position = halvable[rng.randrange(len(halvable))]
        row = dict(shipments[position])
        product = PRODUCTS_BY_CODE[row["product_code"]]
        truth = quantity_milli(row["quantity"])
        row["quantity"] = quantity_text(truth // 2 // MILLI * MILLI, product.whole_units)
        shipments[position] = row
        changes.append(
            {
                "file": "shipments.csv",
                "change": "quantity corrected",
                "key": {"shipment_id": row["shipment_id"], "line_no": row["line_no"]},
                "original": row["quantity"],
                "corrected": corrected["shipments"][position]["quantity"],
            }
        )
    inspections = day_rows.get("inspections", [])
    lots = [row["lot_code"] for row in production]
    if inspections and len(set(lots)) > 1:
        corrected["inspections"] = [dict(row) for row in inspections]
        position = rng.randrange(len(inspections))
        row = dict(inspections[position])
        row["lot_code"] = next(lot for lot in lots[rng.randrange(len(lots)) :] + lots if lot != row["lot_code"])
        row["inspection_id"] = simulation.inspection_id(row["inspection_id"])
        inspections.insert(position + 1, row)
        changes.append(
            {
                "file": "inspections.csv",
                "change": "row removed (keyed against the wrong lot)",
                "key": {"inspection_id": row["inspection_id"]},
            }
        )
    resend = {
        "day": day_text,
        "folder": f"{RESEND_FOLDER}/{day_text}",
        "files": [f"{name}.csv" for name in corrected],
        "changes": changes,
        "note": "the re-send carries the true rows and no bad rows; copy it over the day folder to apply it",
    }
    return resend, corrected


def _manifest(
    network,
    simulation,
    master,
    *,
    seed,
    scale,
    days,
    start_date,
    end_date,
    bad_row_rate,
    good_rows,
    bad_rows,
    resend,
    written,
    unplaced,
) -> dict:
    story = simulation.story
    bad_supplier = network.bad_supplier
    recall = None
    if story.recall_example is not None:
        recall = {
            **story.recall_example,
            "downstream_lots": story.recall_downstream_lots,
            "downstream_sample": story.recall_downstream_sample,
            "shipment_lines": story.recall_shipment_lines,
            "customers": len(story.recall_customers),
        }
    kind_counts = {kind: 0 for kind in KINDS}
    for row in bad_rows:
        kind_counts[row["kind"]] += 1
    drifting = network.drifting_line
    return {
        "generator": "batchtrack.generator",
        "seed": seed,
        "scale": scale,
        "days": days,
        "start_date": start_date.isoformat(),
        "end_date": end_date.isoformat(),
        "bad_row_rate": bad_row_rate,
        "rows": good_rows,
        "network": {
            "plants": [
                {
                    "site_code": p.code,
                    "name": p.name,
                    "country": p.country,
                    "family": p.family,
                    "lines": [line.code for line in p.finished_lines + p.intermediate_lines],
                }
                for p in network.plants
            ],
            "dcs": [{"site_code": d.code, "name": d.name, "country": d.country} for d in network.dcs],
            "suppliers": len(network.suppliers),
            "customers": len(network.customers),
        },
        "bad_supplier": {
            "supplier_code": bad_supplier.code,
            "name": bad_supplier.name,
            "materials": list(BAD_SUPPLIER_MATERIALS),
            "effect": "lots made from its material, at any depth, fail MICRO and FOREIGN_BODY checks about 6x as often",
            "supplier_lot_codes": [lot["supplier_lot_code"] for lot in story.bad_supplier_lots],
            "lot_codes": [lot["lot_code"] for lot in story.bad_supplier_lots],
        },
        "drifting_line": {
            "site_code": drifting.site_code,
            "line_code": drifting.code,
            "checks": ["WEIGHT", "SEAL"],
            "effect": "defect probability grows from 1x on the first day to 8x on the last",
        },
        "recall_example": recall,
        "genealogy_loops": story.loops,
        "late_references": story.late_references,
        "resend": resend,
        "parquet_files": [path for path in written if path.endswith(".parquet")],
        "master_data_updates": master.updates,
        "bad_row_counts": kind_counts,
        "bad_rows_not_placed": [{"kind": kind, "feed": feed} for kind, feed in unplaced],
        "bad_rows": bad_rows,
    }
