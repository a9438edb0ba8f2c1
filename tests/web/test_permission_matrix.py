"""Who sees what, as a matrix: every role × every action × whose record, generated from the app's
own URL map and the organisation rather than listed by hand.

The scenario (tests/engine/scenario.py), with its reporting lines redrawn here so that managers
sit above managers: EAST holds L1, R1, R2 and WEST holds R3, R4, both under SALES. L1 heads EAST
and manages R1 and R4 (across departments); R1 manages R2; R3 heads WEST and manages nobody. The
expectation is worked out here from that organisation, independently of the code under test
(perfrules.org.access).
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
import sqlalchemy as sa

from perfrules.cli.context import session_scope
from perfrules.org.models import Department, DepartmentHead, Employee, EmployeeSpan
from perfrules.web import create_app

from ..helpers import add_users, run_cli, sign_in, starting_state

pytestmark = pytest.mark.database

PASSWORD = "s3cret-pass"
DEPARTMENT = {"L1": "EAST", "R1": "EAST", "R2": "EAST", "R3": "WEST", "R4": "WEST"}
MANAGER = {"L1": None, "R1": "L1", "R2": "R1", "R3": None, "R4": "L1"}
HEAD = {"EAST": "L1", "WEST": "R3"}
EVERYONE = set(DEPARTMENT)
#: login: (roles, employee)
USERS = {
    "admin": (("admin",), None),
    "hr": (("hr",), None),
    "audit": (("auditor",), None),
    "lead": (("manager",), "L1"),
    "mid": (("manager",), "R1"),  # a manager whose boss (L1) and peers are not theirs to see
    "rep2": (("employee",), "R2"),
    "rep4": (("employee",), "R4"),
    "lead_rep": (("manager", "employee"), "R3"),  # heads WEST; R4 reports elsewhere
}
SUBJECTS = [None, *USERS]


def _chain(code: str | None, step) -> set[str]:
    found: set[str] = set()
    while (code := step(code)) is not None and code not in found:
        found.add(code)
    return found


def visible(login: str | None) -> set[str]:
    """The scorecards a user may see, from the organisation alone: their own; as a manager,
    everyone below them in the reporting chain and the members of the departments they head,
    except the people above them."""
    if login is None:
        return set()
    roles, employee = USERS[login]
    if set(roles) & {"admin", "hr", "auditor"}:
        return EVERYONE
    seen = {employee} if employee else set()
    if "manager" in roles and employee:
        below = {code for code in EVERYONE if employee in _chain(code, MANAGER.get)}
        headed = {code for code, department in DEPARTMENT.items() if HEAD.get(department) == employee}
        seen |= below | (headed - _chain(employee, MANAGER.get))
    return seen


def _create_users_and_run(folder: Path) -> None:
    with session_scope() as session:
        ids = dict(session.execute(sa.select(Employee.code, Employee.id)).all())
        for code, manager in MANAGER.items():
            session.execute(
                sa.update(Employee)
                .where(Employee.code == code)
                .values(manager_id=ids.get(manager) if manager else None)
            )
            # and so it has always been: the history the engine reads says the same
            session.execute(
                sa.update(EmployeeSpan)
                .where(EmployeeSpan.employee_id == ids[code])
                .values(manager_id=ids.get(manager) if manager else None)
            )
        for department, head in HEAD.items():
            department_id = session.scalar(sa.select(Department.id).where(Department.code == department))
            session.add(DepartmentHead(department_id=department_id, employee_id=ids[head]))
    add_users(((login, *spec) for login, spec in USERS.items()), PASSWORD)
    assert run_cli("run", "2026-10").exit_code == 0


@pytest.fixture
@starting_state(_create_users_and_run, parent="company")
def matrix_company(company):
    """The scenario company with USERS, evaluated for 2026-10; the test's folder."""
    return company


@pytest.fixture
def world(matrix_company, cli_env, tmp_path):
    """The app, a client per subject (signed in through the form, but anonymous) and a bearer
    token per user."""
    app = create_app({"database_url": cli_env, "instance_path": str(tmp_path / "instance"), "TESTING": True})
    clients, tokens = {}, {}
    for login in SUBJECTS:
        client = app.test_client()
        if login is not None:
            assert sign_in(client, login, PASSWORD).status_code == 302
            result = run_cli("token", "create", login, "--name", "matrix")
            tokens[login] = {"Authorization": f"Bearer {result.stdout.strip().splitlines()[-1]}"}
        clients[login] = client
    return app, clients, tokens


def test_scorecards_by_role_and_whose_record(world):
    app, clients, tokens = world
    anonymous = app.test_client()
    for login, code in itertools.product(SUBJECTS, sorted(EVERYONE)):
        expected = code in visible(login)
        client = clients[login]
        if "scorecards.show" in app.view_functions:
            page = client.get(f"/scorecards/2026-10/{code}")
            assert page.status_code == (200 if expected else 302 if login is None else 404), (login, code)
        api = anonymous.get(f"/api/v1/scorecards/2026-10/{code}", headers=tokens.get(login, {}))
        assert api.status_code == (200 if expected else 401 if login is None else 404), (login, code)
        if login is not None:  # the browser session reaches the same API with the same answer
            assert client.get(f"/api/v1/scorecards/2026-10/{code}").status_code == api.status_code, (login, code)
    for login in SUBJECTS:
        if login is None:
            continue
        listed = anonymous.get("/api/v1/scorecards?period=2026-10&page_size=100", headers=tokens[login]).json
        assert {card["employee"] for card in listed} == visible(login), login
        if "scorecards.team" in app.view_functions:
            team = clients[login].get("/scorecards/team?period=2026-10")
            if "manager" in USERS[login][0] or set(USERS[login][0]) & {"admin", "hr", "auditor"}:
                text = team.get_data(as_text=True)
                shown = {code for code in EVERYONE if f"/scorecards/2026-10/{code}" in text}
                assert team.status_code == 200 and shown == visible(login), login
            else:
                assert team.status_code == 403, login


def _admin_urls(app) -> list[tuple[str, str]]:
    """Every console URL that needs no record id, and each record view with a real id."""
    urls = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/admin") or rule.endpoint.endswith(".static") or "GET" not in rule.methods:
            continue
        if rule.arguments:
            continue
        urls.append((rule.endpoint, rule.rule))
    return sorted(urls)


CONSOLE_READERS = {"admin", "hr", "audit"}


def test_the_console_is_closed_to_everyone_but_its_roles(world):
    app, clients, _ = world
    urls = _admin_urls(app)
    assert len(urls) >= 3, urls
    for (endpoint, url), login in itertools.product(urls, SUBJECTS):
        response = clients[login].get(url)
        if login is None:
            assert response.status_code == 302 and "/sign-in" in response.headers["Location"], (url, login)
        elif login not in CONSOLE_READERS:
            assert response.status_code == 403, (url, login)
        else:  # some URLs need parameters (ajax lookups): a reader may get 400 or 404, never an error
            assert response.status_code in (200, 302, 400, 403, 404), (url, login)
            if login == "admin" and endpoint.endswith((".index_view", ".index")):
                assert response.status_code == 200, (url, login)
            if login == "audit" and any(word in endpoint for word in (".create_view", ".edit_view", ".delete_view")):
                assert response.status_code in (302, 403), (url, login)  # read-only


def test_console_record_urls_are_guarded_for_every_record(world, session):
    """Details, edit and delete load a record by id: each is closed to the roles the list is."""
    app, clients, _ = world
    from perfrules.audit import AuditEntry

    ids = session.scalars(sa.select(AuditEntry.id).limit(3)).all()
    for record_id, login in itertools.product(ids, SUBJECTS):
        for action in ("details", "edit"):
            response = clients[login].get(f"/admin/audit/{action}/?id={record_id}")
            if login is None:
                assert response.status_code == 302, (action, login)
            elif login not in CONSOLE_READERS:
                assert response.status_code == 403, (action, login)
        deleted = clients[login].post("/admin/audit/delete/", data={"id": record_id})
        assert deleted.status_code in (302, 400, 403), login  # never done: no CSRF, no write role
    session.rollback()
    assert session.scalar(sa.select(sa.func.count()).select_from(AuditEntry).where(AuditEntry.id.in_(ids))) == len(ids)
