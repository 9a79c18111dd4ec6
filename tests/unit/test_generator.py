"""The sample-data generator: deterministic, in the contract, and telling the stories it claims to.

Checks here read the generated files as a user of the landing zone would (polars over the
CSV and Parquet files) and compare them with the manifest `_generator.json`.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from pathlib import Path

import polars as pl
import pytest

from batchtrack.feeds import FEEDS_BY_NAME, MOVEMENT_TYPES
from batchtrack.generator import MANIFEST_NAME, RESEND_FOLDER, SCALES, generate

DAYS = 60
DAY_FOLDER = re.compile(r"^\d{4}-\d{2}-\d{2}$")
TRANSACTION_FEEDS = ("production", "consumption", "inspections", "inventory", "shipments")
ADDS = ("receipt", "transfer_in", "return")
REMOVES = ("transfer_out", "scrap", "expiry_writeoff")


@pytest.fixture(scope="module")
def landing(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("landing")
    generate(root, days=DAYS, seed=11, scale="small")
    return root


@pytest.fixture(scope="module")
def manifest(landing) -> dict:
    return json.loads((landing / MANIFEST_NAME).read_text(encoding="utf-8"))


def _read_text(path: Path) -> pl.DataFrame:
    if path.suffix == ".parquet":
        frame = pl.read_parquet(path)
        return frame.with_columns(pl.all().cast(pl.String))
    return pl.read_csv(path, infer_schema=False)


def _day_files(root: Path) -> list[Path]:
    return sorted(
        p for folder in root.iterdir() if folder.is_dir() and DAY_FOLDER.match(folder.name) for p in folder.iterdir()
    )


def _good_rows(root: Path, manifest: dict, feed: str, *, resend_applied: bool = False) -> pl.DataFrame:
    """Every good row of a feed over the run (bad rows named in the manifest left out), with
    the day folder it came from. With `resend_applied`, the re-sent files replace the day's."""
    bad_lines: dict[str, set[int]] = {}
    for bad in manifest["bad_rows"]:
        bad_lines.setdefault(bad["file"], set()).add(bad["line_number"])
    resend_day = manifest["resend"]["day"] if manifest["resend"] else None
    frames = []
    for path in _day_files(root):
        if path.stem != feed:
            continue
        relative = f"{path.parent.name}/{path.name}"
        skip = bad_lines.get(relative, set())
        if resend_applied and path.parent.name == resend_day:
            replacement = root / RESEND_FOLDER / resend_day / path.name
            if replacement.exists():
                path, skip = replacement, set()
        frame = _read_text(path).with_row_index("line_number", offset=2)
        frame = frame.filter(~pl.col("line_number").is_in(sorted(skip)))
        frames.append(frame.with_columns(pl.lit(path.parent.name).alias("landing_day")))
    return pl.concat(frames, how="diagonal")


# ------------------------------------------------------------------ determinism


def test_same_seed_gives_identical_bytes_and_another_seed_other_data(tmp_path):
    first, second, other = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    generate(first, days=12, seed=5)
    generate(second, days=12, seed=5)
    generate(other, days=12, seed=6)
    files = sorted(p.relative_to(first) for p in first.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(second) for p in second.rglob("*") if p.is_file())
    assert any(f.suffix == ".parquet" for f in files)
    for relative in files:
        assert (first / relative).read_bytes() == (second / relative).read_bytes(), relative
    differing = [
        relative
        for relative in files
        if relative.parts[0] != MANIFEST_NAME
        and (other / relative).exists()
        and (other / relative).read_bytes() != (first / relative).read_bytes()
    ]
    assert any(relative.name == "production.csv" for relative in differing)
    assert any(relative.name == "consumption.csv" for relative in differing)


def test_summary_counts_match_the_files(tmp_path):
    summary = generate(tmp_path, days=8, seed=2, bad_row_rate=0.01)
    manifest = json.loads((tmp_path / MANIFEST_NAME).read_text(encoding="utf-8"))
    assert summary["days"] == 8 and summary["end_date"] == "2026-06-08"
    for feed in FEEDS_BY_NAME:
        assert summary["rows"][feed] == _good_rows(tmp_path, manifest, feed).height, feed
    assert summary["bad_rows"] == len(manifest["bad_rows"]) > 0
    assert all(Path(path).exists() for path in summary["paths"])


def test_arguments_are_checked(tmp_path):
    assert set(SCALES) == {"small", "medium", "large"}
    with pytest.raises(ValueError, match="scale"):
        generate(tmp_path, days=2, seed=1, scale="huge")
    with pytest.raises(ValueError, match="days"):
        generate(tmp_path, days=0, seed=1)


# ------------------------------------------------------------------ contract conformance


def test_every_file_is_a_contract_file_with_the_required_columns(landing):
    days_seen = set()
    for path in _day_files(landing):
        assert path.stem in FEEDS_BY_NAME and path.suffix in (".csv", ".parquet"), path
        assert not (path.with_suffix(".csv").exists() and path.with_suffix(".parquet").exists()), path
        header = _read_text(path).columns
        missing = set(FEEDS_BY_NAME[path.stem].required_columns) - set(header)
        assert not missing, (path, missing)
        days_seen.add(path.parent.name)
    assert len(days_seen) == DAYS
    assert (landing / "2026-06-01" / "products.csv").exists()


def _is_date(text: str) -> bool:
    try:
        return bool(re.fullmatch(r"\d{4}-\d{2}-\d{2}", text)) and date.fromisoformat(text) is not None
    except ValueError:
        return False


def _is_timestamp(text: str) -> bool:
    try:
        datetime.fromisoformat(text)
    except ValueError:
        return False
    return bool(re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}([+-]\d{2}:\d{2})?", text))


def _is_number(text: str, integer: bool) -> bool:
    return bool(re.fullmatch(r"-?\d+" if integer else r"-?\d+(\.\d+)?", text))


@pytest.mark.parametrize("feed_name", list(FEEDS_BY_NAME))
def test_good_rows_parse_and_keys_are_unique(landing, manifest, feed_name):
    feed = FEEDS_BY_NAME[feed_name]
    rows = _good_rows(landing, manifest, feed_name)
    assert rows.height > 0
    for column in feed.columns:
        values = rows.get_column(column.name).to_list()
        if column.required:
            assert all(v not in (None, "") for v in values), column.name
        present = [v for v in values if v not in (None, "")]
        if column.type == "date":
            assert all(_is_date(v) for v in present), column.name
        elif column.type == "timestamp":
            assert all(_is_timestamp(v) for v in present), column.name
        elif column.type in ("integer", "decimal"):
            assert all(_is_number(v, column.type == "integer") for v in present), column.name
            if column.non_negative:
                assert all(float(v) >= 0 for v in present), column.name
        if column.allowed:
            assert set(present) <= set(column.allowed), column.name
    if feed_name == "inventory":
        signed = rows.filter(~pl.col("movement_type").is_in(["adjustment", "hold", "release"]))
        assert signed.get_column("quantity").cast(pl.Float64).min() > 0
        receipts = rows.filter(pl.col("movement_type") == "receipt")
        assert receipts.get_column("supplier_code").null_count() == 0
    if feed_name == "inspections":
        assert (rows["defect_count"].cast(pl.Int64) <= rows["sample_size"].cast(pl.Int64)).all()
    if feed.key:
        # Master data repeats keys across days (updates); within one delivery a key is unique.
        scope = [*feed.key, "landing_day"] if feed.master_data else list(feed.key)
        assert rows.select(scope).is_duplicated().sum() == 0


def test_timestamps_are_mostly_without_offset_and_some_with(landing, manifest):
    for feed, column in (("inventory", "moved_at"), ("inspections", "inspected_at")):
        stamps = _good_rows(landing, manifest, feed).get_column(column)
        with_offset = stamps.str.contains(r"[+-]\d{2}:\d{2}$").sum()
        assert 0 < with_offset < stamps.len() / 2, feed


def test_odd_characters_in_lot_codes_round_trip(landing, manifest):
    receipts = _good_rows(landing, manifest, "inventory").filter(pl.col("movement_type") == "receipt")
    supplier_lots = receipts.get_column("supplier_lot_code").to_list()
    for character in ("'", '"', ",", "/"):
        assert any(character in code for code in supplier_lots), character
    assert any("/" in code for code in receipts.get_column("lot_code").to_list())
    # Whatever was quoted on the way out reads back into a code with the character intact.
    raw = "\n".join(p.read_text(encoding="utf-8") for p in _day_files(landing) if p.name == "inventory.csv")
    assert '"B""' in raw


# ------------------------------------------------------------------ bad rows


def _bad_value_is_bad(kind: str, feed: str, row: dict, column: str) -> bool:
    value = row.get(column) or ""
    if kind == "missing_required":
        return column in FEEDS_BY_NAME[feed].required_columns and value.strip() == ""
    if kind == "unparseable_number":
        return not _is_number(value.strip(), FEEDS_BY_NAME[feed].column(column).type == "integer")
    if kind == "unparseable_date":
        checker = _is_date if FEEDS_BY_NAME[feed].column(column).type == "date" else _is_timestamp
        return not checker(value.strip())
    if kind == "negative_quantity":
        return float(value) < 0 and row.get("movement_type") != "adjustment"
    if kind == "defect_above_sample":
        return int(row["defect_count"]) > int(row["sample_size"])
    if kind == "unknown_movement_type":
        return value not in MOVEMENT_TYPES
    raise AssertionError(kind)


def test_every_bad_row_kind_is_planted_and_really_bad(landing, manifest):
    kinds = {bad["kind"] for bad in manifest["bad_rows"]}
    assert kinds == {
        "missing_required",
        "unparseable_number",
        "unparseable_date",
        "negative_quantity",
        "duplicate_key",
        "defect_above_sample",
        "unknown_movement_type",
    }
    duplicated_feeds = {
        bad["file"].split("/")[1].split(".")[0] for bad in manifest["bad_rows"] if bad["kind"] == "duplicate_key"
    }
    assert {"production", "inventory", "inspections", "shipments"} <= duplicated_feeds
    files: dict[str, list[dict]] = {}
    for bad in manifest["bad_rows"]:
        relative = bad["file"]
        if relative not in files:
            files[relative] = _read_text(landing / relative).to_dicts()
        rows = files[relative]
        feed = Path(relative).stem
        row = rows[bad["line_number"] - 2]
        if bad["kind"] == "duplicate_key":
            key = FEEDS_BY_NAME[feed].key
            earlier = rows[: bad["line_number"] - 2]
            assert any(all(r[k] == row[k] for k in key) for r in earlier), bad
        else:
            assert _bad_value_is_bad(bad["kind"], feed, row, bad["column"]), (bad, row)


def test_the_ingestion_quarantines_exactly_the_manifest_rows(landing, manifest):
    from batchtrack.ingestion.landing import LandingFile
    from batchtrack.ingestion.reader import read_landing_file
    from batchtrack.ingestion.validation import validate_rows

    expected = {(bad["file"], bad["line_number"]): bad["expected_reason"] for bad in manifest["bad_rows"]}
    found = {}
    for path in _day_files(landing):
        relative = f"{path.parent.name}/{path.name}"
        feed = FEEDS_BY_NAME[path.stem]
        landing_file = LandingFile(feed, date.fromisoformat(path.parent.name), path, relative)
        checked = validate_rows(read_landing_file(landing_file), feed)
        for line_number, reason in checked.quarantined.select("line_number", "reason").iter_rows():
            found[(relative, line_number)] = reason
    assert set(found) == set(expected)
    for key, keyword in expected.items():
        assert keyword in found[key], (key, found[key])


def test_bad_row_rate_scales_the_number_of_bad_rows(tmp_path):
    generate(tmp_path / "clean", days=6, seed=3, bad_row_rate=0.0)
    generate(tmp_path / "dirty", days=6, seed=3, bad_row_rate=0.05)
    clean = json.loads((tmp_path / "clean" / MANIFEST_NAME).read_text())
    dirty = json.loads((tmp_path / "dirty" / MANIFEST_NAME).read_text())
    assert clean["bad_rows"] == []
    total = sum(clean["rows"][feed] for feed in TRANSACTION_FEEDS)
    assert 0.03 * total < len(dirty["bad_rows"]) < 0.08 * total
    # Bad rows are extra rows: the good data is the same with or without them.
    assert clean["rows"] == dirty["rows"]


# ------------------------------------------------------------------ stock and genealogy


def _stock_movements(landing: Path, manifest: dict) -> pl.DataFrame:
    """Every good movement as (lot_code, site_code, at, delta, kind, quantity), resend applied."""
    production = _good_rows(landing, manifest, "production", resend_applied=True)
    consumption = _good_rows(landing, manifest, "consumption", resend_applied=True)
    inventory = _good_rows(landing, manifest, "inventory", resend_applied=True)
    shipments = _good_rows(landing, manifest, "shipments", resend_applied=True)
    made_at = production.select("lot_code", pl.col("site_code").alias("consuming_site"))
    local = pl.col("at").str.slice(0, 19)
    quantity = pl.col("quantity").cast(pl.Float64)
    sign = (
        pl.when(pl.col("kind").is_in(ADDS))
        .then(1)
        .when(pl.col("kind").is_in(REMOVES))
        .then(-1)
        .when(pl.col("kind") == "adjustment")
        .then(1)
        .otherwise(0)
    )
    return pl.concat(
        [
            production.select(
                "lot_code",
                "site_code",
                pl.col("produced_at").alias("at"),
                quantity.alias("delta"),
                pl.lit("production").alias("kind"),
                quantity.alias("quantity"),
            ),
            consumption.join(made_at, on="lot_code", how="inner").select(
                pl.col("input_lot_code").alias("lot_code"),
                pl.col("consuming_site").alias("site_code"),
                pl.col("consumed_at").alias("at"),
                (-quantity).alias("delta"),
                pl.lit("consumption").alias("kind"),
                quantity.alias("quantity"),
            ),
            inventory.select(
                "lot_code",
                "site_code",
                pl.col("moved_at").alias("at"),
                pl.lit(0.0).alias("delta"),
                pl.col("movement_type").alias("kind"),
                quantity.alias("quantity"),
            ).with_columns((sign * pl.col("quantity")).alias("delta")),
            shipments.select(
                "lot_code",
                "site_code",
                pl.col("shipped_at").alias("at"),
                (-quantity).alias("delta"),
                pl.lit("shipment").alias("kind"),
                quantity.alias("quantity"),
            ),
        ]
    ).with_columns(local.alias("at"))


def test_stock_never_goes_negative_and_closes_per_lot_and_site(landing, manifest):
    movements = _stock_movements(landing, manifest)
    # Replay per lot and site in time order; at one instant, additions count before removals.
    replay = movements.sort(["lot_code", "site_code", "at", pl.col("delta") < 0]).with_columns(
        pl.col("delta").cum_sum().over(["lot_code", "site_code"]).alias("on_hand")
    )
    assert replay["on_hand"].min() > -1e-6
    # Writing off, holding and releasing state the quantity on hand at that moment.
    written_off = replay.filter(pl.col("kind") == "expiry_writeoff")
    assert written_off.height > 0
    assert (written_off["on_hand"].abs() < 1e-6).all()
    status = replay.filter(pl.col("kind").is_in(["hold", "release"]))
    assert status.height > 0
    assert ((status["on_hand"] - status["quantity"]).abs() < 1e-6).all()
    kinds = set(replay["kind"].unique())
    assert {"receipt", "adjustment", "scrap", "return", "transfer_in", "transfer_out", "shipment"} <= kinds
    assert (replay.filter(pl.col("kind") == "adjustment")["quantity"] < 0).any()
    # Lot by lot, over all sites: what came in = what went out + what is on hand.
    closing = replay.group_by("lot_code", "site_code").agg(pl.col("on_hand").last())
    totals = (
        movements.group_by("lot_code")
        .agg(
            pl.col("delta").filter(pl.col("delta") > 0).sum().alias("came_in"),
            (-pl.col("delta").filter(pl.col("delta") < 0).sum()).alias("went_out"),
        )
        .join(closing.group_by("lot_code").agg(pl.col("on_hand").sum()), on="lot_code")
    )
    assert ((totals["came_in"] - totals["went_out"] - totals["on_hand"]).abs() < 1e-6).all()


def test_transfers_pair_up_between_plant_and_dc(landing, manifest):
    inventory = _good_rows(landing, manifest, "inventory")
    transfers = inventory.filter(pl.col("movement_type").is_in(["transfer_out", "transfer_in"]))
    pairs = transfers.group_by("reference").agg(
        pl.col("movement_type").sort().alias("types"),
        pl.col("lot_code").n_unique().alias("lots"),
        pl.col("quantity").n_unique().alias("quantities"),
        pl.col("site_code").filter(pl.col("movement_type") == "transfer_out").first().alias("from_site"),
        pl.col("site_code").filter(pl.col("movement_type") == "transfer_in").first().alias("to_site"),
    )
    assert pairs.height > 0
    assert (pairs["types"].list.join(",") == "transfer_in,transfer_out").all()
    assert (pairs["lots"] == 1).all() and (pairs["quantities"] == 1).all()
    assert pairs["from_site"].str.starts_with("PLT-").all() and pairs["to_site"].str.starts_with("DC-").all()


def test_genealogy_has_splits_merges_rework_and_the_planted_loops(landing, manifest):
    consumption = _good_rows(landing, manifest, "consumption")
    production = _good_rows(landing, manifest, "production")
    category = {code: code.split("-")[0] for code in production["product_code"].unique()}
    product_of = dict(zip(production["lot_code"], production["product_code"], strict=True))
    assert consumption.group_by("input_lot_code").len()["len"].max() > 1  # split
    assert (
        consumption.group_by("lot_code").agg(pl.col("input_lot_code").n_unique())["input_lot_code"].max() > 1
    )  # merge
    rework = [
        (out, into)
        for out, into in zip(consumption["lot_code"], consumption["input_lot_code"], strict=True)
        if category.get(product_of.get(into, ""), "") == "FG" and category.get(product_of.get(out, ""), "") == "FG"
    ]
    assert rework
    assert manifest["genealogy_loops"]
    edges = set(zip(consumption["lot_code"], consumption["input_lot_code"], strict=True))
    for loop in manifest["genealogy_loops"]:
        # The finished lot was made from the intermediate, and is recorded as consumed into it.
        assert (loop["input_lot_code"], loop["lot_code"]) in edges
        assert (loop["lot_code"], loop["input_lot_code"]) in edges


def test_late_references_arrive_after_their_consumption(landing, manifest):
    consumption = _good_rows(landing, manifest, "consumption")
    inventory = _good_rows(landing, manifest, "inventory")
    assert manifest["late_references"]
    for late in manifest["late_references"]:
        receipt = inventory.filter(pl.col("lot_code") == late["lot_code"])
        assert receipt["landing_day"].to_list() == [late["delivered_in"]]
        used_on = consumption.filter(pl.col("input_lot_code") == late["lot_code"])["landing_day"]
        assert used_on.min() < late["delivered_in"]


# ------------------------------------------------------------------ the planted quality stories


def _defect_rate(frame: pl.DataFrame) -> float:
    return frame["defect_count"].cast(pl.Int64).sum() / frame["sample_size"].cast(pl.Int64).sum()


def test_the_drifting_line_gets_worse(landing, manifest):
    line = manifest["drifting_line"]
    inspections = _good_rows(landing, manifest, "inspections").join(
        _good_rows(landing, manifest, "production").select("lot_code", "site_code", "line_code"), on="lot_code"
    )
    on_line = inspections.filter(
        (pl.col("site_code") == line["site_code"])
        & (pl.col("line_code") == line["line_code"])
        & pl.col("check_code").is_in(line["checks"])
    )
    first = on_line.filter(pl.col("landing_day") < "2026-06-21")
    last = on_line.filter(pl.col("landing_day") >= "2026-07-11")
    assert first.height > 50 and last.height > 50
    assert _defect_rate(last) > 2.5 * _defect_rate(first)
    # The other filling lines of that plant stay where they were.
    others = inspections.filter(
        (pl.col("site_code") == line["site_code"])
        & (pl.col("line_code") != line["line_code"])
        & pl.col("check_code").is_in(line["checks"])
    )
    assert _defect_rate(others.filter(pl.col("landing_day") >= "2026-07-11")) < 1.6 * _defect_rate(
        others.filter(pl.col("landing_day") < "2026-06-21")
    )


def test_lots_made_from_the_bad_supplier_fail_more_often(landing, manifest):
    consumption = _good_rows(landing, manifest, "consumption").select("lot_code", "input_lot_code")
    receipts = _good_rows(landing, manifest, "inventory").filter(pl.col("movement_type") == "receipt")
    bad = manifest["bad_supplier"]
    from_bad = receipts.filter(pl.col("supplier_code") == bad["supplier_code"])
    assert sorted(from_bad["lot_code"]) == sorted(bad["lot_codes"])
    assert sorted(from_bad["supplier_lot_code"]) == sorted(bad["supplier_lot_codes"])
    # Trace forward through the genealogy (loops end because visited lots are not revisited).
    reached = set(bad["lot_codes"])
    frontier = pl.Series(sorted(reached))
    while frontier.len():
        children = consumption.filter(pl.col("input_lot_code").is_in(frontier.to_list()))["lot_code"].unique()
        frontier = pl.Series([c for c in children.to_list() if c not in reached], dtype=pl.String)
        reached.update(frontier.to_list())
    downstream = reached - set(bad["lot_codes"])
    assert manifest["recall_example"]["lot_code"] in bad["lot_codes"]
    inspections = _good_rows(landing, manifest, "inspections").filter(
        pl.col("check_code").is_in(["MICRO", "FOREIGN_BODY"])
    )
    tainted = inspections.filter(pl.col("lot_code").is_in(sorted(downstream)))
    clean = inspections.filter(~pl.col("lot_code").is_in(sorted(downstream)))
    assert tainted.height > 100 and clean.height > 100
    assert _defect_rate(tainted) > 3 * _defect_rate(clean)


# ------------------------------------------------------------------ delivery quirks


def test_the_resent_day_differs_as_the_manifest_says(landing, manifest):
    resend = manifest["resend"]
    folder = landing / resend["folder"]
    assert folder.is_dir() and not DAY_FOLDER.match(folder.parent.name)
    assert sorted(p.name for p in folder.iterdir()) == sorted(resend["files"])
    for name in resend["files"]:
        corrected = folder / name
        original = landing / resend["day"] / name
        assert corrected.read_bytes() != original.read_bytes()
        assert _read_text(corrected).columns == _read_text(original).columns
    production = _read_text(folder / "production.csv")
    change = next(c for c in resend["changes"] if c["file"] == "production.csv")
    corrected_quantity = production.filter(pl.col("lot_code") == change["key"]["lot_code"])["quantity"].to_list()
    assert corrected_quantity == [change["corrected"]] and change["corrected"] != change["original"]
    removed = next(c for c in resend["changes"] if c["file"] == "inspections.csv")
    assert removed["key"]["inspection_id"] not in _read_text(folder / "inspections.csv")["inspection_id"].to_list()
    assert (
        removed["key"]["inspection_id"]
        in _read_text(landing / resend["day"] / "inspections.csv")["inspection_id"].to_list()
    )


def test_some_days_ship_parquet(landing, manifest):
    parquet = [p for p in _day_files(landing) if p.suffix == ".parquet"]
    assert [f"{p.parent.name}/{p.name}" for p in parquet] == manifest["parquet_files"]
    assert len(parquet) == DAYS // 10 and all(p.stem == "shipments" for p in parquet)


def test_master_data_has_full_snapshot_then_partial_updates(landing, manifest):
    products = _good_rows(landing, manifest, "products")
    customers = _good_rows(landing, manifest, "customers")
    first_day = "2026-06-01"
    assert set(products.filter(pl.col("landing_day") == first_day)["category"]) == {
        "raw",
        "intermediate",
        "finished",
        "packaging",
    }
    assert 200 <= customers.filter(pl.col("landing_day") == first_day).height <= 400
    assert products.filter(pl.col("landing_day") > first_day).height > 0
    assert customers.filter(pl.col("landing_day") > first_day).height > 0
    assert customers["contact_email"].str.contains("@").all() and customers["phone"].str.starts_with("+").all()
    # Raw dairy spoils within the run, so stock does get written off.
    shelf = dict(zip(products["product_code"], products["shelf_life_days"].cast(pl.Int64), strict=False))
    assert shelf["RM-MILK"] <= 20 and all(20 <= shelf[c] <= 60 for c in shelf if c.startswith("FG-"))


def test_a_recall_example_reaches_customers(manifest):
    example = manifest["recall_example"]
    assert example["downstream_lots"] > 0 and example["shipment_lines"] > 0 and example["customers"] > 0
