"""The defect questions of the dashboards on the hand-built lot network of test_dbt_warehouse
(a real `dbt run`), answer by answer: the p-chart points, the Pareto, the worst lots and the
supplier scorecard. One more day adds cake K2, made from sugar SG1 alone and inspected without
defects, so the two suppliers' scorecards differ. Every question gives the same answer from
the mart and from the page's BIGINT copy of it."""

from __future__ import annotations

import contextlib
from datetime import date

import duckdb
import polars as pl
import pytest

from dashboards import queries
from tests.integration.test_dbt_warehouse import (
    B1,
    _consumption,
    _inspection,
    _production,
    load_feed_day,
    run_dbt,
    write_network,
)

K2_DAY = "2026-03-11"


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("dashboard_queries")
    warehouse = tmp / "warehouse.duckdb"
    write_network(warehouse)
    with contextlib.closing(duckdb.connect(str(warehouse))) as writer:
        load_feed_day(
            writer, K2_DAY, "production", [_production("K2", "FIN-CAKE", "P2", "L9", f"{K2_DAY}T06:00:00", 100)]
        )
        load_feed_day(writer, K2_DAY, "consumption", [_consumption("K2", "SG1", 5, f"{K2_DAY}T06:00:00")])
        load_feed_day(
            writer, K2_DAY, "inspections", [_inspection("I-5", "K2", f"{K2_DAY}T09:00:00", "MICRO", 10, 0, "pass")]
        )
    result = run_dbt(tmp, warehouse, "run")
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    connection = duckdb.connect(str(warehouse), read_only=True)
    yield connection
    connection.close()


@pytest.fixture(params=["mart", "copy"])
def facts(request, con):
    """Where the questions read the facts: the mart itself, or the copy a page makes of it."""
    if request.param == "mart":
        yield queries.DEFECT_FACTS
        return
    with queries.defect_facts_copy(con) as copy:
        yield copy


def as_rows(frame: pl.DataFrame) -> list[tuple]:
    return [tuple(row) for row in frame.iter_rows()]


def test_daily_defects(con, facts):
    assert as_rows(queries.daily_defects(con, "line", facts)) == [
        ("P1 L3", date(2026, 3, 3), 30, 3),
        ("P2 L9", date(2026, 3, 5), 10, 2),
        ("P2 L9", date(2026, 3, 11), 10, 0),
    ]
    assert as_rows(queries.daily_defects(con, "product", facts)) == [
        ("FIN-BREAD", date(2026, 3, 3), 30, 3),
        ("FIN-CAKE", date(2026, 3, 5), 10, 2),
        ("FIN-CAKE", date(2026, 3, 11), 10, 0),
        ("RAW-FLOUR", date(2026, 3, 1), 5, 0),
    ]
    assert as_rows(queries.daily_defects(con, "check", facts)) == [
        ("MICRO", date(2026, 3, 3), 10, 0),
        ("MICRO", date(2026, 3, 5), 10, 2),
        ("MICRO", date(2026, 3, 11), 10, 0),
        ("MOISTURE", date(2026, 3, 1), 5, 0),
        ("WEIGHT", date(2026, 3, 3), 20, 3),
    ]


def test_defects_by_check_code(con, facts):
    assert con.execute("select max(as_of_date) from main.dim_lots").fetchone()[0] == date(2026, 3, 11)
    assert as_rows(queries.defects_by_check_code(con, facts=facts)) == [
        ("WEIGHT", 3, 20),
        ("MICRO", 2, 30),
        ("MOISTURE", 0, 5),
    ]
    # the last 7 days up to the as-of date: from 2026-03-05 on
    assert as_rows(queries.defects_by_check_code(con, 7, facts=facts)) == [("MICRO", 2, 20)]


def test_worst_lots(con, facts):
    # B'1 and K2 tie on rate (0) and defects (0) for the last place: the lot code settles it
    worst = queries.worst_lots(con, limit=3, min_samples=10, facts=facts)
    assert worst.columns == [
        "lot_code",
        "product_code",
        "line",
        "first_inspected_date",
        "samples",
        "defects",
        "defective_checks",
        "defect_rate",
        "supplier_codes",
    ]
    assert as_rows(worst) == [
        ("K1", "FIN-CAKE", "P2 L9", date(2026, 3, 5), 10, 2, "MICRO", 0.2, "S-MILL, S-SUGAR"),
        ("B2", "FIN-BREAD", "P1 L3", date(2026, 3, 3), 20, 3, "WEIGHT", 0.15, "S-MILL, S-SUGAR"),
        (B1, "FIN-BREAD", "P1 L3", date(2026, 3, 3), 10, 0, None, 0.0, None),
    ]
    assert queries.worst_lots(con, facts=facts).is_empty()  # no lot has 100 samples


def test_supplier_scorecard(con, facts):
    scorecard = queries.supplier_scorecard(con, facts)
    # MICRO over all finished lots: 2 defects in 30 samples (B'1, K1, K2)
    assert as_rows(scorecard.select(pl.exclude("defect_rate", "overall_rate", "relative_rate"))) == [
        # supplier, check, finished lots, with defects, samples, defects
        ("S-MILL", "MICRO", 2, 1, 20, 2),  # B'1, K1
        ("S-MILL", "WEIGHT", 1, 1, 20, 3),  # B2
        ("S-SUGAR", "MICRO", 3, 1, 30, 2),  # B'1, K1, K2
        ("S-SUGAR", "WEIGHT", 1, 1, 20, 3),
    ]
    assert scorecard["defect_rate"].to_list() == pytest.approx([0.1, 0.15, 2 / 30, 0.15])
    assert scorecard["overall_rate"].to_list() == pytest.approx([2 / 30, 0.15, 2 / 30, 0.15])
    assert scorecard["relative_rate"].to_list() == pytest.approx([1.5, 1.0, 1.0, 1.0])


def test_supplier_scorecard_attributes_the_defects_of_the_attribution_mart(con, facts):
    attributed = con.execute(
        """
        select supplier_code, check_code, count(distinct finished_lot_id), sum(defects)
        from (
            select distinct supplier_code, finished_lot_id, check_code, inspected_date, defects
            from main.fct_supplier_defect_attribution
        )
        group by all
        order by all
        """
    ).fetchall()
    scorecard = queries.supplier_scorecard(con, facts).filter(pl.col("defective_lots") > 0)
    assert as_rows(scorecard.select("supplier_code", "check_code", "defective_lots", "defects")) == attributed


def test_the_copy_is_dropped_after_use(con):
    with queries.defect_facts_copy(con) as copy:
        assert con.execute(f"select count(*) from {copy}").fetchone()[0] == 5
    tables = con.execute("select table_name from duckdb_tables() where temporary").fetchall()
    assert ("defect_facts",) not in tables


def test_the_finished_lots_are_those_of_the_network(con):
    # what the expectations above count on
    finished = con.execute(
        "select distinct lot_code from main.fct_inspection_defects where product_category = 'finished' order by 1"
    ).fetchall()
    assert finished == [(B1,), ("B2",), ("K1",), ("K2",)]
