"""The organisation's history: each change of department, manager or role, each departure and
rehire is kept as a span of employment dated by the import's `--effective` day (or the row's
own `effective`); changes dated before the current span begins are refused, and spans of one
employee never overlap."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from perfrules.audit import AuditEntry
from perfrules.org.history import FAR_PAST, Placement, SpanError, add_span, follow, spans_of
from perfrules.org.models import Department, Employee, EmployeeSpan, Role

from ..helpers import run_cli, write

pytestmark = pytest.mark.database

ORG = """
departments:
  - {code: HQ, label: {zh: 总部, en: Headquarters}}
  - {code: EAST, label: {zh: 华东, en: East}, parent: HQ}
  - {code: WEST, label: {zh: 华西, en: West}, parent: HQ}
roles:
  - {code: lead, label: {zh: 主管, en: Lead}}
  - {code: rep, label: {zh: 销售, en: Rep}}
employees:
  - {code: L1, name: 主管一, department: EAST, role: lead, hire_date: 2020-01-01}
  - {code: L2, name: 主管二, department: WEST, role: lead, hire_date: 2020-01-01}
  - {code: R1, name: 销售一, department: EAST, role: rep, manager: L1, hire_date: 2024-03-01}
  - {code: R9, name: 销售九, department: EAST, role: rep, manager: L1}
  - {code: Q1, name: 离职一, department: WEST, role: rep, active: false}
"""
D = dt.date


def imported(folder, name: str, text: str, *options: str):
    result = run_cli("org", "import", write(folder, name, text), *options)
    assert result.exit_code == 0, result.output
    return result


def history(session, code: str) -> list[tuple]:
    """The employee's spans as (starts, ends, department, manager, role) by codes."""
    session.rollback()
    employee = session.scalar(sa.select(Employee).where(Employee.code == code))
    codes = dict(session.execute(sa.select(Employee.id, Employee.code)).all())
    departments = dict(session.execute(sa.select(Department.id, Department.code)).all())
    roles = dict(session.execute(sa.select(Role.id, Role.code)).all())
    return [
        (span.starts_on, span.ends_on, departments[span.department_id], codes.get(span.manager_id), roles[span.role_id])
        for span in spans_of(session, employee.id)
    ]


@pytest.fixture
def org(cli_env, session, tmp_path):
    imported(tmp_path, "org.yaml", ORG)
    return tmp_path


def test_a_new_employee_starts_on_the_hire_date_and_one_imported_inactive_has_no_span(org, session):
    assert history(session, "R1") == [(D(2024, 3, 1), None, "EAST", "L1", "rep")]
    assert history(session, "R9") == [(FAR_PAST, None, "EAST", "L1", "rep")]  # hire date unknown
    assert history(session, "Q1") == []


def test_a_move_closes_the_span_and_opens_the_next_on_the_effective_day_audited(org, session):
    moved = imported(
        org,
        "move.yaml",
        "employees:\n  - {code: R1, name: 销售一, department: WEST, role: rep, manager: L2, hire_date: 2024-03-01}\n",
        "--effective",
        "2026-10-16",
    )
    assert "employees: 0 added, 1 changed" in moved.stdout
    assert history(session, "R1") == [
        (D(2024, 3, 1), D(2026, 10, 16), "EAST", "L1", "rep"),
        (D(2026, 10, 16), None, "WEST", "L2", "rep"),
    ]
    r1 = session.scalar(sa.select(Employee).where(Employee.code == "R1"))
    assert (r1.department.code, r1.manager.code) == ("WEST", "L2")  # the row keeps the latest state
    entry = session.scalars(
        sa.select(AuditEntry).where(AuditEntry.kind == "employees", AuditEntry.key == "R1").order_by(AuditEntry.id)
    ).all()[-1]
    assert (entry.before["manager"], entry.after["manager"], entry.after["effective"]) == ("L1", "L2", "2026-10-16")
    # importing the same file again changes nothing, whatever the day
    imported(org, "move.yaml", (org / "move.yaml").read_text(encoding="utf-8"), "--effective", "2026-12-01")
    assert len(history(session, "R1")) == 2


def test_a_departure_closes_the_span_and_a_rehire_opens_a_new_one(org, session):
    row = "employees:\n  - {code: R1, name: 销售一, department: EAST, role: rep, manager: L1, active: %s}\n"
    imported(org, "leave.yaml", row % "false", "--effective", "2026-11-01")
    assert history(session, "R1") == [(D(2024, 3, 1), D(2026, 11, 1), "EAST", "L1", "rep")]
    imported(org, "back.yaml", row % "true", "--effective", "2027-02-01")
    assert history(session, "R1") == [
        (D(2024, 3, 1), D(2026, 11, 1), "EAST", "L1", "rep"),
        (D(2027, 2, 1), None, "EAST", "L1", "rep"),
    ]


def test_each_csv_row_may_name_its_own_effective_day(org, session):
    employees = write(
        org,
        "employees.csv",
        """
        code,name,department,role,manager,effective
        R1,销售一,WEST,rep,L2,2026-09-01
        R9,销售九,EAST,lead,L1,
        """,
    )
    result = run_cli("org", "import", employees, "--effective", "2026-10-01")
    assert result.exit_code == 0, result.output
    assert history(session, "R1")[-1] == (D(2026, 9, 1), None, "WEST", "L2", "rep")
    assert history(session, "R9")[-1] == (D(2026, 10, 1), None, "EAST", "L1", "lead")
    session.rollback()
    r1 = session.scalar(sa.select(Employee).where(Employee.code == "R1"))
    assert "effective" not in r1.attributes  # a column the import reads, not a free attribute


def test_a_change_on_the_day_the_span_starts_replaces_it(org, session):
    row = "employees:\n  - {code: R1, name: 销售一, department: %s, role: rep, manager: L1}\n"
    imported(org, "a.yaml", row % "WEST", "--effective", "2026-10-16")
    imported(org, "b.yaml", row % "HQ", "--effective", "2026-10-16")  # a correction of that day's move
    assert history(session, "R1") == [
        (D(2024, 3, 1), D(2026, 10, 16), "EAST", "L1", "rep"),
        (D(2026, 10, 16), None, "HQ", "L1", "rep"),
    ]


def test_changes_dated_too_early_are_refused_with_file_line_and_field(org, session):
    imported(
        org,
        "move.yaml",
        "employees:\n  - {code: R1, name: 销售一, department: WEST, role: rep, manager: L2}\n",
        "--effective",
        "2026-10-16",
    )
    early = write(
        org,
        "early.yaml",
        """
        employees:
          - {code: L1, name: 主管一, department: EAST, role: lead}
          - {code: R1, name: 销售一, department: WEST, role: rep, manager: L1}
        """,
    )
    refused = run_cli("org", "import", early, "--effective", "2026-10-01")
    assert refused.exit_code != 0
    assert (
        f"{early}:3: employees[R1].manager: effective 2026-10-01 is before the current span, which starts on "
        "2026-10-16: a change cannot be dated earlier"
    ) in refused.stderr
    assert "nothing was imported (1 problem(s))" in refused.stderr

    imported(
        org,
        "leave.yaml",
        "employees:\n  - {code: R9, name: 销售九, department: EAST, active: no}\n",
        "--effective",
        "2026-11-01",
    )
    rehire = write(
        org, "rehire.yaml", "employees:\n  - {code: R9, name: 销售九, department: EAST, effective: 2026-10-20}\n"
    )
    refused = run_cli("org", "import", rehire)
    assert (
        f"{rehire}:2: employees[R9].active: a rehire effective 2026-10-20 is before the last span ends (2026-11-01)"
    ) in refused.stderr
    bad_day = write(org, "bad.yaml", "employees:\n  - {code: R9, name: 销售九, department: EAST, effective: soon}\n")
    assert f"{bad_day}:2: employees[R9].effective: 'soon'" in run_cli("org", "import", bad_day).stderr
    assert history(session, "R1")[-1] == (D(2026, 10, 16), None, "WEST", "L2", "rep")
    assert history(session, "R9") == [(FAR_PAST, D(2026, 11, 1), "EAST", "L1", "rep")]


def test_a_move_to_an_unknown_department_or_manager_changes_no_span(org, session):
    unknown = write(
        org, "unknown.yaml", "employees:\n  - {code: R1, name: 销售一, department: NORTH, role: rep, manager: X9}\n"
    )
    refused = run_cli("org", "import", unknown, "--effective", "2026-10-16")
    assert "employees[R1].department: unknown department 'NORTH'" in refused.stderr
    assert "employees[R1].manager: unknown employee 'X9'" in refused.stderr
    assert history(session, "R1") == [(D(2024, 3, 1), None, "EAST", "L1", "rep")]


def test_spans_of_one_employee_never_overlap(org, session):
    session.rollback()
    r1 = session.scalar(sa.select(Employee).where(Employee.code == "R1"))
    here = Placement.of(r1)
    with pytest.raises(SpanError, match="cannot overlap: 2020-01-01 to 2024-03-02 overlaps 2024-03-01 to now"):
        add_span(session, r1.id, D(2020, 1, 1), D(2024, 3, 2), here)
    with pytest.raises(SpanError, match="a span ends after it starts"):
        add_span(session, r1.id, D(2020, 1, 1), D(2020, 1, 1), here)
    add_span(session, r1.id, D(2020, 1, 1), D(2024, 3, 1), here)  # the days before it, end to start: fine
    with pytest.raises(SpanError, match="before the current span, which starts on 2024-03-01"):
        follow(session, r1.id, D(2024, 2, 1), None, starts_on=D(2024, 2, 1))
    assert follow(session, r1.id, D(2026, 10, 1), here, starts_on=D(2026, 10, 1)) is False  # nothing changes
    assert follow(session, r1.id, D(2026, 10, 1), None, starts_on=D(2026, 10, 1)) is True
    with pytest.raises(SpanError, match="a rehire effective 2026-09-30 is before the last span ends"):
        follow(session, r1.id, D(2026, 9, 30), here, starts_on=D(2026, 9, 30))
    assert [(s.starts_on, s.ends_on) for s in spans_of(session, r1.id)] == [
        (D(2020, 1, 1), D(2024, 3, 1)),
        (D(2024, 3, 1), D(2026, 10, 1)),
    ]
    session.rollback()
    assert session.scalar(sa.select(sa.func.count()).select_from(EmployeeSpan)) == 4  # L1, L2, R1, R9
