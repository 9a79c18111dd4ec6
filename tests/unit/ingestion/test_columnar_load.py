"""Behaviour that the columnar load path must keep: unusual spellings get the full rules,
line numbers, hashes of rewritten files, and the change log of each (day, feed)."""

from __future__ import annotations

import os
from datetime import datetime

import pytest

from batchtrack.feeds import FEEDS_BY_NAME
from batchtrack.ingestion import ingest_feed_day
from tests.unit.conftest import DAY, write  # DAY: the day folder the `landing` fixture makes

PRODUCTION_HEADER = "lot_code,product_code,site_code,line_code,produced_at,quantity,expiry_date\n"


def quarantine(con) -> dict[int, str]:
    return dict(con.execute("select line_number, reason from quarantine order by 1").fetchall())


def test_unusual_but_valid_spellings_load_with_their_values(landing, con):
    write(
        landing,
        "production.csv",
        PRODUCTION_HEADER + "L1,P1,S1,A,2026-06-01T06:00:00,100,2026-06-10\n"
        "L2,P1,S1,A,2026-06-01 07:30:00,1.,\n"
        "L3,P1,S1,A,2026-06-01T08:00:00.25+02:00,.5,\n"
        "L4,P1,S1,A,2026-06-01T09:15,+2.5e1,\n"
        "L5,P1,S1,A,2026-06-01,0,\n",
    )
    result = ingest_feed_day(con, landing, DAY, FEEDS_BY_NAME["production"])
    assert (result.rows_loaded, result.rows_quarantined) == (5, 0)
    rows = con.execute("select lot_code, produced_at, quantity from raw.production order by line_number").fetchall()
    assert [(lot, str(at), float(quantity)) for lot, at, quantity in rows] == [
        ("L1", "2026-06-01 06:00:00", 100.0),
        ("L2", "2026-06-01 07:30:00", 1.0),
        ("L3", "2026-06-01 08:00:00.250000", 0.5),
        ("L4", "2026-06-01 09:15:00", 25.0),
        ("L5", "2026-06-01 00:00:00", 0.0),
    ]


def test_values_that_only_look_like_numbers_or_times_are_quarantined(landing, con):
    write(
        landing,
        "production.csv",
        PRODUCTION_HEADER + "L1,P1,S1,A,2026-06-01T24:00:00,1,\n"
        "L2,P1,S1,A,2026-06-01T06:00:00,inf,\n"
        "L3,P1,S1,A,2026-06-01T06:00:00,nan,\n"
        "L4,P1,S1,A,2026-06-01T06:00:00,1,2026-02-30\n"
        "L5,P1,S1,A,2026-6-01T06:00:00,1,\n"
        "L6,P1,S1,A,2026-06-01T06:00:00,1,\n",
    )
    ingest_feed_day(con, landing, DAY, FEEDS_BY_NAME["production"])
    assert quarantine(con) == {
        2: "unparseable ISO 8601 timestamp in produced_at: '2026-06-01T24:00:00'",
        3: "unparseable number in quantity: 'inf'",
        4: "unparseable number in quantity: 'nan'",
        5: "unparseable date (YYYY-MM-DD) in expiry_date: '2026-02-30'",
        6: "unparseable ISO 8601 timestamp in produced_at: '2026-6-01T06:00:00'",
    }
    assert con.execute("select lot_code from raw.production").fetchall() == [("L6",)]


def test_a_repeat_of_a_key_spelt_differently_is_a_duplicate_of_the_first(landing, con):
    write(
        landing,
        "shipments.csv",
        "shipment_id,line_no,lot_code,product_code,quantity,shipped_at,site_code,customer_code\n"
        "S1,1.0,L1,P1,5,2026-06-01T10:00:00,D1,C1\n"  # doubted by the fast path, good by the full rules
        "S1,+1,L1,P1,5,2026-06-01T10:00:00,D1,C1\n"
        "S1,x,L1,P1,5,2026-06-01T10:00:00,D1,C1\n",
    )
    ingest_feed_day(con, landing, DAY, FEEDS_BY_NAME["shipments"])
    assert quarantine(con) == {
        3: "duplicate key shipment_id='S1', line_no='1' (first at line 2)",
        4: "unparseable whole number in line_no: 'x'",
    }


@pytest.mark.parametrize(
    "text, lines",
    [
        ("L1,F1,1,2026-06-01T06:00:00\nL2,F1,2,2026-06-01T06:00:00", [2, 3]),  # no final line break
        ('L1,F1,1,"2026-06-01T06:00:00"\n\nL2,F1,2,2026-06-01T06:00:00\n', [2, 4]),  # a blank line
        ('L1,F1,1,2026-06-01T06:00:00\nL2,"F\n1",2,2026-06-01T06:00:00', [2, 3]),  # a break in the last record
        ('L1,"F\n1",1,2026-06-01T06:00:00\nL2,F1,2,2026-06-01T06:00:00', [2, 4]),
    ],
)
def test_line_numbers_count_from_the_header(landing, con, text, lines):
    write(landing, "consumption.csv", "lot_code,input_lot_code,quantity,consumed_at\n" + text)
    ingest_feed_day(con, landing, DAY, FEEDS_BY_NAME["consumption"])
    assert [row[0] for row in con.execute("select line_number from raw.consumption order by 1").fetchall()] == lines


def test_a_file_rewritten_with_the_same_size_and_time_is_hashed_again(landing, con):
    header = "lot_code,input_lot_code,quantity,consumed_at\n"
    path = write(landing, "consumption.csv", header + "L1,F1,1,2026-06-01T06:00:00\n")
    feed = FEEDS_BY_NAME["consumption"]
    # Loaded right after it was written, so its size and time are not trusted (see
    # test_planning.py); and the hash this process remembers of it is not served for the new bytes.
    ingest_feed_day(con, landing, DAY, feed)
    stat = path.stat()
    write(landing, "consumption.csv", header + "L1,F1,7,2026-06-01T06:00:00\n")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert path.stat().st_size == stat.st_size
    assert ingest_feed_day(con, landing, DAY, feed).status == "loaded"
    assert con.execute("select quantity from raw.consumption").fetchall() == [(7,)]
    import hashlib

    stored = con.execute("select file_hash from ingest.loaded_files").fetchone()[0]
    assert stored == hashlib.sha256(path.read_bytes()).hexdigest()


def test_every_change_of_a_day_and_feed_is_logged_and_an_unchanged_one_is_not(landing, con):
    feed = FEEDS_BY_NAME["production"]

    def changed_at() -> datetime | None:
        row = con.execute("select changed_at from ingest.feed_day_changes where feed = 'production'").fetchone()
        return row[0] if row else None

    def ingest(at: datetime) -> str:
        return ingest_feed_day(con, landing, DAY, feed, loaded_at=at).status

    write(landing, "production.csv", PRODUCTION_HEADER + "L1,P1,S1,A,2026-06-01T06:00:00,1,\n")
    assert (ingest(datetime(2026, 6, 2, 1)), changed_at()) == ("loaded", datetime(2026, 6, 2, 1))
    assert (ingest(datetime(2026, 6, 2, 2)), changed_at()) == ("unchanged", datetime(2026, 6, 2, 1))
    write(landing, "production.csv", PRODUCTION_HEADER + "L1,P1,S1,A,2026-06-01T06:00:00,2,\n")
    assert (ingest(datetime(2026, 6, 2, 3)), changed_at()) == ("loaded", datetime(2026, 6, 2, 3))
    write(landing, "production.csv", "lot_code\nL1\n")
    assert (ingest(datetime(2026, 6, 2, 4)), changed_at()) == ("rejected", datetime(2026, 6, 2, 4))
    (landing / DAY.isoformat() / "production.csv").unlink()
    write(landing, "consumption.csv", "lot_code,input_lot_code,quantity,consumed_at\n")  # the day folder stays
    assert (ingest(datetime(2026, 6, 2, 5)), changed_at()) == ("removed", datetime(2026, 6, 2, 5))
    assert con.execute("select count(*) from raw.production").fetchone()[0] == 0
