"""The generated landing zone the benchmark runs on, cached under benchmarks/cache/, and the
views of it that the pipeline phases load (all days but the last, all days, the last day)."""

from __future__ import annotations

import hashlib
import json
import shutil
from datetime import date
from pathlib import Path

from batchtrack.generator import MANIFEST_NAME, generate
from batchtrack.ingestion import day_folders
from benchmarks.snapshot import generator_hash, pipeline_hash

STAMP_NAME = "landing.stamp.json"


def warehouse_key(stamp: dict, source: Path) -> str:
    """What a cached warehouse was built from: the pipeline's code and the landing zone."""
    return hashlib.sha256((pipeline_hash(source) + json.dumps(stamp, sort_keys=True)).encode()).hexdigest()


def wanted_stamp(scale: str, days: int, seed: int, source: Path) -> dict:
    return {"scale": scale, "days": days, "seed": seed, "generator_hash": generator_hash(source)}


def landing_status(landing: Path, stamp: dict) -> str:
    """'cached' when the landing zone was generated with `stamp`; 'adopted' when it has no stamp
    but its generator manifest has the same parameters (the stamp is then written); else 'missing'."""
    stamp_path = landing.parent / STAMP_NAME
    if stamp_path.is_file() and json.loads(stamp_path.read_text()) == stamp and (landing / MANIFEST_NAME).is_file():
        return "cached"
    manifest_path = landing / MANIFEST_NAME
    if not stamp_path.is_file() and manifest_path.is_file():
        manifest = json.loads(manifest_path.read_text())
        if all(manifest.get(key) == stamp[key] for key in ("scale", "days", "seed")):
            stamp_path.write_text(json.dumps(stamp, indent=1) + "\n")
            return "adopted"
    return "missing"


def generate_landing(params: dict) -> dict:
    """Child phase: generate the landing zone from scratch, then stamp it."""
    landing = Path(params["landing"])
    shutil.rmtree(landing, ignore_errors=True)
    (landing.parent / STAMP_NAME).unlink(missing_ok=True)
    summary = generate(landing, days=params["days"], seed=params["seed"], scale=params["scale"])
    (landing.parent / STAMP_NAME).write_text(json.dumps(params["stamp"], indent=1) + "\n")
    return {"days": summary["days"], "rows": summary["rows"], "files": summary["files"]}


def landing_days(landing: Path) -> list[date]:
    return sorted(day_folders(landing))


def link_days(target: Path, landing: Path, days: list[date]) -> Path:
    """A landing folder at `target` holding symlinks to the given day folders of `landing`
    (the re-send folder is left out: every day is loaded as first delivered)."""
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    for day in days:
        (target / day.isoformat()).symlink_to(landing / day.isoformat(), target_is_directory=True)
    return target


def warm_page_cache(landing: Path) -> int:
    """Read every landing file once, so no ingestion phase pays for the first read from disk."""
    total = 0
    for path in landing.rglob("*"):
        if path.is_file():
            with path.open("rb") as handle:
                while block := handle.read(1 << 22):
                    total += len(block)
    return total
