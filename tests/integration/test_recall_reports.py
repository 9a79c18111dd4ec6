"""Recall reports (notification list, FSMA 204 sheet, mass balance) on a warehouse built the
real way: generated landing days plus one hand-written day of lots with quotes in their codes,
loaded by the installed `batchtrack ingest`. Expected answers are computed here from the
raw tables and the genealogy edges, not through the recall macros."""

from __future__ import annotations

import contextlib
import csv
import importlib.util
import json
from collections import defaultdict, deque
from datetime import date, timedelta
from pathlib import Path
from types import SimpleNamespace

import duckdb
import pytest

from batchtrack.generator import generate
from batchtrack.recall import UnknownLot
from batchtrack.recall_reports import (
    FSMA204_COLUMNS,
    fsma204_kdes,
    mass_balance_summary,
    notification_list,
    write_fsma204,
    write_notification_list,
)

# The hand-written day: lots whose codes carry both quote characters.
RAW_1 = "Q'R\"1"
RAW_2 = "Q\"R'2"
FINISHED = "Q'F\"1"
SUPPLIER_LOT_1 = "S'Q\"1"
TRANSFER_REF = "TR-Q'1"


def _read_csv(path: Path) -> list[dict]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _write_csv(path: Path, header: list[str], rows: list[dict]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)


def _add_quoted_day(landing: Path, manifest: dict) -> SimpleNamespace:
    """A day after the generated ones: two received lots, one finished lot made from both,
    transferred plant -> DC, shipped to two customers (one of them twice), scrapped, returned."""
    day = (date.fromisoformat(manifest["end_date"]) + timedelta(days=1)).isoformat()
    first_day = landing / manifest["start_date"]
    products = _read_csv(first_day / "products.csv")
    raw_product = next(p for p in products if p["category"] == "raw")
    finished_product = next(p for p in products if p["category"] == "finished")
    customers = [c["customer_code"] for c in _read_csv(first_day / "customers.csv")[:2]]
    supplier = _read_csv(first_day / "suppliers.csv")[0]["supplier_code"]
    plant = manifest["network"]["plants"][0]["site_code"]
    dc = manifest["network"]["dcs"][0]["site_code"]
    folder = landing / day
    folder.mkdir()

    def movement(movement_id, lot, product, site, kind, quantity, time, **optional):
        return dict(
            movement_id=movement_id,
            lot_code=lot,
            product_code=product,
            site_code=site,
            movement_type=kind,
            quantity=quantity,
            moved_at=f"{day}T{time}",
            **optional,
        )

    raw, fin = raw_product["product_code"], finished_product["product_code"]
    _write_csv(
        folder / "inventory.csv",
        [
            "movement_id",
            "lot_code",
            "product_code",
            "site_code",
            "location_code",
            "movement_type",
            "quantity",
            "moved_at",
            "supplier_code",
            "supplier_lot_code",
            "expiry_date",
            "reference",
        ],
        [
            movement(
                "MV-Q-1",
                RAW_1,
                raw,
                plant,
                "receipt",
                60,
                "06:00:00",
                location_code="RM-Q",
                supplier_code=supplier,
                supplier_lot_code=SUPPLIER_LOT_1,
                reference="PO-Q'1",
            ),
            movement(
                "MV-Q-2",
                RAW_2,
                raw,
                plant,
                "receipt",
                40,
                "06:05:00",
                location_code="RM-Q",
                supplier_code=supplier,
                supplier_lot_code="S2",
                reference="PO-Q'1",
            ),
            movement("MV-Q-3", FINISHED, fin, plant, "transfer_out", 100, "12:00:00", reference=TRANSFER_REF),
            movement("MV-Q-4", FINISHED, fin, dc, "transfer_in", 100, "14:00:00", reference=TRANSFER_REF),
            movement("MV-Q-5", FINISHED, fin, dc, "scrap", 5, "17:00:00", reference="DAMAGED"),
            movement("MV-Q-6", FINISHED, fin, dc, "return", 3, "18:00:00", reference="RMA-Q1"),
        ],
    )
    _write_csv(
        folder / "production.csv",
        ["lot_code", "product_code", "site_code", "line_code", "produced_at", "quantity", "production_order"],
        [
            dict(
                lot_code=FINISHED,
                product_code=fin,
                site_code=plant,
                line_code="L01",
                produced_at=f"{day}T10:00:00",
                quantity=100,
                production_order="MO-Q'1",
            )
        ],
    )
    _write_csv(
        folder / "consumption.csv",
        ["lot_code", "input_lot_code", "quantity", "consumed_at"],
        [
            dict(lot_code=FINISHED, input_lot_code=RAW_1, quantity=30, consumed_at=f"{day}T09:00:00"),
            dict(lot_code=FINISHED, input_lot_code=RAW_2, quantity=40, consumed_at=f"{day}T09:00:00"),
        ],
    )
    shipment_header = [
        "shipment_id",
        "line_no",
        "lot_code",
        "product_code",
        "quantity",
        "shipped_at",
        "site_code",
        "customer_code",
        "ship_to",
    ]
    _write_csv(
        folder / "shipments.csv",
        shipment_header,
        [
            dict(
                shipment_id="SH-Q1",
                line_no=1,
                lot_code=FINISHED,
                product_code=fin,
                quantity=30,
                shipped_at=f"{day}T16:00:00",
                site_code=dc,
                customer_code=customers[0],
                ship_to="1 Quay Street",
            ),
            dict(
                shipment_id="SH-Q1",
                line_no=2,
                lot_code=FINISHED,
                product_code=fin,
                quantity=20,
                shipped_at=f"{day}T16:05:00",
                site_code=dc,
                customer_code=customers[0],
                ship_to="1 Quay Street",
            ),
            dict(
                shipment_id="SH-Q2",
                line_no=1,
                lot_code=FINISHED,
                product_code=fin,
                quantity=25,
                shipped_at=f"{day}T16:10:00",
                site_code=dc,
                customer_code=customers[1],
                ship_to="2 Quay Street",
            ),
        ],
    )
    return SimpleNamespace(
        day=date.fromisoformat(day),
        plant=plant,
        dc=dc,
        customers=customers,
        supplier=supplier,
        raw_unit=raw_product["base_unit"],
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory, cli):
    root = tmp_path_factory.mktemp("recall_reports")
    landing, warehouse = root / "landing", root / "warehouse.duckdb"
    generate(landing, days=12, seed=5, scale="small")
    manifest = json.loads((landing / "_generator.json").read_text(encoding="utf-8"))
    quoted = _add_quoted_day(landing, manifest)
    result = cli("ingest", "--warehouse", str(warehouse), "--landing", str(landing))
    assert result.returncode == 0, result.stdout + result.stderr
    return SimpleNamespace(warehouse=warehouse, example=manifest["recall_example"], quoted=quoted, root=root)


@pytest.fixture()
def con(built):
    with contextlib.closing(duckdb.connect(str(built.warehouse), read_only=True)) as connection:
        yield connection


# ---------------------------------------------------------------- independent answers


def traced_lots(con, lot_code: str) -> set[str]:
    """Forward trace by breadth-first search over the genealogy edges, in Python."""
    outputs = defaultdict(set)
    for input_lot, output_lot in con.execute(
        "select input_lot_code, output_lot_code from main.fct_lot_genealogy"
    ).fetchall():
        outputs[input_lot].add(output_lot)
    seen, queue = {lot_code}, deque([lot_code])
    while queue:
        for output_lot in outputs[queue.popleft()] - seen:
            seen.add(output_lot)
            queue.append(output_lot)
    return seen


# Raw feed rows, the latest delivery of a key winning (the contract's rule), so re-sends
# would not count twice.
LATEST_RAW = """
create or replace temp table latest_production as
    select * from raw.production
    qualify row_number() over (partition by lot_code order by landing_date desc, line_number desc) = 1;
create or replace temp table latest_inventory as
    select * from raw.inventory
    qualify row_number() over (partition by movement_id order by landing_date desc, line_number desc) = 1;
create or replace temp table latest_shipments as
    select * from raw.shipments
    qualify row_number() over (partition by shipment_id, line_no order by landing_date desc, line_number desc) = 1;
create or replace temp table latest_consumption as
    select * from raw.consumption
    qualify landing_date = max(landing_date) over (partition by lot_code, input_lot_code, consumed_at);
"""


def raw_balances(con, lots: set[str]) -> dict[str, dict[str, float]]:
    """Per lot, the mass balance terms summed from the raw feeds."""
    con.execute(LATEST_RAW)
    lot_list = sorted(lots)
    terms = {
        lot: dict.fromkeys(
            ["made", "returned", "adjusted", "consumed", "shipped", "scrapped", "written_off", "on_hand"], 0.0
        )
        for lot in lot_list
    }
    for lot, quantity in con.execute(
        "select lot_code, sum(quantity)::double from latest_production where lot_code in (select unnest(?)) group by 1",
        [lot_list],
    ).fetchall():
        terms[lot]["made"] += quantity
    for lot, kind, quantity in con.execute(
        """select lot_code, movement_type, sum(quantity)::double from latest_inventory
        where lot_code in (select unnest(?)) group by 1, 2""",
        [lot_list],
    ).fetchall():
        key = {
            "receipt": "made",
            "return": "returned",
            "adjustment": "adjusted",
            "scrap": "scrapped",
            "expiry_writeoff": "written_off",
        }.get(kind)
        if key:
            terms[lot][key] += quantity
    for lot, quantity in con.execute(
        "select input_lot_code, sum(quantity)::double from latest_consumption where input_lot_code in (select unnest(?)) group by 1",
        [lot_list],
    ).fetchall():
        terms[lot]["consumed"] += quantity
    for lot, quantity in con.execute(
        "select lot_code, sum(quantity)::double from latest_shipments where lot_code in (select unnest(?)) group by 1",
        [lot_list],
    ).fetchall():
        terms[lot]["shipped"] += quantity
    # Stock per site: production adds at its site, consumption leaves the consuming lot's
    # production site, shipments leave theirs, inventory movements move at theirs.
    ledger = con.execute(
        """
        with moves as (
            select lot_code, site_code, quantity from latest_production
            union all
            select consumed.input_lot_code, made.site_code, -consumed.quantity
            from latest_consumption as consumed
            inner join latest_production as made on consumed.lot_code = made.lot_code
            union all
            select lot_code, site_code, -quantity from latest_shipments
            union all
            select lot_code, site_code,
                case when movement_type in ('receipt', 'transfer_in', 'return') then quantity
                     when movement_type = 'adjustment' then quantity
                     when movement_type in ('transfer_out', 'scrap', 'expiry_writeoff') then -quantity
                     else 0 end
            from latest_inventory
        )
        select lot_code, site_code, sum(quantity)::double from moves where lot_code in (select unnest(?)) group by 1, 2
        """,
        [lot_list],
    ).fetchall()
    for lot, _site, quantity in ledger:
        terms[lot]["on_hand"] += max(quantity, 0.0)
    for values in terms.values():
        values["unaccounted"] = (
            values["made"]
            + values["returned"]
            + values["adjusted"]
            - values["consumed"]
            - values["shipped"]
            - values["scrapped"]
            - values["written_off"]
            - values["on_hand"]
        )
    return terms


# ---------------------------------------------------------------- notification list


def test_notification_list_equals_shipments_of_the_traced_lots_per_customer(built, con):
    lot = built.example["lot_code"]
    lots = traced_lots(con, lot)
    assert len(lots) == built.example["downstream_lots"] + 1
    expected = {
        customer: (quantity, lines, first, last)
        for customer, quantity, lines, first, last in con.execute(
            """
            select customer_code, sum(quantity_shipped), count(*), min(shipped_at), max(shipped_at)
            from main.fct_shipment_lines where lot_code in (select unnest(?)) group by customer_code
            """,
            [sorted(lots)],
        ).fetchall()
    }
    frame = notification_list(con, lot)
    assert frame.height == len(expected) == built.example["customers"]
    got = {
        row["customer_code"]: (row["quantity"], row["shipment_lines"], row["first_shipped_at"], row["last_shipped_at"])
        for row in frame.to_dicts()
    }
    assert got.keys() == expected.keys()
    for customer, (quantity, lines, first, last) in expected.items():
        assert float(got[customer][0]) == pytest.approx(float(quantity)), customer
        assert got[customer][1:] == (lines, first, last), customer
    assert frame["shipment_lines"].sum() == built.example["shipment_lines"]
    assert frame["quantity"].to_list() == sorted(frame["quantity"].to_list(), reverse=True)
    assert all(set(row["lot_codes"]) <= lots for row in frame.to_dicts())


def test_notification_list_carries_contact_details_and_units(built, con):
    frame = notification_list(con, built.example["lot_code"])
    contacts = {
        code: (name, country, email, phone)
        for code, name, country, email, phone in con.execute(
            "select customer_code, customer_name, customer_country, customer_contact_email, customer_phone "
            "from main.dim_customers"
        ).fetchall()
    }
    for row in frame.to_dicts():
        assert (
            row["customer_name"],
            row["customer_country"],
            row["customer_contact_email"],
            row["customer_phone"],
        ) == contacts[row["customer_code"]]
        assert row["ship_to"], row["customer_code"]
        assert row["unit_of_measure"] == "ea"  # the example's finished goods are counted in each
        assert row["quantity_by_unit"] == [f"{row['quantity']:,.3f}".rstrip("0").rstrip(".") + " ea"]


def test_write_notification_list_csv(built, con, tmp_path):
    frame = notification_list(con, built.example["lot_code"])
    path = write_notification_list(frame, tmp_path / "notify.csv")
    rows = _read_csv(path)
    assert list(rows[0].keys()) == frame.columns
    assert [row["customer_code"] for row in rows] == frame["customer_code"].to_list()
    first = frame.row(0, named=True)
    assert rows[0]["lot_codes"].split("; ") == first["lot_codes"]
    assert float(rows[0]["quantity"]) == pytest.approx(float(first["quantity"]))
    assert rows[0]["first_shipped_at"] == first["first_shipped_at"].isoformat(timespec="seconds")


# ---------------------------------------------------------------- FSMA 204 sheet


def test_fsma204_sheet_has_every_affected_lot_and_only_those(built, con):
    lot = built.example["lot_code"]
    sheet = fsma204_kdes(con, lot)
    assert sheet.columns == FSMA204_COLUMNS
    assert set(sheet["lot_code"]) == traced_lots(con, lot)
    assert set(sheet["event_type"]) == {"Receiving", "Transformation", "Shipping"}
    keys = list(zip(sheet["event_date"].to_list(), sheet["lot_code"].to_list(), strict=True))
    assert keys == sorted(keys)


def test_fsma204_transformations_list_exactly_their_input_lots(built, con):
    lot = built.example["lot_code"]
    lots = traced_lots(con, lot)
    con.execute(LATEST_RAW)
    inputs = defaultdict(set)
    for output_lot, input_lot in con.execute(
        "select lot_code, input_lot_code from latest_consumption where lot_code in (select unnest(?))", [sorted(lots)]
    ).fetchall():
        inputs[output_lot].add(input_lot)
    produced = {
        row[0]: row[1:]
        for row in con.execute(
            "select lot_code, site_code, quantity, cast(produced_at as date), production_order "
            "from latest_production where lot_code in (select unnest(?))",
            [sorted(lots)],
        ).fetchall()
    }
    assert len(produced) == len(lots) - 1  # every lot but the received one was made here
    sheet = fsma204_kdes(con, lot).filter(event_type="Transformation")
    assert sorted(sheet["lot_code"]) == sorted(produced)
    supplier_lots = dict(
        con.execute("select lot_code, supplier_lot_code from main.dim_lots where origin_type = 'received'").fetchall()
    )
    for row in sheet.to_dicts():
        site, quantity, produced_on, order = produced[row["lot_code"]]
        assert set(row["input_lot_codes"]) == inputs[row["lot_code"]], row["lot_code"]
        assert len(row["input_lot_codes"]) == len(set(row["input_lot_codes"]))  # one entry per input lot
        assert len(row["input_traceability_lot_codes"]) == len(row["input_lot_codes"])
        assert len(row["input_quantities"]) == len(row["input_lot_codes"])
        for input_lot, input_tlc in zip(row["input_lot_codes"], row["input_traceability_lot_codes"], strict=True):
            assert input_tlc == (supplier_lots.get(input_lot) or input_lot)
        # the new traceability lot code is ours, assigned where the food was transformed
        assert row["traceability_lot_code"] == row["lot_code"]
        assert row["traceability_lot_code_source"] == row["location_description"] == site
        assert float(row["quantity"]) == pytest.approx(float(quantity))
        assert row["event_date"] == produced_on
        assert (row["reference_document_type"], row["reference_document_number"]) == ("Production order", order)


def test_fsma204_every_shipment_line_is_a_shipping_row(built, con):
    lot = built.example["lot_code"]
    lines = {
        f"shipment:{shipment_id}:{line_no}": (quantity, customer, site, ship_to, shipped_at.date())
        for shipment_id, line_no, quantity, customer, site, ship_to, shipped_at in con.execute(
            "select shipment_id, line_no, quantity_shipped, customer_code, site_code, ship_to, shipped_at "
            "from main.fct_shipment_lines where lot_code in (select unnest(?))",
            [sorted(traced_lots(con, lot))],
        ).fetchall()
    }
    assert len(lines) == built.example["shipment_lines"]
    sheet = fsma204_kdes(con, lot).filter(event_type="Shipping", event_detail="shipment to customer")
    assert sheet.height == len(lines)
    for row in sheet.to_dicts():
        quantity, customer, site, ship_to, shipped_on = lines[row["source_record"]]
        assert float(row["quantity"]) == pytest.approx(float(quantity))
        assert row["immediate_subsequent_recipient"].endswith(f"({customer})")
        assert row["immediate_subsequent_recipient_address"] == ship_to
        assert row["location_description"] == site
        assert row["event_date"] == shipped_on
        assert row["reference_document_type"] == "Shipment"


def test_fsma204_receipt_and_transfers(built, con):
    lot = built.example["lot_code"]
    sheet = fsma204_kdes(con, lot)
    receipt = sheet.filter(event_type="Receiving", lot_code=lot).to_dicts()
    assert len(receipt) == 1
    receipt = receipt[0]
    # the receiver keeps the supplier's traceability lot code (21 CFR 1.1320)
    assert receipt["traceability_lot_code"] == receipt["supplier_lot_code"] == built.example["supplier_lot_code"]
    assert f"({built.example['supplier_code']})" in receipt["immediate_previous_source"]
    assert receipt["traceability_lot_code_source"] == receipt["immediate_previous_source"]
    assert receipt["location_description"] == built.example["site_code"]
    assert receipt["event_date"].isoformat() == built.example["received_on"]
    assert receipt["reference_document_type"] == "Purchase order"

    con.execute(LATEST_RAW)
    transfers = con.execute(
        """
        select moved.movement_id, moved.movement_type, moved.site_code, other.site_code, moved.quantity
        from latest_inventory as moved
        inner join latest_inventory as other
            on moved.reference = other.reference and moved.lot_code = other.lot_code
            and moved.movement_type != other.movement_type
        where moved.movement_type in ('transfer_out', 'transfer_in') and other.movement_type in ('transfer_out', 'transfer_in')
            and moved.lot_code in (select unnest(?))
        """,
        [sorted(traced_lots(con, lot))],
    ).fetchall()
    assert transfers, "the example's finished lots go from the plant to distribution centres"
    by_record = {row["source_record"]: row for row in sheet.to_dicts()}
    for movement_id, kind, site, other_site, quantity in transfers:
        row = by_record[f"inventory:{movement_id}"]
        assert row["location_description"] == site
        assert float(row["quantity"]) == pytest.approx(float(quantity))
        if kind == "transfer_out":
            assert (row["event_type"], row["immediate_subsequent_recipient"]) == ("Shipping", other_site)
        else:
            assert (row["event_type"], row["immediate_previous_source"]) == ("Receiving", other_site)


def test_write_fsma204_csv_and_xlsx(built, con, tmp_path):
    sheet = fsma204_kdes(con, built.example["lot_code"])
    rows = _read_csv(write_fsma204(sheet, tmp_path / "fsma204.csv"))
    assert list(rows[0].keys()) == FSMA204_COLUMNS
    assert len(rows) == sheet.height
    transformation = next(i for i, row in enumerate(rows) if row["event_type"] == "Transformation")
    assert rows[transformation]["input_lot_codes"].split("; ") == sheet["input_lot_codes"][transformation].to_list()
    assert rows[0]["event_date"] == sheet["event_date"][0].isoformat()

    xlsx = tmp_path / "fsma204.xlsx"
    if importlib.util.find_spec("xlsxwriter") is None:
        with pytest.raises(RuntimeError, match="xlsxwriter"):
            write_fsma204(sheet, xlsx)
        assert not xlsx.exists()
    else:
        assert write_fsma204(sheet, xlsx).stat().st_size > 0


# ---------------------------------------------------------------- mass balance


def test_mass_balance_per_lot_equals_sums_of_the_raw_feeds(built, con):
    lot = built.example["lot_code"]
    lots = traced_lots(con, lot)
    expected = raw_balances(con, lots)
    summary = mass_balance_summary(con, lot)
    assert summary["lot_code"] == lot
    assert set(summary["lots"]["lot_code"]) == lots
    columns = {
        "made": "quantity_made_or_received",
        "returned": "quantity_returned",
        "adjusted": "quantity_adjusted",
        "consumed": "quantity_consumed",
        "shipped": "quantity_shipped",
        "scrapped": "quantity_scrapped",
        "written_off": "quantity_written_off",
        "on_hand": "quantity_on_hand",
        "unaccounted": "quantity_unaccounted",
    }
    for row in summary["lots"].to_dicts():
        for term, column in columns.items():
            assert float(row[column]) == pytest.approx(expected[row["lot_code"]][term], abs=1e-6), (
                row["lot_code"],
                term,
            )
    for term, column in columns.items():
        assert float(summary["total"][column]) == pytest.approx(expected[lot][term], abs=1e-6), term


def test_mass_balance_disposition_says_where_every_unit_went(built, con):
    lot = built.example["lot_code"]
    summary = mass_balance_summary(con, lot)
    disposition = summary["disposition"]
    con.execute(LATEST_RAW)
    consumed_into = dict(
        con.execute(
            "select lot_code, sum(quantity) from latest_consumption where input_lot_code = ? group by 1", [lot]
        ).fetchall()
    )
    assert consumed_into, "the example lot was used in production"
    got = {
        row["counterpart"]: row["quantity"] for row in disposition.filter(disposition="consumed into lot").to_dicts()
    }
    assert got.keys() == consumed_into.keys()
    for output_lot, quantity in consumed_into.items():
        assert float(got[output_lot]) == pytest.approx(float(quantity))
    ins = disposition.filter(direction="in")["quantity"].sum()
    outs = disposition.filter(direction="out")["quantity"].sum()
    unaccounted = disposition.filter(direction="unaccounted")["quantity"].item()
    assert ins - outs == unaccounted  # exact: quantities are decimals
    assert disposition["direction"][-1] == "unaccounted"


# ---------------------------------------------------------------- lot codes with quotes, unknown lots


def test_reports_for_a_lot_code_with_quotes(built, con):
    quoted = built.quoted
    assert traced_lots(con, RAW_1) == {RAW_1, FINISHED}

    notify = notification_list(con, RAW_1)
    assert [(r["customer_code"], r["quantity"], r["shipment_lines"]) for r in notify.to_dicts()] == sorted(
        [(quoted.customers[0], 50.0, 2), (quoted.customers[1], 25.0, 1)], key=lambda item: -item[1]
    )
    assert notify["lot_codes"].to_list() == [[FINISHED], [FINISHED]]

    sheet = fsma204_kdes(con, RAW_1)
    events = [(r["event_type"], r["event_detail"], r["lot_code"], r["quantity"]) for r in sheet.to_dicts()]
    # one day: sorted by lot (FINISHED sorts before RAW_1), then time; RAW_2 is an input only
    assert events == [
        ("Transformation", "production on line L01", FINISHED, 100.0),
        ("Shipping", "transfer out to own site", FINISHED, 100.0),
        ("Receiving", "transfer in from own site", FINISHED, 100.0),
        ("Shipping", "shipment to customer", FINISHED, 30.0),
        ("Shipping", "shipment to customer", FINISHED, 20.0),
        ("Shipping", "shipment to customer", FINISHED, 25.0),
        ("Receiving", "return from customer", FINISHED, 3.0),
        ("Receiving", "receipt from supplier", RAW_1, 60.0),
    ]
    assert set(sheet["event_date"]) == {quoted.day}
    transformation, transfer_out, transfer_in = sheet.head(3).to_dicts()
    receipt = sheet.row(-1, named=True)
    assert receipt["traceability_lot_code"] == SUPPLIER_LOT_1
    assert receipt["reference_document_number"] == "PO-Q'1"
    assert receipt["unit_of_measure"] == quoted.raw_unit
    assert transformation["input_lot_codes"] == sorted([RAW_1, RAW_2])
    assert transformation["input_traceability_lot_codes"] == [
        {RAW_1: SUPPLIER_LOT_1, RAW_2: "S2"}[code] for code in transformation["input_lot_codes"]
    ]
    assert transformation["input_quantities"] == [
        {RAW_1: 30.0, RAW_2: 40.0}[c] for c in transformation["input_lot_codes"]
    ]
    assert transformation["reference_document_number"] == "MO-Q'1"
    assert (transfer_out["location_description"], transfer_out["immediate_subsequent_recipient"]) == (
        quoted.plant,
        quoted.dc,
    )
    assert (transfer_in["location_description"], transfer_in["immediate_previous_source"]) == (quoted.dc, quoted.plant)
    assert transfer_in["reference_document_number"] == TRANSFER_REF

    summary = mass_balance_summary(con, RAW_1)
    balances = {row["lot_code"]: row for row in summary["lots"].to_dicts()}
    assert balances[RAW_1]["quantity_consumed"] == 30.0
    assert balances[RAW_1]["quantity_on_hand"] == 30.0
    finished = balances[FINISHED]
    assert (
        finished["quantity_made_or_received"],
        finished["quantity_shipped"],
        finished["quantity_scrapped"],
        finished["quantity_returned"],
        finished["quantity_on_hand"],
        finished["quantity_unaccounted"],
    ) == (100.0, 75.0, 5.0, 3.0, 23.0, 0.0)
    assert [
        (r["direction"], r["disposition"], r["counterpart"], r["quantity"]) for r in summary["disposition"].to_dicts()
    ] == [
        ("in", "made or received", None, 60.0),
        ("out", "consumed into lot", FINISHED, 30.0),
        ("out", "on hand", quoted.plant, 30.0),
        ("unaccounted", "unaccounted", None, 0.0),
    ]
    assert summary["total"]["is_balanced"] is True

    rows = _read_csv(write_fsma204(sheet, built.root / "quoted.csv"))
    assert rows[0]["lot_code"] == FINISHED
    assert rows[0]["input_lot_codes"] == "; ".join(sorted([RAW_1, RAW_2]))
    assert rows[-1]["traceability_lot_code"] == SUPPLIER_LOT_1


@pytest.mark.parametrize("report", [notification_list, fsma204_kdes, mass_balance_summary])
@pytest.mark.parametrize("lot_code", ["NO-SUCH-LOT", "x') or 1=1 --", "Q'R\"1x"])
def test_unknown_lot_raises(con, report, lot_code):
    with pytest.raises(UnknownLot):
        report(con, lot_code)
