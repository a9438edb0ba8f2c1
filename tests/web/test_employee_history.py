"""The console's employee form records a change of department, manager or role, a departure or a
rehire as of its "effective from" day, in the employee's spans of employment, like the
organisation import; a day before the current span begins is refused next to the field.

The company is the scenario's (tests/engine/scenario.py): L1 leads R1 and R2 in EAST, R3 leads R4
in WEST.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
import sqlalchemy as sa

from perfrules.audit import AuditEntry
from perfrules.org.history import spans_of
from perfrules.org.models import Department, Employee, Role
from perfrules.web import create_app

from ..helpers import add_users, csrf_token, sign_in

pytestmark = pytest.mark.database

PASSWORD = "s3cret-pass"
D = dt.date


@pytest.fixture
def hr(company, cli_env, tmp_path):
    """A client signed in as HR, reading English."""
    add_users([("hr", "hr", None)], PASSWORD)
    app = create_app({"database_url": cli_env, "instance_path": str(tmp_path / "instance"), "TESTING": True})
    client = app.test_client()
    assert sign_in(client, "hr", PASSWORD).status_code == 302
    client.csrf = csrf_token(client.get("/").get_data(as_text=True))
    assert post(client, "/language", {"language": "en", "next": "/"}).status_code == 302
    yield client
    app.extensions["perfrules.run_executor"].shutdown(wait=True)


def post(client, url: str, data: dict, **kwargs):
    return client.post(url, data={**data, "csrf_token": client.csrf}, **kwargs)


def edit(client, session, code: str, **changes: str):
    session.rollback()
    employee = session.scalar(sa.select(Employee).where(Employee.code == code))
    form = {
        "name": employee.name,
        "department": employee.department.code,
        "role": employee.role.code if employee.role else "",
        "manager": employee.manager.code if employee.manager else "",
        "hire_date": employee.hire_date.isoformat() if employee.hire_date else "",
        "active": "y",
        "attributes": "{}",
        **changes,
    }
    if form["active"] == "":
        del form["active"]  # an unticked box is not sent
    return post(client, f"/admin/employees/edit/?id={employee.id}", form)


def history(session, code: str) -> list[tuple]:
    session.rollback()
    employee_id = session.scalar(sa.select(Employee.id).where(Employee.code == code))
    codes = dict(session.execute(sa.select(Employee.id, Employee.code)).all())
    departments = dict(session.execute(sa.select(Department.id, Department.code)).all())
    return [
        (span.starts_on, span.ends_on, departments[span.department_id], codes.get(span.manager_id))
        for span in spans_of(session, employee_id)
    ]


def test_a_move_takes_effect_on_the_day_given_and_an_earlier_one_is_refused(hr, session):
    session.rollback()
    r2 = session.scalar(sa.select(Employee.id).where(Employee.code == "R2"))
    assert 'name="effective"' in hr.get(f"/admin/employees/edit/?id={r2}").get_data(as_text=True)
    moved = edit(hr, session, "R2", department="WEST", manager="R3", effective="2026-10-16")
    assert moved.status_code == 302, moved.get_data(as_text=True)
    assert history(session, "R2") == [
        (D(2022, 1, 1), D(2026, 10, 16), "EAST", "L1"),
        (D(2026, 10, 16), None, "WEST", "R3"),
    ]
    change = session.scalars(
        sa.select(AuditEntry).where(AuditEntry.key == "R2", AuditEntry.kind == "employees").order_by(AuditEntry.id)
    ).all()[-1]
    assert (change.actor, change.after["manager"], change.after["effective"]) == ("hr", "R3", "2026-10-16")

    refused = edit(hr, session, "R2", manager="", effective="2026-10-01")
    page = refused.get_data(as_text=True)
    assert re.search(
        r'id="effective".*?invalid-feedback.*?effective 2026-10-01 is before the current span, which starts on '
        r"2026-10-16: a change cannot be dated earlier",
        page,
        re.S,
    )
    assert history(session, "R2")[-1] == (D(2026, 10, 16), None, "WEST", "R3")


def test_a_departure_and_a_rehire_close_and_open_spans(hr, session):
    assert edit(hr, session, "R4", active="", effective="2026-11-20").status_code == 302
    assert history(session, "R4") == [(D(2024, 1, 1), D(2026, 11, 20), "WEST", "R3")]
    early = edit(hr, session, "R4", effective="2026-11-01")
    assert "a rehire effective 2026-11-01 is before the last span ends (2026-11-20)" in early.get_data(as_text=True)
    assert edit(hr, session, "R4", effective="2027-01-04").status_code == 302
    assert history(session, "R4")[-1] == (D(2027, 1, 4), None, "WEST", "R3")


def test_a_role_or_department_someone_worked_in_stays_for_their_history(hr, session):
    assert (
        post(hr, "/admin/roles/new/", {"code": "analyst", "label_zh": "分析师", "label_en": "Analyst"}).status_code
        == 302
    )
    assert edit(hr, session, "R3", role="analyst", effective="2026-09-01").status_code == 302
    assert edit(hr, session, "R3", role="rep", effective="2026-10-01").status_code == 302
    session.rollback()
    analyst = session.scalar(sa.select(Role.id).where(Role.code == "analyst"))
    refused = post(hr, "/admin/roles/delete/", {"id": analyst, "url": "/admin/roles/"}, follow_redirects=True)
    assert "employees held role &#39;analyst&#39;: it stays for their history" in refused.get_data(as_text=True)
    # L1 has no records, scorecards or reports left once R1 and R2 report to R3, but managed them
    for code in ("R1", "R2"):
        assert edit(hr, session, code, manager="R3", effective="2026-12-01").status_code == 302
    l1 = session.scalar(sa.select(Employee.id).where(Employee.code == "L1"))
    refused = post(hr, "/admin/employees/delete/", {"id": l1, "url": "/admin/employees/"}, follow_redirects=True)
    assert "people reported to &#39;L1&#39;: set them inactive instead" in refused.get_data(as_text=True)
