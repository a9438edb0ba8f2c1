"""Importing CRM records: validated row by row, all-or-nothing by default, idempotent, explained."""

from __future__ import annotations

import csv
import datetime as dt
import zipfile
from pathlib import Path

import pytest
import sqlalchemy as sa
from openpyxl import Workbook

from perfrules.audit import AuditEntry
from perfrules.data import readers
from perfrules.data.models import Record
from perfrules.org.models import Employee

from ..helpers import SEED_CONFIG, SEED_ORG, run_cli, starting_state, write

pytestmark = pytest.mark.database

DEALS = """
    external_id,owner,closed_on,customer,amount,cost,status,cycle_days,new_customer
    D1,E0003,2026-10-03,上海某某制造,"120,000.50",80000,won,35,是
    D2,E0003,2026/10/09,杭州某某零售,45000,30000,已成交,20,no
    D3,E0004,2026-10-12,苏州某某,8000,5000,Won,12,yes
"""


def _load_seeds(folder: Path) -> None:
    assert run_cli("config", "load", SEED_CONFIG).exit_code == 0
    assert run_cli("org", "import", SEED_ORG).exit_code == 0


@pytest.fixture
@starting_state(_load_seeds)
def crm(cli_env):
    """The seed configuration (its datasets, as a draft) and the seed organisation, no records yet."""


def records(session, dataset="deals") -> dict[str, Record]:
    session.rollback()
    return {r.external_id: r for r in session.scalars(sa.select(Record).where(Record.dataset == dataset))}


def test_import_is_typed_and_idempotent(crm, session, tmp_path):
    path = write(tmp_path, "deals.csv", DEALS)
    first = run_cli("data", "import", "deals", path)
    assert first.exit_code == 0, first.stderr
    assert first.stdout == "deals: read 3, inserted 3, updated 0, unchanged 0, rejected 0\n"
    stored = records(session)
    d1 = stored["D1"]
    assert d1.values == {
        "owner": "E0003",
        "closed_on": "2026-10-03",
        "customer": "上海某某制造",
        "amount": 12000050,  # money in minor units (分): 120,000.50
        "cost": 8000000,
        "status": "won",
        "cycle_days": 35,
        "new_customer": True,
    }
    assert d1.occurred_on == dt.date(2026, 10, 3)
    assert d1.owner_id == session.scalar(sa.select(Employee.id).where(Employee.code == "E0003"))
    assert stored["D2"].values["status"] == "won", "a choice can be given by its label"
    assert stored["D2"].occurred_on == dt.date(2026, 10, 9)

    again = run_cli("data", "import", "deals", path)
    assert again.stdout == "deals: read 3, inserted 0, updated 0, unchanged 3, rejected 0\n"
    assert {r.id for r in records(session).values()} == {r.id for r in stored.values()}

    path.write_text(path.read_text(encoding="utf-8").replace("8000,5000", "9000,5000"), encoding="utf-8")
    changed = run_cli("data", "import", "deals", path)
    assert changed.stdout == "deals: read 3, inserted 0, updated 1, unchanged 2, rejected 0\n"
    assert records(session)["D3"].values["amount"] == 900000
    imports = session.scalars(
        sa.select(AuditEntry).where(AuditEntry.action == "data.import").order_by(AuditEntry.id)
    ).all()
    assert [(a.after["inserted"], a.after["updated"], a.after["unchanged"]) for a in imports] == [
        (3, 0, 0),
        (0, 0, 3),
        (0, 1, 2),
    ]


BAD = """
    external_id,owner,closed_on,customer,amount,cost,status,cycle_days,new_customer
    D1,E0003,2026-10-03,甲,1000,500,won,10,yes
    D2,E9999,2026-10-04,乙,1000,500,won,10,yes
    D3,E0003,2026-10-32,丙,1000,500,won,10,yes
    D4,E0003,2026-10-05,丁,12abc,500,won,10,yes
    D1,E0004,2026-10-06,戊,1000,500,won,10,yes
    D6,E0004,2026-10-07,己,"=HYPERLINK(""http://x"",""click"")",500,won,10,yes
    D7,E0004,2026-10-08,,1000,1.005,won,10,maybe
    D8,E0004,2026-10-09,庚,1000,500,won,2.5,yes
"""


def test_bad_rows_are_explained_and_nothing_is_imported(crm, session, tmp_path):
    path = write(tmp_path, "deals.csv", BAD)
    result = run_cli("data", "import", "deals", path)
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "deals.csv: row 3, column 'owner': 'E9999' unknown employee code",
        "deals.csv: row 4, column 'closed_on': '2026-10-32' expected a date like 2026-10-31",
        "deals.csv: row 5, column 'amount': '12abc' expected an amount of money, like 1234.50",
        "deals.csv: row 6, column 'external_id': 'D1' duplicate external id (first on row 2)",
        "deals.csv: row 7, column 'amount': '=HYPERLINK(\"http://x\",\"click\")' spreadsheet formulas are not accepted; export values only",
        "deals.csv: row 8, column 'customer': a value is required",
        "deals.csv: row 8, column 'cost': '1.005' has more than two decimals: a cent cannot be split",
        "deals.csv: row 8, column 'new_customer': 'maybe' expected true or false (yes/no, 1/0, 是/否)",
        "deals.csv: row 9, column 'cycle_days': '2.5' expected a whole number",
        "error: nothing was imported: 7 row(s) have problems (fix them, or use --skip-invalid to import the rest)",
    ]
    assert result.stdout == "deals: read 8, inserted 0, updated 0, unchanged 0, rejected 7\n"
    assert records(session) == {}
    assert (
        session.scalar(sa.select(sa.func.count()).select_from(AuditEntry).where(AuditEntry.action == "data.import"))
        == 0
    )


def test_skip_invalid_imports_the_rest_and_writes_the_rejects(crm, session, tmp_path):
    path = write(tmp_path, "deals.csv", BAD)
    rejects = tmp_path / "rejects.csv"
    result = run_cli("data", "import", "deals", path, "--skip-invalid", "--rejects", rejects)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "deals: read 8, inserted 1, updated 0, unchanged 0, rejected 7\n"
    assert set(records(session)) == {"D1"}
    with rejects.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["external_id"] for r in rows] == ["D2", "D3", "D4", "D1", "D6", "D7", "D8"]
    assert rows[4]["amount"] == '\'=HYPERLINK("http://x","click")', "formula cells are neutralised"
    assert rows[0]["problems"] == "owner: unknown employee code"


@pytest.mark.parametrize(
    "header, message",
    [
        (
            "external_id,owner,closed_on,customer,amount,status,colour",
            "unknown column(s): colour (dataset deals has external_id, owner, closed_on, customer, amount, cost, status, cycle_days, new_customer)",
        ),
        ("external_id,owner,customer,amount,status", "missing column(s): closed_on"),
        ("owner,closed_on,customer,amount,status", "missing column(s): external_id"),
        ("external_id,owner,owner,closed_on", "column(s) named twice in the header: owner"),
    ],
)
def test_wrong_columns_refuse_the_file(crm, tmp_path, header, message):
    path = write(tmp_path, "deals.csv", header + "\n")
    result = run_cli("data", "import", "deals", path)
    assert result.exit_code == 2
    assert result.stderr == f"error: deals.csv: {message}\n"


def test_unknown_dataset_and_file_type(crm, tmp_path):
    assert (
        run_cli("data", "import", "sales", write(tmp_path, "x.csv", "a\n")).stderr == "error: unknown dataset 'sales'\n"
    )
    assert (
        "cannot read .txt; use .csv or .xlsx"
        in run_cli("data", "import", "deals", write(tmp_path, "x.txt", "a")).stderr
    )


def test_xlsx_with_typed_cells_and_a_formula(crm, session, tmp_path):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["external_id", "owner", "occurred_at", "type", "customer", "duration_minutes", "logged_same_day"])
    sheet.append(["A1", "E0003", dt.datetime(2026, 10, 3, 9, 30), "call", "甲", 15, True])
    sheet.append(["A2", "E0004", dt.datetime(2026, 10, 4, 14, 0), "拜访", "乙", 90, False])
    sheet.append(["A3", "E0004", dt.datetime(2026, 10, 5, 14, 0), "email", "丙", "=5*3", True])
    path = tmp_path / "activities.xlsx"
    workbook.save(path)
    result = run_cli("data", "import", "activities", path)
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == (
        "activities.xlsx: row 4, column 'duration_minutes': '=5*3' "
        "spreadsheet formulas are not accepted; export values only"
    )
    result = run_cli("data", "import", "activities", path, "--skip-invalid")
    stored = records(session, "activities")
    assert stored["A1"].values["occurred_at"] == "2026-10-03T09:30:00"
    assert stored["A1"].occurred_on == dt.date(2026, 10, 3)
    assert stored["A2"].values["type"] == "visit" and stored["A2"].values["duration_minutes"] == 90


def test_gb18030_csv_from_chinese_excel(crm, session, tmp_path):
    path = write(tmp_path, "deals.csv", DEALS, encoding="gb18030")
    result = run_cli("data", "import", "deals", path)
    assert result.exit_code == 0, result.stderr
    assert records(session)["D1"].values["customer"] == "上海某某制造"


def test_a_new_field_is_usable_at_once(crm, session, tmp_path):
    exported = tmp_path / "config.yaml"
    run_cli("config", "export", "-o", exported)
    text = exported.read_text(encoding="utf-8").replace(
        "  - name: new_customer\n",
        "  - name: channel\n    label: {zh: 渠道, en: Channel}\n    type: text\n"
        "    required: false\n    unique: false\n  - name: new_customer\n",
        1,
    )
    exported.write_text(text, encoding="utf-8")
    loaded = run_cli("config", "load", exported)
    assert "1 changed" in loaded.stdout, loaded.stderr
    path = write(
        tmp_path,
        "deals.csv",
        DEALS.replace("new_customer\n", "new_customer,channel\n", 1).replace(",是\n", ",是,线上\n"),
    )
    result = run_cli("data", "import", "deals", path)
    assert result.exit_code == 0, result.stderr
    assert records(session)["D1"].values["channel"] == "线上"


def test_unique_fields_hold_across_the_file_and_the_stored_records(crm, session, tmp_path):
    exported = tmp_path / "config.yaml"
    run_cli("config", "export", "-o", exported)
    text = exported.read_text(encoding="utf-8")
    customers = text.index("- slug: customers")
    name_field = text.index("  - name: name\n", customers)
    unique_flag = text.index("    unique: false", name_field)
    exported.write_text(
        text[:unique_flag] + "    unique: true" + text[unique_flag + len("    unique: false") :], encoding="utf-8"
    )
    assert "1 changed" in run_cli("config", "load", exported).stdout
    first = write(
        tmp_path,
        "customers.csv",
        """
        external_id,owner,created_on,name
        C1,E0003,2026-10-01,上海某某制造
        C2,E0003,2026-10-02,杭州某某零售
    """,
    )
    assert run_cli("data", "import", "customers", first).exit_code == 0
    second = write(
        tmp_path,
        "more.csv",
        """
        external_id,owner,created_on,name
        C1,E0004,2026-10-01,上海某某制造
        C3,E0004,2026-10-03,上海某某制造
        C4,E0004,2026-10-04,苏州某某
        C5,E0004,2026-10-05,苏州某某
        C6,E0004,2026-10-06,杭州某某零售
    """,
    )
    result = run_cli("data", "import", "customers", second)
    assert result.exit_code == 2
    assert result.stderr.splitlines()[:3] == [
        "more.csv: row 3, column 'name': '上海某某制造' must be unique; row 2 already has it",
        "more.csv: row 5, column 'name': '苏州某某' must be unique; row 4 already has it",
        "more.csv: row 6, column 'name': '杭州某某零售' must be unique; record C2 already has it",
    ]


def test_cells_past_the_last_column_refuse_the_row_instead_of_being_dropped(crm, session, tmp_path):
    path = write(
        tmp_path,
        "deals.csv",
        """
        external_id,owner,closed_on,customer,amount,cost,status,cycle_days,new_customer
        D1,E0003,2026-10-03,A,120000,80000,won,35,是
        D2,E0003,2026-10-09,B,45000,30000,won,20,no,1,200
    """,
    )
    result = run_cli("data", "import", "deals", path)
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == (
        "deals.csv: row 3, column '(past the last column)': '1, 200' 2 cell(s) "
        "beyond the header's columns (a number with a comma needs quotes in a CSV file)"
    )
    assert records(session) == {}


def _workbook_with(tmp_path, name: str, replace: dict[str, bytes]) -> Path:
    """An activities workbook saved by openpyxl, with some of its zip entries replaced or added."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["external_id", "owner", "occurred_at", "type"])
    sheet.append(["A1", "E0003", dt.datetime(2026, 10, 3, 9, 30), "call"])
    plain = tmp_path / f"plain-{name}"
    workbook.save(plain)
    path = tmp_path / name
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for entry in source.infolist():
            target.writestr(entry, replace.pop(entry.filename, None) or source.read(entry.filename))
        for filename, content in replace.items():
            target.writestr(filename, content)
    return path


def test_hostile_workbooks_are_refused_with_their_name_and_nothing_imported(crm, session, tmp_path, monkeypatch):
    """A zip that unpacks to far more than it weighs, and a sheet declaring XML entities (the
    "billion laughs"), are refused before they cost anything, in words that name the file."""
    monkeypatch.setattr(readers, "MAX_XLSX_UNPACKED", 2 * 2**20)
    bomb = _workbook_with(tmp_path, "bomb.xlsx", {"xl/padding.bin": b"\0" * (3 * 2**20)})
    assert bomb.stat().st_size < 100_000  # three megabytes of zeros pack into a few kilobytes
    refused = run_cli("data", "import", "activities", bomb)
    assert refused.exit_code == 2 and "bomb.xlsx: the workbook unpacks to 3 MB, more than the 2 MB" in refused.stderr

    entities = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
        b'<row r="1"><c r="A1" t="inlineStr"><is><t>&lol2;</t></is></c></row></sheetData></worksheet>'
    )
    laughs = _workbook_with(tmp_path, "laughs.xlsx", {"xl/worksheets/sheet1.xml": entities})
    refused = run_cli("data", "import", "activities", laughs)
    assert refused.exit_code == 2 and "laughs.xlsx: the workbook cannot be read" in refused.stderr
    assert records(session, "activities") == {}
