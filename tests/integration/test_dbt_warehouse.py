"""The dbt warehouse on a hand-built lot network: a real `dbt build` into a temporary DuckDB
file, then the recall macros, stock, mass balance and loop report checked lot by lot.

The network (plain data below, one list of rows per feed and landing day):

    F1 (flour, S-MILL lot M-77) --400--> D1 (dough, P1) --300--> B'1 (bread, P1) -> DC1 -> C1, C2 (C2 returns 20)
                               \\--300--> D2 (dough, P1) --250--> B2 (bread, P1) -> C1, C2
    F2 (flour, S-MILL lot M-78) --200--> D2                      B2 --50--> B2R (rework, written off)
                               \\--100--> LA <--10--> LB (a data loop), LC --1--> LC (self loop)
    SG1 (sugar, S-SUGAR SU-1)  ---50---> D1, --20--> K1 (cake, P2; on hold; the sugar was never
                                                      moved to P2, so SG1 is overdrawn there)
    D1 --300--> B2, D1 --5--> B2R (a shortcut: B2R is 1 step from D1, not 2)
    D2 --250--> K1 (after a transfer P1 -> P2), GHOST --5--> K1 (an input lot never produced
    or received). F2 has a transfer out that never arrived.

Re-sends: day 2026-03-03's production is re-sent with B2 corrected from 700 to 800, and day
2026-03-06's shipments with SH2/1 corrected from 300 to 280 (the raw rows of the day are
replaced, as ingestion does). Inspection I-3 is delivered on two days (the later one wins);
product FIN-BREAD's unit cost changes from 1.2 to 1.3 in a later master-data snapshot.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import subprocess
import sys
import time
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from batchtrack.feeds import FEEDS_BY_NAME
from batchtrack.warehouse_schema import ensure_ingest_schema

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
DBT_PROJECT = REPO / "dbt_project"

B1 = "B'1"  # a lot code with a quote in it

# ---------------------------------------------------------------------------------------
# The network, as landing days: {day: {feed: [row, ...]}}. Missing optional columns are null.
# ---------------------------------------------------------------------------------------


def _product(code, category, unit, shelf_life, cost, description=None):
    return dict(
        product_code=code,
        description=description or code,
        category=category,
        base_unit=unit,
        shelf_life_days=shelf_life,
        unit_cost=cost,
    )


def _production(lot, product, site, line, at, quantity, **optional):
    return dict(
        lot_code=lot,
        product_code=product,
        site_code=site,
        line_code=line,
        produced_at=at,
        quantity=quantity,
        **optional,
    )


def _consumption(output_lot, input_lot, quantity, at):
    return dict(lot_code=output_lot, input_lot_code=input_lot, quantity=quantity, consumed_at=at)


def _movement(movement_id, lot, product, site, movement_type, quantity, at, location=None, **optional):
    return dict(
        movement_id=movement_id,
        lot_code=lot,
        product_code=product,
        site_code=site,
        location_code=location,
        movement_type=movement_type,
        quantity=quantity,
        moved_at=at,
        **optional,
    )


def _shipment(shipment_id, line_no, lot, product, quantity, at, site, customer):
    return dict(
        shipment_id=shipment_id,
        line_no=line_no,
        lot_code=lot,
        product_code=product,
        quantity=quantity,
        shipped_at=at,
        site_code=site,
        customer_code=customer,
    )


def _inspection(inspection_id, lot, at, check, sample_size, defects, result):
    return dict(
        inspection_id=inspection_id,
        lot_code=lot,
        inspected_at=at,
        check_code=check,
        sample_size=sample_size,
        defect_count=defects,
        result=result,
    )


NETWORK: dict[str, dict[str, list[dict]]] = {
    "2026-03-01": {
        "products": [
            _product("RAW-FLOUR", "raw", "kg", 60, 0.8),
            _product("RAW-SUGAR", "raw", "kg", 180, 1.5),
            _product("INT-DOUGH", "intermediate", "kg", 3, 2.0),
            _product("FIN-BREAD", "finished", "ea", 10, 1.2),
            _product("FIN-CAKE", "finished", "ea", 7, 4.0),
        ],
        "suppliers": [
            dict(supplier_code="S-MILL", name="Mill & Co"),
            dict(supplier_code="S-SUGAR", name="Sugar Ltd"),
        ],
        "customers": [
            dict(customer_code="C1", name="O'Brien's Bakery", contact_email="ob@example.com", phone="+1 555 0101"),
            dict(customer_code="C2", name="Corner Shop", contact_email="cs@example.com"),
        ],
        "inventory": [
            _movement(
                "M1",
                "F1",
                "RAW-FLOUR",
                "P1",
                "receipt",
                1000,
                "2026-03-01T08:00:00",
                "RM-01",
                supplier_code="S-MILL",
                supplier_lot_code="M-77",
            ),
            _movement(
                "M2",
                "F2",
                "RAW-FLOUR",
                "P1",
                "receipt",
                500,
                "2026-03-01T08:10:00",
                "RM-02",
                supplier_code="S-MILL",
                supplier_lot_code="M-78",
            ),
            _movement(
                "M3",
                "SG1",
                "RAW-SUGAR",
                "P1",
                "receipt",
                200,
                "2026-03-01T08:20:00",
                "RM-03",
                supplier_code="S-SUGAR",
                supplier_lot_code="SU-1",
            ),
        ],
        "inspections": [_inspection("I-4", "F1", "2026-03-01T09:00:00", "MOISTURE", 5, 0, "pass")],
    },
    "2026-03-02": {
        "production": [
            _production("D1", "INT-DOUGH", "P1", "L1", "2026-03-02T06:00:00", 620),
            _production("D2", "INT-DOUGH", "P1", "L2", "2026-03-02T06:30:00", 500),
        ],
        "consumption": [
            _consumption("D1", "F1", 400, "2026-03-02T06:00:00"),
            _consumption("D1", "SG1", 50, "2026-03-02T06:00:00"),
            _consumption("D2", "F1", 300, "2026-03-02T06:30:00"),
            _consumption("D2", "F2", 200, "2026-03-02T06:30:00"),
        ],
    },
    "2026-03-03": {
        "production": [
            _production(B1, "FIN-BREAD", "P1", "L3", "2026-03-03T05:00:00", 1000),
            # corrected to 800 by the re-send of this day (RESENDS)
            _production("B2", "FIN-BREAD", "P1", "L3", "2026-03-03T07:00:00", 700),
        ],
        "consumption": [
            _consumption(B1, "D1", 300, "2026-03-03T05:00:00"),
            _consumption("B2", "D1", 300, "2026-03-03T07:00:00"),
            _consumption("B2", "D2", 250, "2026-03-03T07:00:00"),
        ],
        "inventory": [
            _movement("M4", "D1", "INT-DOUGH", "P1", "scrap", 10, "2026-03-03T09:00:00"),
            _movement("M5", "D2", "INT-DOUGH", "P1", "transfer_out", 250, "2026-03-03T10:00:00", "FL-2"),
            _movement("M6", "D2", "INT-DOUGH", "P2", "transfer_in", 250, "2026-03-03T14:00:00", "FL-9"),
        ],
        "inspections": [
            _inspection("I-1", B1, "2026-03-03T08:00:00", "MICRO", 10, 0, "pass"),
            _inspection("I-2", "B2", "2026-03-03T09:00:00", "WEIGHT", 20, 3, "fail"),
        ],
    },
    "2026-03-04": {
        "production": [_production("K1", "FIN-CAKE", "P2", "L9", "2026-03-04T06:00:00", 400)],
        "consumption": [
            _consumption("K1", "D2", 250, "2026-03-04T06:00:00"),
            _consumption("K1", "SG1", 20, "2026-03-04T06:00:00"),
            _consumption("K1", "GHOST", 5, "2026-03-04T06:00:00"),
        ],
        "inventory": [
            _movement("M7", B1, "FIN-BREAD", "P1", "transfer_out", 600, "2026-03-04T10:00:00", "FG-1"),
            _movement("M8", B1, "FIN-BREAD", "DC1", "transfer_in", 600, "2026-03-04T16:00:00", "A-01"),
            _movement("M9", "B2", "FIN-BREAD", "P1", "hold", 0, "2026-03-04T11:00:00"),
        ],
    },
    "2026-03-05": {
        "products": [_product("FIN-BREAD", "finished", "ea", 10, 1.3, "Bread (new recipe)")],
        "production": [
            _production("B2R", "FIN-BREAD", "P1", "L3", "2026-03-05T06:00:00", 50, expiry_date="2026-03-06"),
        ],
        "consumption": [
            _consumption("B2R", "B2", 50, "2026-03-05T06:00:00"),
            _consumption("B2R", "D1", 5, "2026-03-05T06:00:00"),
        ],
        "inventory": [_movement("M10", "B2", "FIN-BREAD", "P1", "release", 0, "2026-03-05T08:00:00")],
        "shipments": [
            _shipment("SH1", 1, B1, "FIN-BREAD", 200, "2026-03-05T12:00:00", "DC1", "C1"),
            _shipment("SH1", 2, "B2", "FIN-BREAD", 100, "2026-03-05T12:00:00", "P1", "C1"),
        ],
        "inspections": [_inspection("I-3", "K1", "2026-03-05T09:00:00", "MICRO", 10, 1, "pass")],
    },
    "2026-03-06": {
        "production": [
            _production("LA", "INT-DOUGH", "P1", "L1", "2026-03-06T06:00:00", 100),
            _production("LB", "INT-DOUGH", "P1", "L1", "2026-03-06T07:00:00", 100),
            _production("LC", "INT-DOUGH", "P1", "L1", "2026-03-06T08:00:00", 50),
        ],
        "consumption": [
            _consumption("LA", "F2", 100, "2026-03-06T06:00:00"),
            _consumption("LB", "LA", 10, "2026-03-06T07:00:00"),
            _consumption("LA", "LB", 10, "2026-03-06T07:30:00"),
            _consumption("LC", "LC", 1, "2026-03-06T08:00:00"),
        ],
        "shipments": [
            # corrected to 280 by the re-send of this day (RESENDS)
            _shipment("SH2", 1, B1, "FIN-BREAD", 300, "2026-03-06T12:00:00", "DC1", "C2"),
            _shipment("SH3", 1, "B2", "FIN-BREAD", 500, "2026-03-06T13:00:00", "P1", "C2"),
        ],
        # I-3 again, with a corrected defect count: the later delivery wins
        "inspections": [_inspection("I-3", "K1", "2026-03-05T09:00:00", "MICRO", 10, 2, "fail")],
    },
    "2026-03-07": {
        "inventory": [_movement("M11", B1, "FIN-BREAD", "DC1", "return", 20, "2026-03-07T10:00:00", reference="RMA-1")],
    },
    "2026-03-08": {
        "inventory": [_movement("M12", "B2R", "FIN-BREAD", "P1", "expiry_writeoff", 30, "2026-03-08T10:00:00", "QA-1")],
    },
    "2026-03-09": {
        "inventory": [
            _movement("M13", "SG1", "RAW-SUGAR", "P1", "adjustment", -2, "2026-03-09T10:00:00"),
            # sent to DC1, never received there
            _movement("M14", "F2", "RAW-FLOUR", "P1", "transfer_out", 50, "2026-03-09T11:00:00", "RM-02"),
        ],
    },
    "2026-03-10": {
        "inventory": [_movement("M15", "K1", "FIN-CAKE", "P2", "hold", 0, "2026-03-10T09:00:00")],
    },
}

# Corrected re-sends: the whole feed of that day is delivered again and replaces the first.
RESENDS: dict[str, dict[str, list[dict]]] = {
    "2026-03-03": {
        "production": [
            _production(B1, "FIN-BREAD", "P1", "L3", "2026-03-03T05:00:00", 1000),
            _production("B2", "FIN-BREAD", "P1", "L3", "2026-03-03T07:00:00", 800),
        ],
    },
    "2026-03-06": {
        "shipments": [
            _shipment("SH2", 1, B1, "FIN-BREAD", 280, "2026-03-06T12:00:00", "DC1", "C2"),
            _shipment("SH3", 1, "B2", "FIN-BREAD", 500, "2026-03-06T13:00:00", "P1", "C2"),
        ],
    },
}

# ---------------------------------------------------------------------------------------
# Writing the network into the raw layer, as the ingestion library would.
# ---------------------------------------------------------------------------------------

_PARSERS = {
    "timestamp": datetime.fromisoformat,
    "date": date.fromisoformat,
    "decimal": float,
    "integer": int,
    "text": str,
}


def load_feed_day(con: duckdb.DuckDBPyConnection, day: str, feed_name: str, rows: list[dict]) -> None:
    """Replace what `day` delivered for `feed_name` with `rows` (lines 2, 3, ... of its file)."""
    feed = FEEDS_BY_NAME[feed_name]
    landing_date = date.fromisoformat(day)
    source_file = f"{day}/{feed_name}.csv"
    file_hash = str(hash((day, feed_name, json.dumps(rows, sort_keys=True))))
    columns = [
        *feed.column_names,
        "extra_columns",
        "landing_date",
        "source_file",
        "line_number",
        "file_hash",
        "loaded_at",
    ]
    con.execute(f"delete from raw.{feed_name} where landing_date = ?", [landing_date])
    # As the loader does: the incremental models rebuild the days stamped after their last build.
    con.execute(
        "insert or replace into ingest.feed_day_changes values (?, ?, ?)", [landing_date, feed_name, datetime.now()]
    )
    for line_number, row in enumerate(rows, start=2):
        unknown = set(row) - set(feed.column_names)
        assert not unknown, f"{feed_name} has no columns {unknown}"
        values = [
            None if row.get(column.name) is None else _PARSERS[column.type](row[column.name]) for column in feed.columns
        ]
        values += ["{}", landing_date, source_file, line_number, file_hash, datetime(2026, 3, 11)]
        con.execute(
            f"insert into raw.{feed_name} ({', '.join(columns)}) values ({', '.join('?' for _ in columns)})",
            values,
        )


def write_network(path: Path, days: list[str] | None = None, *, resends: bool = True) -> None:
    """The network's landing days (all, or `days`) and then, unless told not to, the re-sends."""
    with contextlib.closing(duckdb.connect(str(path))) as con:
        ensure_ingest_schema(con)
        for day in NETWORK if days is None else days:
            for feed_name, rows in NETWORK[day].items():
                load_feed_day(con, day, feed_name, rows)
        for day, feeds in RESENDS.items() if resends else ():
            for feed_name, rows in feeds.items():
                load_feed_day(con, day, feed_name, rows)


def run_dbt(tmp: Path, warehouse: Path, *args: str) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "BATCHTRACK_DBT_WAREHOUSE": str(warehouse),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DBT_LOG_PATH": str(tmp / "dbt_logs"),
    }
    return subprocess.run(
        [
            str(BIN / "dbt"),
            *args,
            "--project-dir",
            str(DBT_PROJECT),
            "--profiles-dir",
            str(DBT_PROJECT),
            "--target-path",
            str(tmp / "dbt_target"),
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp,
        timeout=900,
    )


@pytest.fixture(scope="session")
def built_warehouse(tmp_path_factory) -> Path:
    """The network written to raw tables and built with one real `dbt build`."""
    tmp = tmp_path_factory.mktemp("dbt_warehouse")
    warehouse = tmp / "warehouse.duckdb"
    write_network(warehouse)
    started = time.perf_counter()
    result = run_dbt(tmp, warehouse, "build")
    elapsed = time.perf_counter() - started
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    print(f"\ndbt build on the test network took {elapsed:.1f} s")
    (tmp / "dbt_build.log").write_text(result.stdout)
    return warehouse


@pytest.fixture(scope="session")
def con(built_warehouse):
    """A fresh read-only connection, as a quality engineer opens the file."""
    connection = duckdb.connect(str(built_warehouse), read_only=True)
    yield connection
    connection.close()


def rows(con, sql: str, params=()) -> list[tuple]:
    return con.execute(sql, list(params)).fetchall()


def depths(con, macro: str, lot: str) -> dict[str, int]:
    result = rows(con, f"select lot_code, depth from {macro}(?)", [lot])
    assert len(result) == len({lot_code for lot_code, _ in result}), "a lot appears twice"
    return dict(result)


# ---------------------------------------------------------------------------------------
# trace_forward / trace_backward
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lot", "expected"),
    [
        ("F1", {"F1": 0, "D1": 1, "D2": 1, B1: 2, "B2": 2, "B2R": 2, "K1": 2}),
        ("F2", {"F2": 0, "D2": 1, "LA": 1, "B2": 2, "K1": 2, "LB": 2, "B2R": 3}),
        ("SG1", {"SG1": 0, "D1": 1, "K1": 1, B1: 2, "B2": 2, "B2R": 2}),
        ("D1", {"D1": 0, B1: 1, "B2": 1, "B2R": 1}),
        ("LA", {"LA": 0, "LB": 1}),
        ("LB", {"LB": 0, "LA": 1}),
        ("LC", {"LC": 0}),
        (B1, {B1: 0}),
        ("GHOST", {"GHOST": 0, "K1": 1}),
    ],
)
def test_trace_forward(con, lot, expected):
    assert depths(con, "trace_forward", lot) == expected


@pytest.mark.parametrize(
    ("lot", "expected"),
    [
        ("B2R", {"B2R": 0, "B2": 1, "D1": 1, "D2": 2, "F1": 2, "SG1": 2, "F2": 3}),
        ("K1", {"K1": 0, "D2": 1, "SG1": 1, "GHOST": 1, "F1": 2, "F2": 2}),
        (B1, {B1: 0, "D1": 1, "F1": 2, "SG1": 2}),
        ("LA", {"LA": 0, "F2": 1, "LB": 1}),
        ("LC", {"LC": 0}),
        ("F1", {"F1": 0}),
    ],
)
def test_trace_backward(con, lot, expected):
    assert depths(con, "trace_backward", lot) == expected


def test_trace_backward_names_suppliers_and_their_lot_codes(con):
    result = rows(
        con,
        "select lot_code, supplier_code, supplier_lot_code from trace_backward(?) where supplier_code is not null",
        ["B2R"],
    )
    assert sorted(result) == [("F1", "S-MILL", "M-77"), ("F2", "S-MILL", "M-78"), ("SG1", "S-SUGAR", "SU-1")]


def test_trace_returns_product_codes(con):
    assert dict(rows(con, "select lot_code, product_code from trace_forward('SG1')")) == {
        "SG1": "RAW-SUGAR",
        "D1": "INT-DOUGH",
        "K1": "FIN-CAKE",
        B1: "FIN-BREAD",
        "B2": "FIN-BREAD",
        "B2R": "FIN-BREAD",
    }


@pytest.mark.parametrize("macro", ["trace_forward", "trace_backward", "recall_shipments", "recall_on_hand"])
@pytest.mark.parametrize("lot", ["NOPE", "", "'; drop table main.dim_lots; --", "F1'", None])
def test_unknown_lots_return_no_rows(con, macro, lot):
    assert rows(con, f"select * from {macro}(?)", [lot]) == []


def test_macros_have_the_contract_columns(con):
    contract = {
        "trace_forward": ["lot_code", "product_code", "depth"],
        "trace_backward": ["lot_code", "product_code", "depth", "supplier_code", "supplier_lot_code"],
        "recall_shipments": [
            "shipment_id",
            "line_no",
            "lot_code",
            "product_code",
            "customer_code",
            "quantity",
            "shipped_at",
        ],
        "recall_on_hand": ["lot_code", "site_code", "location_code", "quantity_on_hand", "status"],
    }
    for macro, columns in contract.items():
        described = [row[0] for row in rows(con, f"describe select * from {macro}('F1')")]
        assert described[: len(columns)] == columns, macro


# ---------------------------------------------------------------------------------------
# recall_shipments / recall_on_hand
# ---------------------------------------------------------------------------------------

ALL_SHIPMENTS = [
    ("SH1", 1, B1, "FIN-BREAD", "C1", 200.0),
    ("SH1", 2, "B2", "FIN-BREAD", "C1", 100.0),
    ("SH2", 1, B1, "FIN-BREAD", "C2", 280.0),
    ("SH3", 1, "B2", "FIN-BREAD", "C2", 500.0),
]


@pytest.mark.parametrize(
    ("lot", "expected"),
    [
        ("F1", ALL_SHIPMENTS),
        ("SG1", ALL_SHIPMENTS),
        ("F2", [ALL_SHIPMENTS[1], ALL_SHIPMENTS[3]]),
        (B1, [ALL_SHIPMENTS[0], ALL_SHIPMENTS[2]]),
        ("LA", []),
        ("K1", []),
    ],
)
def test_recall_shipments(con, lot, expected):
    result = rows(
        con,
        "select shipment_id, line_no, lot_code, product_code, customer_code, quantity from recall_shipments(?)"
        " order by shipment_id, line_no",
        [lot],
    )
    assert result == expected


def test_recall_shipments_carry_time_and_customer_contact(con):
    result = rows(
        con, "select shipped_at, customer_name, customer_phone from recall_shipments(?) where line_no = 2", ["F1"]
    )
    assert result == [(datetime(2026, 3, 5, 12), "O'Brien's Bakery", "+1 555 0101")]


# (lot, site, location, quantity, status) of every position still holding stock
ON_HAND = {
    "F1": ("F1", "P1", "RM-01", 300.0, "released"),
    "F2": ("F2", "P1", "RM-02", 150.0, "released"),
    "SG1": ("SG1", "P1", "RM-03", 148.0, "released"),
    "D1": ("D1", "P1", None, 5.0, "expired"),
    "B1@P1": (B1, "P1", "FG-1", 400.0, "released"),
    "B1@DC1": (B1, "DC1", "A-01", 140.0, "released"),
    "B2": ("B2", "P1", None, 150.0, "released"),
    "B2R": ("B2R", "P1", "QA-1", 20.0, "expired"),
    "K1": ("K1", "P2", None, 400.0, "on_hold"),
    "LA": ("LA", "P1", None, 90.0, "expired"),
    "LB": ("LB", "P1", None, 90.0, "expired"),
    "LC": ("LC", "P1", None, 49.0, "expired"),
}


def _positions(*keys: str) -> list[tuple]:
    return sorted((ON_HAND[key] for key in keys), key=lambda row: (row[0], row[1]))


@pytest.mark.parametrize(
    ("lot", "expected"),
    [
        ("F1", _positions("F1", "D1", "B1@P1", "B1@DC1", "B2", "B2R", "K1")),
        ("F2", _positions("F2", "B2", "K1", "LA", "LB", "B2R")),
        (B1, _positions("B1@P1", "B1@DC1")),
        ("D2", _positions("B2", "B2R", "K1")),
        ("LC", _positions("LC")),
        ("GHOST", _positions("K1")),
    ],
)
def test_recall_on_hand(con, lot, expected):
    result = rows(
        con,
        "select lot_code, site_code, location_code, quantity_on_hand, status from recall_on_hand(?)"
        " order by lot_code, site_code",
        [lot],
    )
    assert result == expected


def test_stock_on_hand_is_every_position(con):
    result = rows(
        con,
        "select lot_code, site_code, location_code, quantity_on_hand, status from fct_stock_on_hand"
        " order by lot_code, site_code",
    )
    assert result == _positions(*ON_HAND)


def test_stock_age_and_expiry_are_as_of_the_latest_data_day(con):
    result = rows(
        con,
        "select as_of_date, stock_age_days, days_to_expiry, stock_age_bucket, expiry_bucket"
        " from fct_stock_on_hand where lot_code = 'K1'",
    )
    assert result == [(date(2026, 3, 10), 6, 1, "0-7 days", "0-7 days")]


# ---------------------------------------------------------------------------------------
# lots, mass balance, loops
# ---------------------------------------------------------------------------------------


def test_lots_have_origin_and_status(con):
    result = dict(
        (row[0], row[1:])
        for row in rows(
            con,
            "select lot_code, origin_type, site_code, line_code, supplier_code, supplier_lot_code, current_status"
            " from dim_lots",
        )
    )
    assert result == {
        "F1": ("received", "P1", None, "S-MILL", "M-77", "released"),
        "F2": ("received", "P1", None, "S-MILL", "M-78", "released"),
        "SG1": ("received", "P1", None, "S-SUGAR", "SU-1", "released"),
        "D1": ("produced", "P1", "L1", None, None, "expired"),
        "D2": ("produced", "P1", "L2", None, None, "consumed"),
        B1: ("produced", "P1", "L3", None, None, "released"),
        "B2": ("produced", "P1", "L3", None, None, "released"),
        "B2R": ("produced", "P1", "L3", None, None, "expired"),
        "K1": ("produced", "P2", "L9", None, None, "on_hold"),
        "LA": ("produced", "P1", "L1", None, None, "expired"),
        "LB": ("produced", "P1", "L1", None, None, "expired"),
        "LC": ("produced", "P1", "L1", None, None, "expired"),
        "GHOST": ("unresolved", None, None, None, None, "unresolved"),
    }


def test_lot_expiry_dates(con):
    result = dict(rows(con, "select lot_code, expiry_date from dim_lots where lot_code in ('F1', 'B2R', 'K1')"))
    assert result == {"F1": date(2026, 4, 30), "B2R": date(2026, 3, 6), "K1": date(2026, 3, 11)}


def test_resent_day_and_redelivered_keys_take_the_latest_values(con):
    assert rows(con, "select quantity_made_or_received from dim_lots where lot_code = 'B2'") == [(800.0,)]
    assert rows(con, "select quantity_shipped from fct_shipment_lines where shipment_id = 'SH2'") == [(280.0,)]
    assert rows(con, "select defects from fct_inspection_defects where lot_code = 'K1'") == [(2,)]
    assert rows(con, "select unit_cost from dim_products where product_code = 'FIN-BREAD'") == [(Decimal("1.3"),)]


def test_mass_balance_closes_where_it_should_and_not_where_it_should_not(con):
    result = {
        lot: (difference, balanced, finding)
        for lot, difference, balanced, finding in rows(
            con, "select lot_code, balance_difference, is_balanced, finding from fct_lot_mass_balance"
        )
    }
    open_balances = {lot: value for lot, value in result.items() if not value[1]}
    assert open_balances == {
        "F2": (50.0, False, "transfers out and in do not net to zero"),
        "SG1": (-20.0, False, "more stock left a site than was there"),
        "GHOST": (-5.0, False, "lot was never produced or received"),
    }
    for lot in ("F1", "D1", "D2", B1, "B2", "B2R", "K1", "LA", "LB", "LC"):
        assert result[lot] == (0.0, True, None), lot


def test_mass_balance_terms_of_a_returned_and_transferred_lot(con):
    result = rows(
        con,
        "select quantity_made_or_received, quantity_shipped, quantity_returned, quantity_on_hand,"
        " quantity_transferred_out, quantity_transferred_in from fct_lot_mass_balance where lot_code = ?",
        [B1],
    )
    assert result == [(1000.0, 480.0, 20.0, 540.0, 600.0, 600.0)]


def test_genealogy_loops_are_reported(con):
    assert rows(con, "select lot_code from rpt_lot_genealogy_loops order by lot_code") == [("LA",), ("LB",), ("LC",)]


def test_genealogy_edges_use_integer_keys_sorted_by_input(con):
    edges = rows(con, "select input_lot_id, output_lot_id from fct_lot_genealogy")
    assert len(edges) == 16
    assert edges == sorted(edges)
    assert rows(con, "select typeof(input_lot_id) from fct_lot_genealogy limit 1") == [("BIGINT",)]


# ---------------------------------------------------------------------------------------
# expiry waste, stock at risk, defects
# ---------------------------------------------------------------------------------------


def test_expiry_waste_by_day_site_product(con):
    result = rows(
        con,
        "select writeoff_date, site_code, product_code, quantity_written_off, value_written_off"
        " from fct_expiry_writeoffs",
    )
    assert result == [(date(2026, 3, 8), "P1", "FIN-BREAD", 30.0, pytest.approx(39.0))]


def test_stock_at_risk(con):
    result = {
        (site, product): (value_7, value_14, value_30)
        for site, product, value_7, value_14, value_30 in rows(
            con,
            "select site_code, product_code, value_expiring_7_days, value_expiring_14_days,"
            " value_expiring_30_days from rpt_stock_at_risk",
        )
    }
    assert result == {
        ("P2", "FIN-CAKE"): (1600.0, 1600.0, 1600.0),
        ("P1", "FIN-BREAD"): (pytest.approx(715.0), pytest.approx(715.0), pytest.approx(715.0)),
        ("DC1", "FIN-BREAD"): (pytest.approx(182.0), pytest.approx(182.0), pytest.approx(182.0)),
    }


def test_defect_facts(con):
    result = rows(
        con,
        "select lot_code, line_code, product_code, check_code, inspected_date, samples, defects"
        " from fct_inspection_defects order by lot_code, check_code",
    )
    assert result == [
        (B1, "L3", "FIN-BREAD", "MICRO", date(2026, 3, 3), 10, 0),
        ("B2", "L3", "FIN-BREAD", "WEIGHT", date(2026, 3, 3), 20, 3),
        ("F1", None, "RAW-FLOUR", "MOISTURE", date(2026, 3, 1), 5, 0),
        ("K1", "L9", "FIN-CAKE", "MICRO", date(2026, 3, 5), 10, 2),
    ]


def test_defects_attributed_to_raw_material_suppliers(con):
    result = rows(
        con,
        "select finished_lot_code, supplier_code, supplier_lot_code, raw_lot_code, defects"
        " from fct_supplier_defect_attribution order by 1, 4",
    )
    assert result == [
        ("B2", "S-MILL", "M-77", "F1", 3),
        ("B2", "S-MILL", "M-78", "F2", 3),
        ("B2", "S-SUGAR", "SU-1", "SG1", 3),
        ("K1", "S-MILL", "M-77", "F1", 2),
        ("K1", "S-MILL", "M-78", "F2", 2),
        ("K1", "S-SUGAR", "SU-1", "SG1", 2),
    ]


# ---------------------------------------------------------------------------------------
# Any client, any file name
# ---------------------------------------------------------------------------------------


def test_macros_work_in_a_copy_of_the_file_under_another_name(built_warehouse, tmp_path):
    copy = tmp_path / "renamed_copy.duckdb"
    copy.write_bytes(built_warehouse.read_bytes())
    with contextlib.closing(duckdb.connect(str(copy), read_only=True)) as other:
        assert depths(other, "trace_forward", "D1") == {"D1": 0, B1: 1, "B2": 1, "B2R": 1}
        assert len(rows(other, "select * from recall_shipments('F1')")) == 4
        assert rows(other, "select count(*) from duckdb_views() where not internal") == [(0,)]


def test_duckdb_cli_calls_the_macros_read_only_with_a_quoted_lot_code(built_warehouse):
    result = subprocess.run(
        [
            str(BIN / "duckdb"),
            "-readonly",
            "-csv",
            str(built_warehouse),
            "-c",
            "select lot_code, depth from trace_backward('B''1') order by depth, lot_code",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "WARNING" not in result.stderr + result.stdout
    assert list(csv.reader(result.stdout.splitlines())) == [
        ["lot_code", "depth"],
        ["B'1", "0"],
        ["D1", "1"],
        ["F1", "2"],
        ["SG1", "2"],
    ]


def test_cli_recall_on_hand_for_a_quoted_lot_code(built_warehouse):
    result = subprocess.run(
        [
            str(BIN / "duckdb"),
            "-readonly",
            "-csv",
            str(built_warehouse),
            "-c",
            "select lot_code, site_code, quantity_on_hand from recall_on_hand('B''1') order by site_code",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert list(csv.reader(result.stdout.splitlines())) == [
        ["lot_code", "site_code", "quantity_on_hand"],
        ["B'1", "DC1", "140.000000"],
        ["B'1", "P1", "400.000000"],
    ]


def test_traces_on_a_looped_network_terminate_quickly(built_warehouse, tmp_path):
    """A dense web of loops (every lot feeds the next three, round a ring) must not hang."""
    copy = tmp_path / "loops.duckdb"
    copy.write_bytes(built_warehouse.read_bytes())
    with contextlib.closing(duckdb.connect(str(copy))) as looped:
        looped.execute("delete from main.fct_lot_genealogy")
        looped.execute("delete from main.fct_lot_genealogy_by_output")
        lot_count = looped.execute("select count(*) from main.dim_lots").fetchone()[0]
        looped.execute(
            """
            insert into main.fct_lot_genealogy (input_lot_id, output_lot_id)
            select lot_id, (lot_id - 1 + step) % ? + 1
            from main.dim_lots, range(1, 4) as steps(step)
            """,
            [lot_count],
        )
        looped.execute(
            "insert into main.fct_lot_genealogy_by_output (output_lot_id, input_lot_id)"
            " select output_lot_id, input_lot_id from main.fct_lot_genealogy"
        )
        first = looped.execute("select lot_code from main.dim_lots where lot_id = 1").fetchone()[0]
        started = time.perf_counter()
        forward = looped.execute("select lot_code, depth from trace_forward(?)", [first]).fetchall()
        backward = looped.execute("select lot_code, depth from trace_backward(?)", [first]).fetchall()
        assert time.perf_counter() - started < 10
    assert len(forward) == lot_count and len(backward) == lot_count
    # every lot is reached once, at the fewest steps round the ring (3 lots per step)
    assert max(depth for _, depth in forward) == -(-(lot_count - 1) // 3)
