"""A run over many days: validated together and written many days per transaction, with the
same outcome as loading the days one after another, and no day lost or half-written when one
of them fails."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

import batchtrack.ingestion.loader as loader
from batchtrack.feeds import FEEDS_BY_NAME
from batchtrack.ingestion import ingest_feed_day, ingest_feed_days
from tests.unit.conftest import DAY, write  # DAY: the day folder the `landing` fixture makes

HEADER = "lot_code,product_code,site_code,line_code,produced_at,quantity\n"
DAYS = [DAY + timedelta(days=offset) for offset in range(3)]
PRODUCTION = FEEDS_BY_NAME["production"]


def production_day(landing, day: date, *rows: str, header: str = HEADER) -> None:
    write(landing, "production.csv", header + "".join(f"{row}\n" for row in rows), day)


def loaded(con) -> list[tuple]:
    return con.execute(
        "select source_file, line_number, lot_code, quantity from raw.production order by 1, 2"
    ).fetchall()


def quarantined(con) -> list[tuple]:
    return con.execute("select source_file, line_number, reason from quarantine order by 1, 2").fetchall()


def three_days(landing) -> None:
    production_day(landing, DAYS[0], "L1,P1,S1,A,2026-06-01T06:00:00,1", "L2,P1,S1,A,2026-06-01T06:00:00,x")
    production_day(
        landing,
        DAYS[1],
        "L3,P1,S1,A,2026-06-02T06:00:00,3",
        "L1,P1,S1,A,2026-06-02T06:00:00,4",  # a key day 1 loaded
        "L2,P1,S1,A,2026-06-02T06:00:00,5",  # day 1 quarantined its L2: this one loads
        "L3,P1,S1,A,2026-06-02T06:00:00,6",  # a repeat inside the file
    )
    # Another header (an extra column, columns in another order) on the last day.
    production_day(
        landing,
        DAYS[2],
        "2026-06-03T06:00:00,L2,P1,S1,A,7,n1",
        "2026-06-03T06:00:00,L4,P1,S1,A,8,n2",
        header="produced_at,lot_code,product_code,site_code,line_code,quantity,note\n",
    )


@pytest.mark.parametrize("batch_rows", [1, 1_000_000], ids=["a-transaction-per-day", "one-transaction"])
def test_many_days_in_one_call_load_as_one_day_after_another(tmp_path, landing, con, monkeypatch, batch_rows):
    three_days(landing)
    import duckdb

    from batchtrack.warehouse_schema import ensure_ingest_schema

    one_by_one = duckdb.connect(str(tmp_path / "one_by_one.duckdb"))
    ensure_ingest_schema(one_by_one)
    expected = [ingest_feed_day(one_by_one, landing, day, PRODUCTION) for day in DAYS]

    monkeypatch.setattr(loader, "BATCH_ROWS", batch_rows)
    results = ingest_feed_days(con, landing, DAYS, PRODUCTION)

    assert results == expected
    assert loaded(con) == loaded(one_by_one)
    assert quarantined(con) == quarantined(one_by_one)
    assert quarantined(con) == [
        ("2026-06-01/production.csv", 3, "unparseable number in quantity: 'x'"),
        (
            "2026-06-02/production.csv",
            3,
            "duplicate key lot_code='L1' (already loaded from 2026-06-01/production.csv line 2)",
        ),
        ("2026-06-02/production.csv", 5, "duplicate key lot_code='L3' (first at line 2)"),
        (
            "2026-06-03/production.csv",
            2,
            "duplicate key lot_code='L2' (already loaded from 2026-06-02/production.csv line 4)",
        ),
    ]
    assert [(r.rows_in, r.rows_loaded, r.rows_quarantined) for r in results] == [(2, 1, 1), (4, 2, 2), (2, 1, 1)]
    assert con.execute("select extra_columns->>'note' from raw.production where lot_code = 'L4'").fetchone() == ("n2",)
    # Rows in = loaded + quarantined, for every file.
    assert con.execute(
        "select source_file, rows_in, rows_loaded, rows_quarantined from ingest.loaded_files order by 1"
    ).fetchall() == [
        ("2026-06-01/production.csv", 2, 1, 1),
        ("2026-06-02/production.csv", 4, 2, 2),
        ("2026-06-03/production.csv", 2, 1, 1),
    ]
    one_by_one.close()


def test_every_changed_day_of_a_run_is_stamped_and_an_unchanged_one_is_not(landing, con):
    three_days(landing)
    first, second = datetime(2026, 6, 4, 1), datetime(2026, 6, 4, 2)
    ingest_feed_days(con, landing, DAYS, PRODUCTION, loaded_at=first)
    production_day(landing, DAYS[1], "L3,P1,S1,A,2026-06-02T06:00:00,30")
    statuses = [r.status for r in ingest_feed_days(con, landing, DAYS, PRODUCTION, loaded_at=second)]
    assert statuses == ["unchanged", "loaded", "unchanged"]
    stamps = con.execute("select landing_date, changed_at from ingest.feed_day_changes order by 1").fetchall()
    assert stamps == [(DAYS[0], first), (DAYS[1], second), (DAYS[2], first)]
    # The re-sent day replaced its rows.
    assert con.execute("select count(*) from raw.production where landing_date = ?", [DAYS[1]]).fetchone() == (1,)


def test_a_rejected_file_in_a_run_keeps_its_last_good_version_and_the_other_days_load(landing, con):
    three_days(landing)
    ingest_feed_days(con, landing, DAYS[:2], PRODUCTION)
    before = con.execute("select * from raw.production where landing_date = ?", [DAYS[1]]).fetchall()
    write(landing, "production.csv", "lot_code\nL9\n", DAYS[1])
    results = ingest_feed_days(con, landing, DAYS, PRODUCTION, force=True)
    assert [r.status for r in results] == ["loaded", "rejected", "loaded"]
    assert "header lacks required column" in results[1].errors[0]
    assert con.execute("select * from raw.production where landing_date = ?", [DAYS[1]]).fetchall() == before
    assert con.execute("select count(*) from raw.production where landing_date = ?", [DAYS[2]]).fetchone() == (1,)
    assert con.execute("select source_file from ingest.rejected_files").fetchall() == [("2026-06-02/production.csv",)]


def test_a_day_that_cannot_be_read_fails_the_run_after_the_days_before_it_are_loaded(landing, con, monkeypatch):
    three_days(landing)
    real_read = loader.read_landing_file

    def read(landing_file, content=None):
        if landing_file.day == DAYS[1]:
            raise OSError("I/O error")
        return real_read(landing_file, content)

    monkeypatch.setattr(loader, "read_landing_file", read)
    with pytest.raises(OSError, match="I/O error"):
        ingest_feed_days(con, landing, DAYS, PRODUCTION)
    assert con.execute("select distinct landing_date from raw.production").fetchall() == [(DAYS[0],)]
    assert con.execute("select landing_date from ingest.loaded_files").fetchall() == [(DAYS[0],)]
    assert con.execute("select landing_date from ingest.feed_day_changes").fetchall() == [(DAYS[0],)]


def test_a_day_that_fails_to_write_leaves_the_days_before_it_loaded_and_itself_as_it_was(landing, con, monkeypatch):
    three_days(landing)
    ingest_feed_days(con, landing, DAYS, PRODUCTION)
    tables = ("raw.production", "quarantine", "ingest.loaded_files", "ingest.feed_day_changes")

    def after_first_day() -> dict[str, list[tuple]]:
        return {
            table: con.execute(f"select * from {table} where landing_date > ? order by all", [DAYS[0]]).fetchall()
            for table in tables
        }

    before = after_first_day()
    for day, lot in zip(DAYS, ("L1", "L3", "L4"), strict=True):
        production_day(landing, day, f"{lot},P1,S1,A,{day}T06:00:00,10")
    real_check = loader._quarantine_known_keys

    def check(con, feed, good, quarantined):
        if DAYS[1] in good.get_column("landing_date").to_list():
            raise RuntimeError("disk full")
        return real_check(con, feed, good, quarantined)

    monkeypatch.setattr(loader, "_quarantine_known_keys", check)
    with pytest.raises(RuntimeError, match="disk full"):
        ingest_feed_days(con, landing, DAYS, PRODUCTION)
    # The first day is loaded again; the failing day and the one after it are as they were.
    first_day = con.execute("select lot_code, quantity from raw.production where landing_date = ?", [DAYS[0]])
    assert first_day.fetchall() == [("L1", 10)]
    assert after_first_day() == before


def test_a_day_whose_rejected_file_is_withdrawn_is_stamped_as_changed(landing, con):
    """Its rejection is cleared, so its checks must run again (a daily quality run checks the
    stamped days only): the stamp moves although no rows came or went."""
    three_days(landing)
    write(landing, "production.csv", "lot_code\nL9\n", DAYS[1])
    first, second = datetime(2026, 6, 4, 1), datetime(2026, 6, 4, 2)
    ingest_feed_days(con, landing, DAYS, PRODUCTION, loaded_at=first)
    (landing / DAYS[1].isoformat() / "production.csv").unlink()
    results = ingest_feed_days(con, landing, DAYS, PRODUCTION, loaded_at=second)
    assert [r.status for r in results] == ["unchanged", "absent", "unchanged"]
    assert con.execute("select count(*) from ingest.rejected_files").fetchone() == (0,)
    stamps = con.execute("select landing_date, changed_at from ingest.feed_day_changes order by 1").fetchall()
    assert stamps == [(DAYS[0], first), (DAYS[1], second), (DAYS[2], first)]


def test_an_interrupt_while_a_batch_is_written_stops_the_run_instead_of_retrying_day_by_day(landing, con, monkeypatch):
    """Ctrl-C reaches a running DuckDB statement as RuntimeError('Query interrupted')."""
    three_days(landing)
    real_check = loader._quarantine_known_keys
    calls = []

    def check(con, feed, good, quarantined):
        calls.append(good.height)
        if len(calls) == 1:
            raise RuntimeError("Query interrupted")
        return real_check(con, feed, good, quarantined)

    monkeypatch.setattr(loader, "_quarantine_known_keys", check)
    with pytest.raises(RuntimeError, match="Query interrupted"):
        ingest_feed_days(con, landing, DAYS, PRODUCTION)
    assert len(calls) == 1
    assert con.execute("select count(*) from raw.production").fetchone() == (0,)
