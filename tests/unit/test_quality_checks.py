"""Each quality expectation fails on a small bad input and passes on a good one, on a real DuckDB."""

from __future__ import annotations

import gc
import json
import weakref
from collections.abc import Callable
from datetime import date, datetime, timedelta

import duckdb
import great_expectations.expectations as gxe
import pandas as pd
import pytest

from batchtrack.feeds import FEEDS, FEEDS_BY_NAME, RAW_LINEAGE_COLUMNS
from batchtrack.warehouse_schema import ensure_ingest_schema
from quality_checks import (
    CheckResult,
    QualitySettings,
    build_data_docs,
    format_findings,
    has_errors,
    run_quality_checks,
    write_findings,
)
from quality_checks.cross_feed import (
    _reference_checks,
    _timeline_checks,
    genealogy_loop_checks,
    in_chunks,
    lot_origins_computed,
    lots_on_loops,
    mass_balance_checks,
    reference_checks,
    timeline_checks,
    volume_checks,
)
from quality_checks.raw_suites import row_checks, schema_checks
from quality_checks.validation import Check, validate_frame

DAY1 = date(2026, 6, 1)
DAY2 = date(2026, 6, 2)


def insert(con: duckdb.DuckDBPyConnection, feed_name: str, landing_date: date = DAY1, **values) -> None:
    """One raw row: contract columns from `values` (None when not given), lineage filled in."""
    feed = FEEDS_BY_NAME[feed_name]
    unknown = set(values) - set(feed.column_names)
    assert not unknown, unknown
    line_number = con.execute(f"select count(*) + 2 from raw.{feed_name}").fetchone()[0]
    lineage = {
        "extra_columns": None,
        "landing_date": landing_date,
        "source_file": f"{landing_date.isoformat()}/{feed_name}.csv",
        "line_number": line_number,
        "file_hash": "0" * 64,
        "loaded_at": datetime(2026, 6, 3),
    }
    columns = [*feed.column_names, *(name for name, _ in RAW_LINEAGE_COLUMNS)]
    row = [values.get(name) for name in feed.column_names] + [lineage[name] for name, _ in RAW_LINEAGE_COLUMNS]
    placeholders = ", ".join("?" for _ in columns)
    con.execute(f"insert into raw.{feed_name} ({', '.join(columns)}) values ({placeholders})", row)


def good_world(con: duckdb.DuckDBPyConnection) -> None:
    """A tiny consistent warehouse: a received raw lot consumed into a produced lot, inspected, shipped."""
    insert(
        con,
        "products",
        product_code="RM-MILK",
        description="Milk",
        category="raw",
        base_unit="kg",
        shelf_life_days=5,
        unit_cost=0.5,
    )
    insert(
        con,
        "products",
        product_code="FG-YOG",
        description="Yoghurt",
        category="finished",
        base_unit="kg",
        shelf_life_days=20,
        unit_cost=2.0,
    )
    insert(con, "suppliers", supplier_code="SUP-001", name="Dairy Co")
    insert(con, "customers", customer_code="C001", name="Shop")
    insert(
        con,
        "inventory",
        movement_id="MV-1",
        lot_code="R-1",
        product_code="RM-MILK",
        site_code="PLT",
        movement_type="receipt",
        quantity=100,
        moved_at=datetime(2026, 6, 1, 6),
        supplier_code="SUP-001",
        expiry_date=date(2026, 6, 6),
    )
    insert(
        con,
        "inventory",
        movement_id="MV-2",
        lot_code="L-1",
        product_code="FG-YOG",
        site_code="PLT",
        movement_type="adjustment",
        quantity=-1,
        moved_at=datetime(2026, 6, 1, 12),
    )
    insert(
        con,
        "production",
        lot_code="L-1",
        product_code="FG-YOG",
        site_code="PLT",
        line_code="L01",
        produced_at=datetime(2026, 6, 1, 8),
        quantity=80,
        expiry_date=date(2026, 6, 21),
    )
    insert(
        con, "consumption", lot_code="L-1", input_lot_code="R-1", quantity=80, consumed_at=datetime(2026, 6, 1, 8, 30)
    )
    insert(
        con,
        "inspections",
        inspection_id="QC-1",
        lot_code="L-1",
        inspected_at=datetime(2026, 6, 1, 10),
        check_code="MICRO",
        sample_size=10,
        defect_count=1,
        result="pass",
    )
    insert(
        con,
        "shipments",
        DAY2,
        shipment_id="SH-1",
        line_no=1,
        lot_code="L-1",
        product_code="FG-YOG",
        quantity=40,
        shipped_at=datetime(2026, 6, 2, 9),
        site_code="PLT",
        customer_code="C001",
    )


@pytest.fixture
def con():
    connection = duckdb.connect()
    ensure_ingest_schema(connection)
    good_world(connection)
    yield connection
    connection.close()


def by_name(results: list[CheckResult]) -> dict[str, CheckResult]:
    names = [result.expectation for result in results]
    assert len(names) == len(set(names)), "expectation names must be unique within a run"
    return {result.expectation: result for result in results}


@pytest.fixture(scope="module")
def good_results() -> dict[str, CheckResult]:
    connection = duckdb.connect()
    ensure_ingest_schema(connection)
    good_world(connection)
    return by_name(run_quality_checks(connection))


# --- every expectation passes on the good world -------------------------------------------------

REQUIRED_NOT_NULL = [(feed.name, column) for feed in FEEDS for column in feed.required_columns]
CROSS_FEED = [
    "consumption.input_lot_known",
    "consumption.output_lot_known",
    "inspections.lot_known",
    "inventory.lot_known",
    "shipments.lot_known",
    "consumption.consumed_after_made",
    "shipments.shipped_after_made",
    "shipments.not_on_hold",
    "shipments.not_expired",
    "genealogy.no_loops",
    "production.daily_volume",
    "shipments.daily_volume",
]


def test_good_world_passes_every_check(good_results):
    failed = [result for result in good_results.values() if not result.success]
    assert failed == []
    assert not has_errors(good_results.values())
    expected = {f"{feed}.{column}_not_null" for feed, column in REQUIRED_NOT_NULL}
    expected |= {f"{feed.name}.columns_present" for feed in FEEDS} | {f"{feed.name}.column_types" for feed in FEEDS}
    expected |= set(CROSS_FEED) | {f"{name}_within_grace" for name in CROSS_FEED if name.endswith("_known")}
    assert expected <= set(good_results)
    # every check really looked at rows where the good world has them
    assert good_results["shipments.lot_known_within_grace"].checked_count == 1
    assert good_results["inspections.defects_within_sample"].checked_count == 1


# --- structure: errors ---------------------------------------------------------------------------


def test_missing_required_column_is_an_error(con):
    con.execute("alter table raw.production drop column line_code")
    results = by_name(run_quality_checks(con))
    failed = results["production.columns_present"]
    assert (failed.success, failed.severity, failed.sample_keys) == (False, "error", ("line_code",))
    assert has_errors(results.values())
    assert "production.lot_code_not_null" not in results  # row checks of a broken table are skipped


def test_wrong_column_type_is_an_error(con):
    con.execute("alter table raw.shipments alter quantity type varchar")
    result = by_name(schema_checks(con, FEEDS_BY_NAME["shipments"]))["shipments.column_types"]
    assert (result.success, result.severity, result.sample_keys) == (False, "error", ("quantity",))
    assert by_name(schema_checks(con, FEEDS_BY_NAME["production"]))["production.column_types"].success


def test_missing_raw_table_is_an_error(con):
    con.execute("drop table raw.inspections")
    result = by_name(schema_checks(con, FEEDS_BY_NAME["inspections"]))["inspections.columns_present"]
    assert not result.success and result.severity == "error" and "inspection_id" in result.sample_keys


# --- single-feed row checks ----------------------------------------------------------------------

ROW_DEFAULTS: dict[str, dict] = {
    "products": dict(
        product_code="P-X", description="x", category="raw", base_unit="kg", shelf_life_days=1, unit_cost=1
    ),
    "suppliers": dict(supplier_code="SUP-X", name="x"),
    "customers": dict(customer_code="C-X", name="x"),
    "production": dict(
        lot_code="L-X",
        product_code="FG-YOG",
        site_code="PLT",
        line_code="L01",
        produced_at=datetime(2026, 6, 1, 9),
        quantity=1,
    ),
    "consumption": dict(lot_code="L-1", input_lot_code="R-1", quantity=1, consumed_at=datetime(2026, 6, 1, 9)),
    "inspections": dict(
        inspection_id="QC-X",
        lot_code="L-1",
        inspected_at=datetime(2026, 6, 1, 11),
        check_code="WEIGHT",
        sample_size=5,
        defect_count=0,
    ),
    "inventory": dict(
        movement_id="MV-X",
        lot_code="L-1",
        product_code="FG-YOG",
        site_code="PLT",
        movement_type="transfer_out",
        quantity=1,
        moved_at=datetime(2026, 6, 1, 13),
    ),
    "shipments": dict(
        shipment_id="SH-X",
        line_no=1,
        lot_code="L-1",
        product_code="FG-YOG",
        quantity=1,
        shipped_at=datetime(2026, 6, 2, 9),
        site_code="PLT",
        customer_code="C001",
    ),
}


@pytest.mark.parametrize(("feed", "column"), REQUIRED_NOT_NULL)
def test_not_null(con, good_results, feed, column):
    name = f"{feed}.{column}_not_null"
    assert good_results[name].success
    insert(con, feed, **{**ROW_DEFAULTS[feed], column: None})
    result = by_name(row_checks(con, FEEDS_BY_NAME[feed]))[name]
    assert (result.success, result.failing_count, result.severity) == (False, 1, "warning")


ROW_CASES: list[tuple[str, str, dict, str]] = [
    # (expectation, feed, bad values on top of ROW_DEFAULTS, a key the finding names)
    ("products.category_in_set", "products", dict(category="spice"), "P-X"),
    ("products.shelf_life_days_non_negative", "products", dict(shelf_life_days=-1), "P-X"),
    ("products.unit_cost_non_negative", "products", dict(unit_cost=-0.5), "P-X"),
    ("products.product_code_unique_per_delivery", "products", dict(product_code="RM-MILK"), "RM-MILK"),
    ("suppliers.supplier_code_unique_per_delivery", "suppliers", dict(supplier_code="SUP-001"), "SUP-001"),
    ("customers.customer_code_unique_per_delivery", "customers", dict(customer_code="C001"), "C001"),
    ("production.quantity_positive", "production", dict(quantity=0), "L-X"),
    ("production.expiry_after_production", "production", dict(expiry_date=date(2026, 6, 1)), "L-X"),
    ("consumption.quantity_positive", "consumption", dict(quantity=0), "L-1 (R-1)"),
    ("inspections.sample_size_non_negative", "inspections", dict(sample_size=-1, defect_count=None), "QC-X (L-1)"),
    ("inspections.defect_count_non_negative", "inspections", dict(defect_count=-1), "QC-X (L-1)"),
    ("inspections.result_in_set", "inspections", dict(result="maybe"), "QC-X (L-1)"),
    ("inspections.defects_within_sample", "inspections", dict(sample_size=5, defect_count=6), "QC-X (L-1)"),
    ("inventory.movement_type_in_set", "inventory", dict(movement_type="move"), "MV-X (L-1)"),
    ("inventory.quantity_positive", "inventory", dict(movement_type="scrap", quantity=0), "MV-X (L-1)"),
    ("inventory.receipt_has_supplier", "inventory", dict(movement_type="receipt", lot_code="R-2"), "MV-X (R-2)"),
    (
        "inventory.expiry_after_receipt",
        "inventory",
        dict(movement_type="receipt", supplier_code="SUP-001", expiry_date=date(2026, 5, 31)),
        "MV-X (L-1)",
    ),
    ("shipments.quantity_positive", "shipments", dict(quantity=0), "L-1 (SH-X:1)"),
]


@pytest.mark.parametrize(("name", "feed", "bad", "key"), ROW_CASES, ids=[case[0] for case in ROW_CASES])
def test_row_check(con, good_results, name, feed, bad, key):
    assert good_results[name].success
    insert(con, feed, **{**ROW_DEFAULTS[feed], **bad})
    result = by_name(row_checks(con, FEEDS_BY_NAME[feed]))[name]
    assert not result.success and result.severity == "warning"
    assert key in result.sample_keys


def test_signed_adjustment_and_zero_hold_are_not_findings(con):
    insert(con, "inventory", **{**ROW_DEFAULTS["inventory"], "movement_type": "hold", "quantity": 0})
    insert(
        con,
        "inventory",
        **{**ROW_DEFAULTS["inventory"], "movement_id": "MV-Y", "movement_type": "adjustment", "quantity": -3},
    )
    assert by_name(row_checks(con, FEEDS_BY_NAME["inventory"]))["inventory.quantity_positive"].success


KEY_CASES = [
    ("production.lot_code_unique", "production", dict(lot_code="L-1"), "L-1"),
    ("inspections.inspection_id_unique", "inspections", dict(inspection_id="QC-1"), "QC-1 (L-1)"),
    ("inventory.movement_id_unique", "inventory", dict(movement_id="MV-1"), "MV-1 (L-1)"),
    ("shipments.shipment_id_line_no_unique", "shipments", dict(shipment_id="SH-1"), "L-1 (SH-1:1)"),
]


@pytest.mark.parametrize(("name", "feed", "bad", "key"), KEY_CASES, ids=[case[0] for case in KEY_CASES])
def test_keys_are_unique_across_deliveries(con, good_results, name, feed, bad, key):
    assert good_results[name].success
    insert(con, feed, date(2026, 6, 5), **{**ROW_DEFAULTS[feed], **bad})
    result = by_name(row_checks(con, FEEDS_BY_NAME[feed], day=date(2026, 6, 5)))[name]
    assert not result.success and key in result.sample_keys and result.landing_date == date(2026, 6, 5)


def test_day_limits_row_checks_to_that_landing_day(con):
    insert(con, "production", DAY2, **{**ROW_DEFAULTS["production"], "quantity": 0})
    assert not by_name(row_checks(con, FEEDS_BY_NAME["production"], day=DAY2))["production.quantity_positive"].success
    assert by_name(row_checks(con, FEEDS_BY_NAME["production"], day=DAY1))["production.quantity_positive"].success


# --- cross-feed rules ----------------------------------------------------------------------------

REFERENCE_CASES = [
    ("consumption.input_lot_known", "consumption", dict(input_lot_code="R-LATE"), "R-LATE (L-1)"),
    ("consumption.output_lot_known", "consumption", dict(lot_code="L-LATE"), "L-LATE (R-1)"),
    ("inspections.lot_known", "inspections", dict(lot_code="L-LATE"), "L-LATE (QC-X)"),
    ("inventory.lot_known", "inventory", dict(lot_code="L-LATE"), "L-LATE (MV-X)"),
    ("shipments.lot_known", "shipments", dict(lot_code="L-LATE"), "L-LATE (SH-X:1)"),
]


@pytest.mark.parametrize(("name", "feed", "bad", "key"), REFERENCE_CASES, ids=[case[0] for case in REFERENCE_CASES])
def test_unknown_lot_is_a_warning_within_grace_then_an_error(con, good_results, name, feed, bad, key):
    assert good_results[name].success and good_results[f"{name}_within_grace"].success
    insert(con, feed, DAY2, **{**ROW_DEFAULTS[feed], **bad})

    recent = by_name(reference_checks(con, as_of=DAY2 + timedelta(days=3), grace_days=3))
    assert recent[name].success
    warning = recent[f"{name}_within_grace"]
    assert (warning.success, warning.severity, warning.sample_keys) == (False, "warning", (key,))
    assert not has_errors(recent.values())

    overdue = by_name(reference_checks(con, as_of=DAY2 + timedelta(days=4), grace_days=3))
    error = overdue[name]
    assert (error.success, error.severity, error.sample_keys) == (False, "error", (key,))
    assert overdue[f"{name}_within_grace"].success
    assert has_errors(overdue.values())

    # the lot arriving late resolves it
    if name == "consumption.output_lot_known" or feed != "consumption":
        insert(con, "production", date(2026, 6, 7), **{**ROW_DEFAULTS["production"], "lot_code": "L-LATE"})
    else:
        insert(
            con,
            "inventory",
            date(2026, 6, 7),
            **{
                **ROW_DEFAULTS["inventory"],
                "lot_code": "R-LATE",
                "movement_type": "receipt",
                "supplier_code": "SUP-001",
                "moved_at": datetime(2026, 6, 1),
            },
        )
    assert by_name(reference_checks(con, as_of=date(2026, 6, 7), grace_days=3))[name].success


def test_grace_days_are_configurable(con):
    insert(con, "shipments", DAY2, **{**ROW_DEFAULTS["shipments"], "lot_code": "L-LATE"})
    results = by_name(run_quality_checks(con, as_of=date(2026, 6, 3), settings=QualitySettings(grace_days=0)))
    assert not results["shipments.lot_known"].success


TIMELINE_CASES: list[tuple[str, Callable[[duckdb.DuckDBPyConnection], None], str]] = [
    (
        "consumption.consumed_after_made",
        lambda con: insert(
            con, "consumption", **{**ROW_DEFAULTS["consumption"], "consumed_at": datetime(2026, 6, 1, 5)}
        ),
        "R-1 (L-1)",
    ),
    (
        "shipments.shipped_after_made",
        lambda con: insert(con, "shipments", **{**ROW_DEFAULTS["shipments"], "shipped_at": datetime(2026, 6, 1, 7)}),
        "L-1 (SH-X:1)",
    ),
    (
        "shipments.not_on_hold",
        lambda con: insert(
            con,
            "inventory",
            **{
                **ROW_DEFAULTS["inventory"],
                "movement_type": "hold",
                "quantity": 0,
                "moved_at": datetime(2026, 6, 2, 8),
            },
        ),
        "L-1 (SH-1:1)",
    ),
    (
        "shipments.not_expired",
        lambda con: insert(con, "shipments", **{**ROW_DEFAULTS["shipments"], "shipped_at": datetime(2026, 6, 22, 9)}),
        "L-1 (SH-X:1)",
    ),
    (
        "genealogy.no_loops",
        lambda con: insert(
            con, "consumption", **{**ROW_DEFAULTS["consumption"], "lot_code": "R-1", "input_lot_code": "L-1"}
        ),
        "L-1",
    ),
]


@pytest.mark.parametrize(("name", "make_bad", "key"), TIMELINE_CASES, ids=[case[0] for case in TIMELINE_CASES])
def test_cross_feed_rule(con, good_results, name, make_bad, key):
    assert good_results[name].success
    make_bad(con)
    result = by_name(timeline_checks(con) + genealogy_loop_checks(con))[name]
    assert not result.success and result.severity == "warning"
    assert key in result.sample_keys


def test_a_release_after_the_hold_clears_it(con):
    insert(
        con,
        "inventory",
        **{**ROW_DEFAULTS["inventory"], "movement_type": "hold", "quantity": 0, "moved_at": datetime(2026, 6, 1, 20)},
    )
    insert(
        con,
        "inventory",
        **{
            **ROW_DEFAULTS["inventory"],
            "movement_id": "MV-Y",
            "movement_type": "release",
            "quantity": 0,
            "moved_at": datetime(2026, 6, 1, 22),
        },
    )
    assert by_name(timeline_checks(con))["shipments.not_on_hold"].success


def test_a_hold_counts_when_only_the_shipping_day_is_checked(con):
    # a daily run checks the days its changes reach: here the shipping day (DAY2) alone, while
    # the hold of the shipped lot landed the day before; the check reads the holds of the lots
    # shipped on the days checked, whatever day they landed on
    hold = {**ROW_DEFAULTS["inventory"], "movement_type": "hold", "quantity": 0, "moved_at": datetime(2026, 6, 1, 20)}
    insert(con, "inventory", DAY1, **hold)
    on_shipping_day = by_name(timeline_checks(con, days=[DAY2]))["shipments.not_on_hold"]
    assert not on_shipping_day.success
    assert on_shipping_day.sample_keys == ("L-1 (SH-1:1)",)
    assert by_name(timeline_checks(con, days=[DAY1]))["shipments.not_on_hold"].success


def test_expiry_defaults_to_shelf_life_when_not_delivered(con):
    # R-1 has no delivered expiry on this receipt: received 06-01 + 5 days shelf life
    insert(
        con,
        "inventory",
        **{
            **ROW_DEFAULTS["inventory"],
            "movement_id": "MV-R",
            "lot_code": "R-2",
            "movement_type": "receipt",
            "supplier_code": "SUP-001",
            "product_code": "RM-MILK",
            "moved_at": datetime(2026, 6, 1, 6),
        },
    )
    insert(con, "shipments", **{**ROW_DEFAULTS["shipments"], "lot_code": "R-2", "shipped_at": datetime(2026, 6, 7, 9)})
    assert "R-2 (SH-X:1)" in by_name(timeline_checks(con))["shipments.not_expired"].sample_keys


def test_loop_detection_names_every_lot_on_the_loop():
    looped = lots_on_loops([("a", "b"), ("b", "c"), ("c", "a"), ("c", "d"), ("d", "d"), ("e", "f")])
    assert looped == {"a": 3, "b": 3, "c": 3, "d": 1}
    chain = [(str(i), str(i + 1)) for i in range(50_000)]  # deep, but no recursion limit
    assert lots_on_loops(chain) == {}


def test_loops_are_found_in_the_raw_edges_without_the_mart(con):
    # a loop of two behind a chain, a lot consuming itself, and a loop through a lot never produced
    for input_lot_code, lot_code in [("X-0", "X-1"), ("X-1", "X-2"), ("X-2", "X-1"), ("X-2", "X-3"), ("S-1", "S-1")]:
        insert(
            con,
            "consumption",
            **{**ROW_DEFAULTS["consumption"], "lot_code": lot_code, "input_lot_code": input_lot_code},
        )
    insert(con, "consumption", **{**ROW_DEFAULTS["consumption"], "lot_code": "U-1", "input_lot_code": "L-1"})
    insert(con, "consumption", **{**ROW_DEFAULTS["consumption"], "lot_code": "L-1", "input_lot_code": "U-1"})
    (result,) = genealogy_loop_checks(con)
    assert not result.success and result.severity == "warning"
    assert set(result.sample_keys) == {"X-1", "X-2", "S-1", "U-1", "L-1"}
    assert result.checked_count == len({"X-0", "X-1", "X-2", "X-3", "S-1", "U-1", "L-1", "R-1"})


def test_checks_on_lot_origins_computed_once_answer_as_computed_per_query(con):
    insert(con, "shipments", **{**ROW_DEFAULTS["shipments"], "lot_code": "NEVER-MADE"})
    insert(con, "shipments", **{**ROW_DEFAULTS["shipments"], "shipped_at": datetime(2026, 6, 22, 9)})
    per_query = reference_checks(con, as_of=DAY1, grace_days=3) + timeline_checks(con)
    with lot_origins_computed(con):
        once = reference_checks(con, as_of=DAY1, grace_days=3) + timeline_checks(con)
    assert [(r.expectation, r.success, r.sample_keys) for r in once] == [
        (r.expectation, r.success, r.sample_keys) for r in per_query
    ]
    assert not all(r.success for r in once)
    tables = "select count(*) from duckdb_tables() where temporary"
    assert con.execute(tables).fetchone()[0] == 0  # nothing left on the connection


def test_mass_balance_reads_the_mart(con, good_results):
    assert "mass_balance.closes" not in good_results  # no mart built: nothing to say
    con.execute(
        """
        create table main.fct_lot_mass_balance as select * from (values
            ('L-1', 'produced', 0.0, true, null),
            ('R-1', 'received', 5.0, false, 'transfers out and in do not net to zero'),
            ('L-GONE', 'unresolved', 3.0, false, 'lot was never produced or received')
        ) t(lot_code, origin_type, balance_difference, is_balanced, finding)
        """
    )
    result = by_name(mass_balance_checks(con))["mass_balance.closes"]
    assert (result.success, result.failing_count) == (False, 1)
    assert result.sample_keys == ("R-1 (transfers out and in do not net to zero)",)
    con.execute("update main.fct_lot_mass_balance set is_balanced = true, finding = null where lot_code = 'R-1'")
    assert by_name(mass_balance_checks(con))["mass_balance.closes"].success


def test_daily_volume_far_outside_the_recent_normal(con):
    for offset in range(3, 13):
        insert(
            con,
            "shipments",
            DAY1 + timedelta(days=offset),
            **{**ROW_DEFAULTS["shipments"], "shipment_id": f"SH-V{offset}"},
        )
    spike_day = DAY1 + timedelta(days=13)
    steady = by_name(volume_checks(con, day=DAY1 + timedelta(days=12)))["shipments.daily_volume"]
    assert steady.success and steady.checked_count == 1
    for line in range(1, 41):
        insert(con, "shipments", spike_day, **{**ROW_DEFAULTS["shipments"], "shipment_id": "SH-SPIKE", "line_no": line})
    result = by_name(volume_checks(con, day=spike_day))["shipments.daily_volume"]
    assert not result.success and result.landing_date == spike_day
    assert result.sample_keys[0].startswith("2026-06-14: 40 rows")


# --- findings table, summary -----------------------------------------------------------------------


def test_write_findings_appends_to_the_warehouse_table(con):
    insert(con, "shipments", DAY2, **{**ROW_DEFAULTS["shipments"], "lot_code": "L-LATE"})
    results = run_quality_checks(con, as_of=date(2026, 6, 10))
    assert write_findings(con, results, "run-1") == len(results)
    write_findings(con, results, "run-2")
    rows = con.execute(
        """
        select run_id, severity, failing_count, sample_keys, landing_date
        from main.quality_findings where expectation = 'shipments.lot_known' order by run_id
        """
    ).fetchall()
    assert [row[0] for row in rows] == ["run-1", "run-2"]
    assert rows[0][1:3] == ("error", 1) and json.loads(rows[0][3]) == ["L-LATE (SH-X:1)"]
    total = con.execute("select count(*) from main.quality_findings").fetchone()[0]
    assert total == 2 * len(results)


def test_summary_lists_errors_first_and_names_the_rows(con):
    insert(con, "shipments", DAY2, **{**ROW_DEFAULTS["shipments"], "lot_code": "L-LATE"})
    insert(con, "production", **{**ROW_DEFAULTS["production"], "quantity": 0})
    insert(con, "production", **{**ROW_DEFAULTS["production"], "lot_code": "L-Y", "quantity": 0})
    results = run_quality_checks(con, as_of=date(2026, 6, 10))
    text = format_findings(results)
    assert text.index("ERROR   shipments.lot_known") < text.index("WARNING production.quantity_positive")
    assert "L-LATE (SH-X:1)" in text and "L-X, L-Y" in text
    assert "1 error," in text.splitlines()[0]
    assert has_errors(results)
    assert "All checks passed." in format_findings([r for r in results if r.success])


def test_data_docs_are_static_html_with_the_numbers(con, tmp_path):
    insert(con, "production", **{**ROW_DEFAULTS["production"], "quantity": 0})
    index = build_data_docs(run_quality_checks(con), tmp_path / "docs")
    assert index.name == "index.html" and index.exists()
    pages = list((tmp_path / "docs").rglob("*.html"))
    assert len(pages) > 1
    text = "".join(page.read_text() for page in pages)
    assert "production.quantity_positive" in text or "expect_column_values_to_be_between" in text


def test_the_checks_of_many_days_read_a_month_at_a_time():
    """The first run checks every day of the history: the days go a month at a time, and the
    results come in the order one call on all days gives them."""
    days = [DAY1 + timedelta(days=offset) for offset in range(70)]
    calls: list[list[date]] = []

    def check(day_list: list[date] | None) -> list[CheckResult]:
        calls.append(day_list)
        return [
            CheckResult("s", name, "warning", True, 0, (), "", landing_date=day)
            for name in ("a", "b")
            for day in day_list
        ]

    results = in_chunks(days, check)
    assert [len(call) for call in calls] == [31, 31, 8]
    assert [(result.expectation, result.landing_date) for result in results] == [
        (name, day) for name in ("a", "b") for day in days
    ]


def test_reference_and_timeline_checks_by_month_answer_as_over_all_days(con):
    """Chunked or not, the same result for every check and day of 70 days with failures in each month."""
    days = [DAY1 + timedelta(days=offset) for offset in range(70)]
    for offset in (0, 33, 69):
        day = days[offset]
        insert(con, "shipments", landing_date=day, **{**ROW_DEFAULTS["shipments"], "lot_code": f"NEVER-MADE-{offset}"})
        early = {**ROW_DEFAULTS["shipments"], "shipped_at": datetime(2026, 5, 1, 9), "line_no": 100 + offset}
        insert(con, "shipments", landing_date=day, **early)

    def answers(results: list[CheckResult]) -> list[tuple]:
        return [
            (r.expectation, r.landing_date, r.success, r.failing_count, r.sample_keys, r.checked_count) for r in results
        ]

    whole = _reference_checks(con, as_of=days[-1], grace_days=3, day_list=days) + _timeline_checks(con, days)
    by_month = reference_checks(con, as_of=days[-1], grace_days=3, days=days) + timeline_checks(con, days=days)
    assert answers(by_month) == answers(whole)
    failing = {(r.expectation, r.landing_date) for r in by_month if not r.success}
    # the last day's unknown lot is still within its grace days
    assert {("shipments.lot_known", days[offset]) for offset in (0, 33)} <= failing
    assert ("shipments.lot_known_within_grace", days[69]) in failing
    assert {("shipments.shipped_after_made", days[offset]) for offset in (0, 33, 69)} <= failing


def test_a_validation_does_not_keep_its_frame():
    """Great Expectations caches every batch in its execution engine; validate_frame drops it, or
    a first run's checks would keep a month of rows per suite alive while dbt builds beside them."""
    frame = pd.DataFrame({"lot_code": [f"L{n}" for n in range(1000)], "quantity": range(1000)})
    check = Check("frames.quantity_known", "error", "", gxe.ExpectColumnValuesToNotBeNull(column="quantity"))
    results = validate_frame(frame, suite="test.frames", checks=[check], key_columns=["lot_code"])
    assert [(r.expectation, r.success, r.checked_count) for r in results] == [("frames.quantity_known", True, 1000)]
    kept = weakref.ref(frame)
    del frame
    gc.collect()
    assert kept() is None
