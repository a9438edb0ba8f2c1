"""Targets from CSV and XLSX (`perfrules targets import`): one target set document applied like a
YAML one — validated, cross-checked, audited, all-or-nothing — with problems that name the file,
the row (the header is row 1) and the column."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from perfrules.audit import AuditEntry
from perfrules.config.models import ConfigEntry
from perfrules.config.store import working_config
from perfrules.engine.people import People
from perfrules.engine.periods import Period
from perfrules.engine.targets import TargetBook

from ..engine.scenario import items, scorecards
from ..helpers import run_cli, write

pytestmark = pytest.mark.database

HEADER = "name,period,employee,department,role,value,split,weight_attribute,decimals,month_shares\n"


def draft_set(session, slug="t2026") -> dict | None:
    session.rollback()  # a new snapshot: see what the commands committed
    entry = session.scalar(sa.select(ConfigEntry).where(ConfigEntry.kind == "targets", ConfigEntry.slug == slug))
    return entry.document if entry else None


def audit_count(session) -> int:
    session.rollback()
    return session.scalar(sa.select(sa.func.count()).select_from(AuditEntry))


def by_holder(target_set: dict) -> dict[tuple, dict]:
    return {
        (e["name"], e["period"], e.get("employee"), e.get("department"), e.get("role")): e
        for e in target_set["entries"]
    }


def publish_and_run(period="2026-10"):
    published = run_cli("config", "publish", "-m", "targets from a spreadsheet")
    assert published.exit_code == 0, published.output
    result = run_cli("run", period)
    assert result.exit_code == 0, result.output
    return scorecards(period)


def test_a_csv_of_targets_is_merged_into_the_draft_and_used_by_a_run(company, session):
    before = audit_count(session)
    csv = write(company, "targets.csv", HEADER + 'sales,2026-10,R1,,,"24,000",,,,\nsales,2026-10,R2,,,12000,,,,\n')
    result = run_cli("targets", "import", csv, "--set", "t2026")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "targets.t2026: 2 row(s) read; entries: 1 added, 1 replaced, 0 unchanged, 2 kept",
        "targets saved in the draft configuration; publish to use them",
    ]
    assert result.stderr == ""

    stored = draft_set(session)
    assert stored["label"] == {"zh": "目标", "en": "Targets"}, "the set keeps its label"
    assert [
        (e["name"], e["period"], e.get("employee") or e.get("department") or e.get("role"), e["value"])
        for e in stored["entries"]
    ] == [
        ("sales", "2026", "rep", 120000),
        ("sales", "2026-10", "R1", 24000),  # replaced in place
        ("team_sales", "2026-10", "EAST", 50000),
        ("sales", "2026-10", "R2", 12000),
    ]
    assert audit_count(session) == before + 1
    session.rollback()
    audit = session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert (audit.actor, audit.action, audit.kind, audit.key) == ("tester", "config.save", "targets", "t2026")
    assert by_holder(audit.before)[("sales", "2026-10", "R1", None, None)]["value"] == 20000
    assert by_holder(audit.after)[("sales", "2026-10", "R1", None, None)]["value"] == 24000

    cards = publish_and_run()
    r1, r2, r4 = items(cards["R1"]), items(cards["R2"]), items(cards["R4"])
    assert (r1["attainment"]["target"], r1["attainment"]["value"], r1["attainment"]["score"]) == (24000, 1.0, 100)
    assert r1["attainment"]["target_source"] == "employee target, t2026: 2026-10"
    assert (r2["attainment"]["target"], r2["attainment"]["value"]) == (12000, 0.5)
    assert r4["attainment"]["target"] == 10000, "the role's yearly default is kept"

    before = audit_count(session)
    again = run_cli("targets", "import", csv, "--set", "t2026")
    assert again.exit_code == 0
    assert "0 added, 0 replaced, 2 unchanged, 2 kept" in again.stdout
    assert "nothing changed" in again.stdout
    assert audit_count(session) == before, "an unchanged set is not audited"


def test_replace_makes_the_file_the_sets_only_entries_and_a_new_set_takes_its_labels(company, session):
    csv = write(company, "targets.csv", "name,period,role,value\nsales,2026-Q4,rep,36000\n")
    merged = run_cli("targets", "import", csv, "--set", "t2026", "--merge")
    assert merged.exit_code == 0, merged.output
    assert len(draft_set(session)["entries"]) == 4

    replaced = run_cli("targets", "import", csv, "--set", "t2026", "--replace")
    assert replaced.exit_code == 0, replaced.output
    assert "0 added, 0 replaced, 1 unchanged, 3 removed" in replaced.stdout
    assert draft_set(session)["entries"] == [{"name": "sales", "period": "2026-Q4", "role": "rep", "value": 36000}]

    created = run_cli(
        "targets",
        "import",
        csv,
        "--set",
        "q4_targets",
        "--label-zh",
        "四季度目标",
        "--label-en",
        "Q4 targets",
        "--replace",
    )
    assert created.exit_code == 0, created.output
    assert "1 added" in created.stdout
    assert draft_set(session, "q4_targets")["label"] == {"zh": "四季度目标", "en": "Q4 targets"}

    bad_slug = run_cli("targets", "import", csv, "--set", "Q4 Targets")
    assert bad_slug.exit_code == 2
    assert "error: targets.csv: --set: must be lowercase letters, digits and underscores" in bad_slug.stderr


def test_a_gb18030_file_as_excel_saves_it_in_china(company, session):
    text = "name,period,employee,department,role,value\nsales,2026-10,R2,,,9000\nsales,2026-10,张三,,,1000\n"
    good = company / "targets.csv"
    good.write_bytes(text.encode("gb18030"))
    result = run_cli("targets", "import", good, "--set", "t2026")
    assert result.exit_code == 0, result.output
    assert result.stderr == (
        "warning: targets.csv: row 3, column 'employee': no employee '张三' in the "
        "organisation; the target applies to nobody until there is\n"
    )
    entries = by_holder(draft_set(session))
    assert entries[("sales", "2026-10", "张三", None, None)]["value"] == 1000
    assert entries[("sales", "2026-10", "R2", None, None)]["value"] == 9000

    bad = company / "bad.csv"
    bad.write_bytes("name,period,employee,value\nsales,2026-10,R3,一万\n".encode("gb18030"))
    refused = run_cli("targets", "import", bad, "--set", "t2026")
    assert refused.exit_code == 2
    assert "error: bad.csv: row 2, column 'value': '一万' Not a valid number." in refused.stderr


def test_an_xlsx_file_with_typed_cells(company, session):
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["name", "period", "employee", "department", "role", "value", "decimals", "month_shares"])
    sheet.append(["sales", dt.datetime(2026, 10, 1), "R2", None, None, 15000, None, None])  # 2026-10 as Excel keeps it
    sheet.append(["sales", 2026, None, "WEST", None, 1_000_000, 0, "5;5;10;10;5;5;5;5;10;10;15;15"])
    path = company / "targets.xlsx"
    workbook.save(path)
    result = run_cli("targets", "import", path, "--set", "t2026")
    assert result.exit_code == 0, result.output
    entries = by_holder(draft_set(session))
    assert entries[("sales", "2026-10", "R2", None, None)]["value"] == 15000
    west = entries[("sales", "2026", None, "WEST", None)]
    assert west["month_shares"] == [5, 5, 10, 10, 5, 5, 5, 5, 10, 10, 15, 15] and west["decimals"] == 0

    cards = publish_and_run()
    assert items(cards["R2"])["attainment"]["target"] == 15000
    r3 = items(cards["R3"])["attainment"]
    assert r3["target"] == 100_000, "October's 10% of WEST's year"
    assert r3["target_source"] == ("department WEST default, t2026: 2026 1,000,000 → 2026-10 100,000 (by month shares)")

    formula = Workbook()
    formula.active.append(["name", "period", "role", "value"])
    formula.active.append(["sales", "2026", "rep", "=B2*60"])
    formula_path = company / "formula.xlsx"
    formula.save(formula_path)
    refused = run_cli("targets", "import", formula_path, "--set", "t2026")
    assert refused.exit_code == 2
    assert refused.stderr.splitlines() == [
        "error: formula.xlsx: row 2, column 'value': '=B2*60' spreadsheet formulas are not accepted; "
        "export values only",
        "error: nothing was imported (1 problem(s))",
    ]


def test_bad_rows_are_explained_by_row_and_column_and_nothing_is_stored(company, session):
    draft_before, audit_before = draft_set(session), audit_count(session)
    csv = write(
        company,
        "targets.csv",
        HEADER
        + "\n".join(
            [
                "sales,2026-10,R1,,,25000,,,,",  # row 2: good
                "sales,2026/10,R2,,,9000,,,,",  # row 3: not a period
                "sales,2026-10,R3,,,abc,,,,",  # row 4: not a number
                "sales,2026-10,R4,WEST,,9000,,,,",  # row 5: two holders
                "sales,2026,,,rep,=SUM(A1:A3),,,,",  # row 6: a formula
                "sales,2026-10,R1,,,26000,,,,",  # row 7: the same target as row 2
                "sales,2026,,EAST,,9000,weights,,,",  # row 8: weights without an attribute
                "sales,2026,,WEST,,9000,,,,5|5|5",  # row 9: not 12 shares
            ]
        )
        + "\n",
    )
    result = run_cli("targets", "import", csv, "--set", "t2026")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "error: targets.csv: row 3, column 'period': '2026/10' must be a period like 2026-10, 2026-Q4, 2026-H2 or 2026",
        "error: targets.csv: row 4, column 'value': 'abc' Not a valid number.",
        "error: targets.csv: row 5, column 'employee': 'R4' give exactly one of employee, department or role",
        "error: targets.csv: row 6, column 'value': '=SUM(A1:A3)' spreadsheet formulas are not accepted; "
        "export values only",
        "error: targets.csv: row 7: the same target (sales 2026-10, employee R1) as row 2",
        "error: targets.csv: row 8, column 'weight_attribute': a split by weights needs weight_attribute "
        "(and only it does)",
        "error: targets.csv: row 9, column 'month_shares': '5|5|5' must list 12 monthly percentages",
        "error: nothing was imported (7 problem(s))",
    ]
    assert draft_set(session) == draft_before and audit_count(session) == audit_before


def test_cross_checks_are_the_yaml_ones(company, session):
    csv = write(company, "targets.csv", "name,period,employee,value\nsales,2026-10,R1,1\nsalez,2026-10,R2,1\n")
    result = run_cli("targets", "import", csv, "--set", "t2026")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "error: targets.csv: row 3, column 'name': unknown metric or KPI 'salez'",
        "error: nothing was imported (1 problem(s))",
    ]
    assert by_holder(draft_set(session))[("sales", "2026-10", "R1", None, None)]["value"] == 20000


@pytest.mark.parametrize(
    "text, message",
    [
        (
            "name,period,value\nsales,2026,1\n",
            "targets.csv: row 1: needs at least one of the columns employee, department, role (who holds the target)",
        ),
        ("name,employee,value,owner\nsales,R1,1,x\n", "targets.csv: row 1: missing column(s): period"),
        (
            "name,period,employee,value,owner\nsales,2026,R1,1,x\n",
            "targets.csv: row 1: unknown column(s): owner (a targets file has name, period, employee, department, "
            "role, value, split, weight_attribute, decimals, month_shares)",
        ),
        ("name,period,employee,value\n", "targets.csv: the file has no target rows"),
        (
            "name,period,employee,value\nsales,2026-10,R1,1,200\n",
            "targets.csv: row 2: 1 cell(s) beyond the header's 4 columns (a number with a comma needs quotes in a CSV file)",
        ),
        ("", "targets.csv: the file is empty"),
    ],
)
def test_files_that_cannot_be_targets(company, session, text, message):
    draft_before = draft_set(session)
    result = run_cli("targets", "import", write(company, "targets.csv", text), "--set", "t2026")
    assert result.exit_code == 2
    assert f"error: {message}\n" in result.stderr
    assert result.stderr.endswith("nothing was imported\n") or "nothing was imported (" in result.stderr
    assert draft_set(session) == draft_before


def test_a_department_total_from_csv_splits_exactly(company, session):
    csv = write(
        company,
        "targets.csv",
        HEADER
        + "\n".join(["sales,2026-10,,EAST,,50000,equal,,,", "sales,2026-11,,EAST,,1001,weights,quota_weight,0,"])
        + "\n",
    )
    result = run_cli("targets", "import", csv, "--set", "splits", "--label-zh", "分解", "--label-en", "Splits")
    assert result.exit_code == 0, result.output

    session.rollback()
    people = People.load(session)
    # the imported set alone: elsewhere R1 has a target of their own, taken out of the total
    book = TargetBook({"targets": {"splits": working_config(session)["targets"]["splits"]}}, people)
    october = book.resolve("sales", Period.parse("2026-10"))
    east = {code: october.values[people.position_of(code)] for code in ("L1", "R1", "R2")}
    assert east == {"L1": 16666.67, "R1": 16666.67, "R2": 16666.66}, "the left-over cents to the first codes"
    assert round(sum(east.values()) * 100) == 5_000_000
    november = book.resolve("sales", Period.parse("2026-11"))
    shares = {code: november.values[people.position_of(code)] for code in ("L1", "R1", "R2")}
    assert shares == {"L1": 200, "R1": 601, "R2": 200}, "quota weights 1:3:1, the unit left to the largest fraction"

    cards = publish_and_run()
    r2 = items(cards["R2"])["attainment"]
    assert r2["target"] == 15000, "(50,000 − R1's own 20,000) ÷ 2"
    assert r2["target_source"] == (
        "department EAST total, splits: 2026-10, less own targets of R1 20,000, split equally among 2 members"
    )
    assert items(cards["R1"])["attainment"]["target"] == 20000, "an employee's own target wins over a split"
