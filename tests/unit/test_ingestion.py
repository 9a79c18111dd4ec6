"""The ingestion library against hand-written landing files and a real DuckDB file."""

from __future__ import annotations

import io
import json
import shutil
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from batchtrack.feeds import FEEDS_BY_NAME
from batchtrack.ingestion import ingest_feed_day
from tests.unit.conftest import DAY, write  # DAY: the day folder the `landing` fixture makes


def quarantine(con, feed: str) -> dict[int, str]:
    return dict(con.execute("select line_number, reason from quarantine where feed = ? order by 1", [feed]).fetchall())


def test_every_bad_row_kind_is_quarantined_with_its_reason_and_nothing_is_lost(landing, con):
    write(
        landing,
        "inventory.csv",
        "movement_id,lot_code,product_code,site_code,movement_type,quantity,moved_at,supplier_code\n"
        "M1,L1,P1,S1,receipt,10,2026-06-01T06:00:00,SUP1\n"  # 2 good
        "M2,,P1,S1,scrap,1,2026-06-01T06:00:00,\n"  # 3 missing lot_code
        "M3,L1,P1,S1,scrap,abc,2026-06-01T06:00:00,\n"  # 4 unparseable number
        "M4,L1,P1,S1,scrap,1,2026-06-31T06:00:00,\n"  # 5 unparseable timestamp
        "M5,L1,P1,S1,scrap,-2,2026-06-01T06:00:00,\n"  # 6 negative quantity
        "M1,L1,P1,S1,scrap,1,2026-06-01T07:00:00,\n"  # 7 duplicate movement_id
        "M6,L1,P1,S1,teleport,1,2026-06-01T06:00:00,\n"  # 8 unknown movement_type
        "M7,L1,P1,S1,adjustment,-2,2026-06-01T08:00:00+02:00,\n"  # 9 good: adjustments are signed
        "M8,L1,P1,S1,receipt,3,2026-06-01T09:00:00,\n",  # 10 receipt without supplier
    )
    result = ingest_feed_day(con, landing, DAY, FEEDS_BY_NAME["inventory"])
    reasons = quarantine(con, "inventory")
    assert reasons[3] == "missing required value: lot_code"
    assert reasons[4] == "unparseable number in quantity: 'abc'"
    assert reasons[5] == "unparseable ISO 8601 timestamp in moved_at: '2026-06-31T06:00:00'"
    assert reasons[6].startswith("negative quantity -2")
    assert reasons[7] == "duplicate key movement_id='M1' (first at line 2)"
    assert reasons[8].startswith("unknown movement_type 'teleport'")
    assert reasons[10] == "receipt without supplier_code"
    assert sorted(reasons) == [3, 4, 5, 6, 7, 8, 10]
    loaded = con.execute("select movement_id, quantity, moved_at from raw.inventory order by line_number").fetchall()
    assert [row[0] for row in loaded] == ["M1", "M7"]
    assert loaded[1][1] == -2.0
    assert str(loaded[1][2]) == "2026-06-01 08:00:00"  # the local wall-clock part is kept
    assert (result.rows_in, result.rows_loaded, result.rows_quarantined) == (9, 2, 7)
    raw_record = json.loads(con.execute("select raw_record from quarantine where line_number = 4").fetchone()[0])
    assert raw_record["quantity"] == "abc" and raw_record["movement_id"] == "M3"


def test_defect_count_above_sample_size_and_unknown_result(landing, con):
    write(
        landing,
        "inspections.csv",
        "inspection_id,lot_code,inspected_at,check_code,sample_size,defect_count,result\n"
        "I1,L1,2026-06-01T10:00:00,SEAL,10,2,fail\n"
        "I2,L1,2026-06-01T10:00:00,SEAL,10,12,fail\n"
        "I3,L1,2026-06-01T10:00:00,SEAL,10,0,maybe\n"
        "I4,L1,2026-06-01,SEAL,1.5,0,\n",
    )
    ingest_feed_day(con, landing, DAY, FEEDS_BY_NAME["inspections"])
    reasons = quarantine(con, "inspections")
    assert reasons == {
        3: "defect_count 12 above sample_size 10",
        4: "unknown result 'maybe' (expected one of: pass, fail, hold)",
        5: "unparseable whole number in sample_size: '1.5'",
    }
    assert con.execute("select inspection_id from raw.inspections").fetchall() == [("I1",)]


def test_header_missing_a_required_column_rejects_the_file_whole(landing, con):
    write(
        landing,
        "shipments.csv",
        "shipment_id,line_no,lot_code,product_code,quantity,shipped_at,site_code\nS1,1,L1,P1,5,2026-06-01T10:00:00,D1\n",
    )
    result = ingest_feed_day(con, landing, DAY, FEEDS_BY_NAME["shipments"])
    assert result.status == "rejected"
    assert "2026-06-01/shipments.csv" in result.errors[0]
    assert "customer_code" in result.errors[0]
    assert con.execute("select count(*) from raw.shipments").fetchone()[0] == 0
    assert con.execute("select count(*) from quarantine").fetchone()[0] == 0
    rejected = con.execute("select source_file, error from ingest.rejected_files").fetchall()
    assert rejected[0][0] == "2026-06-01/shipments.csv" and "customer_code" in rejected[0][1]


def test_rejected_resend_keeps_the_last_good_version_and_a_fixed_file_clears_the_rejection(landing, con):
    header = "shipment_id,line_no,lot_code,product_code,quantity,shipped_at,site_code,customer_code\n"
    write(landing, "shipments.csv", header + "S1,1,L1,P1,5,2026-06-01T10:00:00,D1,C1\n")
    ingest_feed_day(con, landing, DAY, FEEDS_BY_NAME["shipments"])
    write(landing, "shipments.csv", "shipment_id,line_no\nS1,1\n")
    assert ingest_feed_day(con, landing, DAY, FEEDS_BY_NAME["shipments"]).status == "rejected"
    assert con.execute("select quantity from raw.shipments").fetchall() == [(5.0,)]
    write(landing, "shipments.csv", header + "S1,1,L1,P1,6,2026-06-01T10:00:00,D1,C1\n")
    assert ingest_feed_day(con, landing, DAY, FEEDS_BY_NAME["shipments"]).status == "loaded"
    assert con.execute("select quantity from raw.shipments").fetchall() == [(6.0,)]
    assert con.execute("select count(*) from ingest.rejected_files").fetchone()[0] == 0


def test_resent_day_replaces_its_rows_and_unchanged_files_are_skipped(landing, con):
    header = "lot_code,product_code,site_code,line_code,produced_at,quantity\n"
    write(landing, "production.csv", header + "L1,P1,S1,A,2026-06-01T06:00:00,100\nL2,P1,S1,A,2026-06-01T07:00:00,50\n")
    feed = FEEDS_BY_NAME["production"]
    assert ingest_feed_day(con, landing, DAY, feed).status == "loaded"
    assert ingest_feed_day(con, landing, DAY, feed).status == "unchanged"
    write(landing, "production.csv", header + "L1,P1,S1,A,2026-06-01T06:00:00,90\n")
    assert ingest_feed_day(con, landing, DAY, feed).status == "loaded"
    assert con.execute("select lot_code, quantity from raw.production").fetchall() == [("L1", 90.0)]
    assert con.execute("select count(*) from ingest.loaded_files").fetchone()[0] == 1


def test_a_key_loaded_on_another_day_is_a_duplicate(landing, con):
    header = "lot_code,product_code,site_code,line_code,produced_at,quantity\n"
    write(landing, "production.csv", header + "L1,P1,S1,A,2026-06-01T06:00:00,100\n")
    later = date(2026, 6, 2)
    write(
        landing,
        "production.csv",
        header + "L1,P1,S1,A,2026-06-02T06:00:00,7\nL2,P1,S1,A,2026-06-02T06:00:00,8\n",
        later,
    )
    feed = FEEDS_BY_NAME["production"]
    ingest_feed_day(con, landing, DAY, feed)
    result = ingest_feed_day(con, landing, later, feed)
    assert (result.rows_loaded, result.rows_quarantined) == (1, 1)
    reason = con.execute("select reason from quarantine").fetchone()[0]
    assert reason == "duplicate key lot_code='L1' (already loaded from 2026-06-01/production.csv line 2)"


def test_line_numbers_follow_quoted_line_breaks_and_odd_characters_survive(landing, con):
    write(
        landing,
        "consumption.csv",
        "lot_code,input_lot_code,quantity,consumed_at,note\n"
        '"L\'1, ""odd""",F881,1,2026-06-01T06:00:00,"two\nlines"\n'
        "L2,F881,x,2026-06-01T06:00:00,\n"
        "\n"
        " L3 ,F881,2,2026-06-01T06:00:00,kept\n",
    )
    result = ingest_feed_day(con, landing, DAY, FEEDS_BY_NAME["consumption"])
    # The blank line (5) is not a record, as for any CSV reader.
    assert quarantine(con, "consumption") == {4: "unparseable number in quantity: 'x'"}
    rows = con.execute(
        "select lot_code, line_number, extra_columns->>'note' from raw.consumption order by 2"
    ).fetchall()
    assert rows == [('L\'1, "odd"', 2, "two\nlines"), ("L3", 6, "kept")]
    assert result.rows_in == result.rows_loaded + result.rows_quarantined == 3


def test_parquet_file_is_read_like_csv(landing, con):
    frame = pl.DataFrame(
        {
            "shipment_id": ["S1", "S1"],
            "line_no": [1, 2],
            "lot_code": ["L1", "L1"],
            "product_code": ["P1", "P1"],
            "quantity": [5.5, -1.0],
            "shipped_at": ["2026-06-01T10:00:00", "2026-06-01T11:00:00"],
            "site_code": ["D1", "D1"],
            "customer_code": ["C1", "C2"],
        }
    )
    frame.write_parquet(landing / DAY.isoformat() / "shipments.parquet")
    result = ingest_feed_day(con, landing, DAY, FEEDS_BY_NAME["shipments"])
    assert (result.rows_loaded, result.rows_quarantined) == (1, 1)
    assert con.execute("select source_file, quantity from raw.shipments").fetchall() == [
        ("2026-06-01/shipments.parquet", 5.5)
    ]
    assert quarantine(con, "shipments") == {3: "negative quantity: -1.0"}


def test_a_failure_half_way_rolls_the_day_back(landing, con, monkeypatch):
    header = "lot_code,product_code,site_code,line_code,produced_at,quantity\n"
    write(landing, "production.csv", header + "L1,P1,S1,A,2026-06-01T06:00:00,100\n")
    feed = FEEDS_BY_NAME["production"]
    ingest_feed_day(con, landing, DAY, feed)
    before = con.execute("select * from raw.production").fetchall()
    write(landing, "production.csv", header + "L1,P1,S1,A,2026-06-01T06:00:00,1\nL9,P1,S1,A,2026-06-01T06:00:00,2\n")

    import batchtrack.ingestion.loader as loader

    def crash(*args, **kwargs):
        raise RuntimeError("disk full")

    # The old rows are already deleted inside the transaction when the quarantine insert runs.
    monkeypatch.setattr(loader, "_quarantine_known_keys", crash)
    with pytest.raises(RuntimeError, match="disk full"):
        ingest_feed_day(con, landing, DAY, feed)
    assert con.execute("select * from raw.production").fetchall() == before
    assert con.execute("select count(*) from ingest.loaded_files").fetchone()[0] == 1


def test_a_ragged_row_or_bytes_that_are_not_utf8_are_quarantined_not_the_file(landing, con):
    path = landing / DAY.isoformat() / "production.csv"
    path.write_bytes(
        b"lot_code,product_code,site_code,line_code,produced_at,quantity\n"
        b"L1,P1,S1,A,2026-06-01T06:00:00,100\n"
        b"L2,P1,S1,A,2026-06-01T06:00:00,1,000\n"  # an unquoted thousands separator: 7 fields
        b"L\xe93,P1,S1,A,2026-06-01T06:00:00,5\n"  # latin-1, not UTF-8
        b"L4,P1,S1,A,2026-06-01T06:00:00,7\n"
    )
    result = ingest_feed_day(con, landing, DAY, FEEDS_BY_NAME["production"])
    assert (result.rows_in, result.rows_loaded, result.rows_quarantined) == (4, 2, 2)
    assert quarantine(con, "production") == {
        3: "malformed record: 7 fields, the header has 6",
        4: "malformed record: bytes that are not UTF-8",
    }
    raw_record = json.loads(con.execute("select raw_record from quarantine where line_number = 3").fetchone()[0])
    assert raw_record["quantity"] == "1,000"  # the surplus field is kept in the record's text


def test_header_names_match_whatever_their_case_and_a_repeated_column_rejects(landing, con):
    write(landing, "suppliers.csv", " Supplier_Code ,NAME\nS1,Mill\n")
    assert ingest_feed_day(con, landing, DAY, FEEDS_BY_NAME["suppliers"]).rows_loaded == 1
    write(landing, "customers.csv", "customer_code,name,name\nC1,A,B\n")
    result = ingest_feed_day(con, landing, DAY, FEEDS_BY_NAME["customers"])
    assert result.status == "rejected" and "repeats column(s) name" in result.errors[0]


def test_an_empty_file_is_an_empty_delivery(landing, con):
    write(landing, "shipments.csv", "")
    result = ingest_feed_day(con, landing, DAY, FEEDS_BY_NAME["shipments"])
    assert (result.status, result.rows_in) == ("loaded", 0)


def test_keys_compare_by_value_and_integral_floats_are_whole_numbers(landing, con):
    write(
        landing,
        "shipments.csv",
        "shipment_id,line_no,lot_code,product_code,quantity,shipped_at,site_code,customer_code\n"
        "S1,1,L1,P1,5,2026-06-01T10:00:00,D1,C1\n"
        "S1,01,L1,P1,5,2026-06-01T10:00:00,D1,C1\n"
        "S1,2.0,L1,P1,5,2026-06-01T10:00:00,D1,C1\n"
        "S1,3,L1,P1,1e15,2026-06-01T10:00:00,D1,C1\n",
    )
    ingest_feed_day(con, landing, DAY, FEEDS_BY_NAME["shipments"])
    assert con.execute("select line_no from raw.shipments order by 1").fetchall() == [(1,), (2,)]
    reasons = quarantine(con, "shipments")
    assert reasons[3] == "duplicate key shipment_id='S1', line_no='1' (first at line 2)"
    assert reasons[5].startswith("number out of range in quantity: '1e15'")


def test_a_day_resent_as_parquet_replaces_its_csv(landing, con):
    header = "lot_code,product_code,site_code,line_code,produced_at,quantity\n"
    write(landing, "production.csv", header + "L1,P1,S1,A,2026-06-01T06:00:00,100\n")
    feed = FEEDS_BY_NAME["production"]
    ingest_feed_day(con, landing, DAY, feed)
    (landing / DAY.isoformat() / "production.csv").unlink()
    pl.read_csv(io.StringIO(header + "L1,P1,S1,A,2026-06-01T06:00:00,90\n"), infer_schema=False).write_parquet(
        landing / DAY.isoformat() / "production.parquet"
    )
    result = ingest_feed_day(con, landing, DAY, feed)
    assert (result.rows_loaded, result.rows_quarantined) == (1, 0)
    assert con.execute("select source_file, quantity from raw.production").fetchall() == [
        ("2026-06-01/production.parquet", 90)
    ]


def test_csv_and_parquet_of_one_feed_on_one_day_load_once_and_say_so(landing, con):
    header = "lot_code,input_lot_code,quantity,consumed_at\n"
    write(landing, "consumption.csv", header + "L1,F1,5,2026-06-01T06:00:00\n")
    pl.read_csv(io.StringIO(header + "L1,F1,5,2026-06-01T06:00:00\n"), infer_schema=False).write_parquet(
        landing / DAY.isoformat() / "consumption.parquet"
    )
    result = ingest_feed_day(con, landing, DAY, FEEDS_BY_NAME["consumption"])
    assert result.status == "rejected" and "consumption.csv was delivered too" in result.errors[0]
    assert con.execute("select count(*), sum(quantity) from raw.consumption").fetchone() == (1, 5)


PRODUCTION_HEADER = "lot_code,product_code,site_code,line_code,produced_at,quantity\n"


def _production_loaded_from_parquet(landing, con):
    """The day's production delivered as Parquet (L1, 100) and loaded; returns the feed."""
    feed = FEEDS_BY_NAME["production"]
    pl.read_csv(
        io.StringIO(PRODUCTION_HEADER + "L1,P1,S1,A,2026-06-01T06:00:00,100\n"), infer_schema=False
    ).write_parquet(landing / DAY.isoformat() / "production.parquet")
    ingest_feed_day(con, landing, DAY, feed)
    return feed


def test_a_day_first_loaded_as_parquet_resent_as_twins_is_replaced_by_the_csv(landing, con):
    """A re-send with both forms loads the CSV as the day's delivery: the Parquet rows loaded
    before go (they would clash with the CSV's keys), and the Parquet twin is refused."""
    header = PRODUCTION_HEADER
    feed = _production_loaded_from_parquet(landing, con)
    write(landing, "production.csv", header + "L1,P1,S1,A,2026-06-01T06:00:00,90\nL2,P1,S1,A,2026-06-01T07:00:00,50\n")
    result = ingest_feed_day(con, landing, DAY, feed)
    assert result.status == "rejected" and "production.csv was delivered too" in result.errors[0]
    assert (result.rows_loaded, result.rows_quarantined) == (2, 0)
    assert con.execute("select source_file, lot_code, quantity from raw.production order by lot_code").fetchall() == [
        ("2026-06-01/production.csv", "L1", 90),
        ("2026-06-01/production.csv", "L2", 50),
    ]
    assert quarantine(con, "production") == {}
    # while the twin stays in the folder, every run refuses it again and changes nothing
    again = ingest_feed_day(con, landing, DAY, feed)
    assert again.status == "rejected" and (again.rows_loaded, again.rows_quarantined) == (2, 0)
    assert con.execute("select count(*), sum(quantity) from raw.production").fetchone() == (2, 140)


def test_a_twin_resend_whose_csv_is_refused_keeps_the_rows_loaded_before(landing, con):
    feed = _production_loaded_from_parquet(landing, con)
    write(landing, "production.csv", "lot_code,quantity\nL1,90\n")  # required columns missing
    result = ingest_feed_day(con, landing, DAY, feed)
    assert result.status == "rejected" and len(result.errors) == 2
    assert con.execute("select source_file, quantity from raw.production").fetchall() == [
        ("2026-06-01/production.parquet", 100)
    ]


def test_a_parquet_file_that_makes_polars_panic_is_refused_not_the_run(landing, con):
    """Polars panics (a BaseException, not a PolarsError) on some corrupt Parquet files, this one
    a real file with a few bytes flipped; the file is refused with its reason like any unreadable
    file, and the day's other files load."""
    corrupt = Path(__file__).parent / "data" / "polars_panics_on_this.parquet"
    shutil.copy(corrupt, landing / DAY.isoformat() / "production.parquet")
    write(landing, "consumption.csv", "lot_code,input_lot_code,quantity,consumed_at\nL1,F1,5,2026-06-01T06:00:00\n")
    result = ingest_feed_day(con, landing, DAY, FEEDS_BY_NAME["production"])
    assert result.status == "rejected" and result.rows_loaded == 0
    assert result.errors[0].startswith("2026-06-01/production.parquet: cannot be read as Parquet")
    assert ingest_feed_day(con, landing, DAY, FEEDS_BY_NAME["consumption"]).rows_loaded == 1
    assert con.execute("select source_file from ingest.rejected_files").fetchall() == [
        ("2026-06-01/production.parquet",)
    ]


def test_a_folder_that_is_gone_leaves_its_loaded_rows_alone(landing, con):
    header = "lot_code,product_code,site_code,line_code,produced_at,quantity\n"
    write(landing, "production.csv", header + "L1,P1,S1,A,2026-06-01T06:00:00,100\n")
    feed = FEEDS_BY_NAME["production"]
    ingest_feed_day(con, landing, DAY, feed)
    shutil.rmtree(landing / DAY.isoformat())  # archived
    assert ingest_feed_day(con, landing, DAY, feed, force=True).status == "absent"
    assert con.execute("select count(*) from raw.production").fetchone()[0] == 1
