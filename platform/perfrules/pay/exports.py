"""A month's pay lines as JSON, CSV or a formatted workbook, for payroll and for reading.

Amounts are numbers with two decimals (JSON carries them as strings, "12000.00", so that no
reader turns them into binary floats); negative amounts stay numbers in CSV and XLSX, while text
cells are neutralised against spreadsheet formulas."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal

import sqlalchemy as sa
from openpyxl import Workbook
from sqlalchemy.orm import Session

from ..money import from_minor
from ..org.models import Department, Employee
from ..spreadsheet import neutralise
from .models import PayLine

COLUMNS = (
    "employee",
    "name",
    "department",
    "plan",
    "component",
    "kind",
    "period",
    "month",
    "amount",
    "currency",
    "base",
    "rate",
    "source",
    "explanation",
)
MONEY_COLUMNS = ("amount", "base")


def line_query(month: str, plan: str | None = None) -> sa.Select:
    """The month's lines with their employee's code, name and department, in export order."""
    query = (
        sa.select(PayLine, Employee.code, Employee.name, Department.code)
        .join(Employee, Employee.id == PayLine.employee_id)
        .join(Department, Department.id == Employee.department_id)
        .where(PayLine.period == month)
        .order_by(Employee.code, PayLine.plan, PayLine.component, PayLine.kind, PayLine.reference)
    )
    return query if plan is None else query.where(PayLine.plan == plan)


def as_row(line: PayLine, code: str, name: str, department: str, language: str | None = "en") -> dict:
    """One line as the exports give it; money as Decimal. `language` None keeps both explanations."""
    return {
        "employee": code,
        "name": name,
        "department": department,
        "plan": line.plan,
        "component": line.component,
        "kind": line.kind,
        "period": line.pay_period,
        "month": line.period,
        "amount": from_minor(line.amount_minor),
        "currency": line.currency,
        "base": None if line.base_minor is None else from_minor(line.base_minor),
        "rate": line.rate,
        "source": line.source,
        "explanation": line.explanation
        if language is None
        else line.explanation.get(language) or line.explanation.get("en", ""),
    }


def pay_lines(session: Session, month: str, plan: str | None = None, language: str = "en") -> list[dict]:
    """The month's lines, by employee, plan and component."""
    return [
        as_row(line, code, name, department, language)
        for line, code, name, department in session.execute(line_query(month, plan))
    ]


def to_json(rows: list[dict]) -> str:
    def plain(value):
        return f"{value:.2f}" if isinstance(value, Decimal) else value

    return json.dumps([{key: plain(row[key]) for key in COLUMNS} for row in rows], ensure_ascii=False, indent=2)


def _cell(key: str, value):
    if key == "source":
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return value


def to_csv(rows: list[dict]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow([neutralise(_cell(key, row[key])) for key in COLUMNS])
    return buffer.getvalue()


def to_xlsx(rows: list[dict]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "pay"
    sheet.append(list(COLUMNS))
    sheet.freeze_panes = "A2"
    for row in rows:
        cells = []
        for key in COLUMNS:
            value = _cell(key, row[key])
            cells.append(value if isinstance(value, Decimal) else (None if value is None else neutralise(value)))
        sheet.append(cells)
    for column, key in enumerate(COLUMNS, start=1):
        if key in MONEY_COLUMNS:
            for (cell,) in sheet.iter_rows(min_row=2, min_col=column, max_col=column):
                cell.number_format = "#,##0.00"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
