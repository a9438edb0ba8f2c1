"""Scorecard exports: JSON with every item, CSV and XLSX whose text cannot run as a formula."""

from __future__ import annotations

import csv
import io
import json

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from perfrules.db import make_sessionmaker
from perfrules.org.models import Employee

from ..helpers import run_cli

pytestmark = pytest.mark.database


@pytest.fixture
def evaluated(company, db_engine):
    with make_sessionmaker(db_engine, write=True)() as s, s.begin():
        s.execute(sa.update(Employee).where(Employee.code == "R1").values(name='=HYPERLINK("http://x","y")'))
        s.execute(sa.update(Employee).where(Employee.code == "R2").values(name="@SUM(A1)"))
    assert run_cli("run", "2026-10").exit_code == 0
    return company


def test_json_has_the_documented_shape(evaluated):
    cards = json.loads(run_cli("scorecards", "2026-10").stdout)
    assert [c["employee"] for c in cards] == ["L1", "R1", "R4", "R2", "R3"]  # by template, then rank
    for card in cards:
        assert {"employee", "template", "period", "total", "grade", "rank_department", "rank_company", "items"} <= set(
            card
        )
        for item in card["items"]:
            assert {"key", "value", "target", "score", "weight", "points", "error"} <= set(item)
    assert json.loads(run_cli("scorecards", "2026-10", "--template", "lead").stdout)[0]["employee"] == "L1"
    assert json.loads(run_cli("scorecards", "2026-11").stdout) == []


def test_csv_and_xlsx_neutralise_formula_cells(evaluated, tmp_path):
    text = run_cli("scorecards", "2026-10", "--format", "csv").stdout
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 1 + 4 * 4  # one item for L1, four for each rep
    names = {row["employee"]: row["name"] for row in rows}
    assert names["R1"] == '\'=HYPERLINK("http://x","y")' and names["R2"] == "'@SUM(A1)"
    growth_r3 = next(r for r in rows if r["employee"] == "R3" and r["item"] == "growth")
    assert growth_r3["value"] == "-1.0"  # a number stays a number, negative or not: only text is neutralised

    path = tmp_path / "cards.xlsx"
    result = run_cli("scorecards", "2026-10", "--format", "xlsx", "-o", path)
    assert result.exit_code == 0 and "5 scorecards written" in result.stderr
    workbook = load_workbook(path)
    summary = list(workbook["scorecards"].values)
    assert summary[0][:3] == ("employee", "name", "department")
    by_code = {row[0]: row for row in summary[1:]}
    assert by_code["R1"][1] == '\'=HYPERLINK("http://x","y")'
    assert by_code["R1"][5] == pytest.approx(105.4)  # numbers stay numbers
    items = list(workbook["items"].values)
    assert any(row[0] == "R3" and row[11] == "growth" and row[12] == -1 for row in items)
    assert run_cli("scorecards", "2026-10", "--format", "xlsx").exit_code == 2


def test_items_without_notes_do_not_share_one_list():
    from perfrules.engine.export import scorecard_object
    from perfrules.engine.models import Scorecard

    card = Scorecard(
        period="2026-10",
        template="rep",
        items=[{"key": "a", "points": 1.0}, {"key": "b", "points": 2.0}],
        locked=False,
    )
    first, second = scorecard_object(card, "E1", "Ann", "SALES")["items"]
    first["notes"].append("changed")
    assert second["notes"] == [] and scorecard_object(card, "E1", "Ann", "SALES")["items"][0]["notes"] == []
