"""Organisation import: YAML and CSV, clear errors for unknown references and loops, audited."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from perfrules.audit import AuditEntry
from perfrules.org.models import Department, Employee

from ..helpers import SEED_ORG, run_cli, write

pytestmark = pytest.mark.database


def test_seed_organisation_imports_once(cli_env, session):
    first = run_cli("org", "import", SEED_ORG)
    assert first.exit_code == 0, first.stderr
    assert first.stdout == (
        "organisation imported: departments: 7 added, 0 changed, "
        "roles: 5 added, 0 changed, employees: 9 added, 0 changed\n"
    )
    again = run_cli("org", "import", SEED_ORG)
    assert "departments: 0 added, 0 changed, roles: 0 added, 0 changed, employees: 0 added, 0 changed" in again.stdout
    east = session.scalar(sa.select(Department).where(Department.code == "EAST"))
    assert east.parent.code == "SALES" and east.label == {"zh": "华东销售部", "en": "East China sales"}
    zhang = session.scalar(sa.select(Employee).where(Employee.code == "E0003"))
    assert (zhang.name, zhang.manager.code, zhang.role.code, zhang.hire_date.isoformat(), zhang.attributes) == (
        "张伟",
        "E0002",
        "sales_rep",
        "2021-02-22",
        {"level": "P5"},
    )
    assert session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) == 21


def test_csv_files_update_and_are_audited(cli_env, session, tmp_path):
    assert run_cli("org", "import", SEED_ORG).exit_code == 0
    employees = write(
        tmp_path,
        "employees.csv",
        """
        code,name,department,role,manager,hire_date,active,region
        E0004,刘洋,SOUTH,sales_rep,E0005,2023-09-04,yes,south
        E0010,孙丽,EAST,sales_rep,E0002,2026/10/08,是,east
    """,
    )
    result = run_cli("org", "import", employees)
    assert result.exit_code == 0, result.stderr
    assert "employees: 1 added, 1 changed" in result.stdout
    session.rollback()
    moved = session.scalar(sa.select(Employee).where(Employee.code == "E0004"))
    assert moved.department.code == "SOUTH" and moved.manager.code == "E0005"
    assert moved.attributes == {"region": "south"}
    audit = session.scalars(sa.select(AuditEntry).where(AuditEntry.key == "E0004").order_by(AuditEntry.id)).all()
    assert [a.action for a in audit] == ["org.save", "org.save"]
    assert audit[1].before["manager"] == "E0002" and audit[1].after["manager"] == "E0005"


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            """
     employees:
       - {code: X1, name: 甲, department: NOWHERE}
     """,
            "employees[X1].department: unknown department 'NOWHERE'",
        ),
        (
            """
     departments:
       - {code: A, label: {zh: 甲}, parent: B}
       - {code: B, label: {zh: 乙}, parent: A}
     """,
            "departments[A].parent: departments form a loop: A → B → A",
        ),
        (
            """
     employees:
       - {code: X1, name: 甲, department: EAST, manager: X2}
       - {code: X2, name: 乙, department: EAST, manager: X3}
       - {code: X3, name: 丙, department: EAST, manager: X1}
     """,
            "employees[X1].manager: managers form a loop: X1 → X2 → X3 → X1",
        ),
        (
            """
     employees:
       - {code: E0002, name: 李娜, department: EAST, manager: E0003}
     """,
            "employees[E0002].manager: managers form a loop: E0002 → E0003 → E0002",
        ),
        (
            """
     employees:
       - {code: X1, name: 甲, department: EAST, role: wizard, hire_date: yesterday}
     """,
            "employees[X1].role: unknown role 'wizard'",
        ),
        (
            """
     employees:
       - {code: X1, name: 甲, department: EAST, hire_date: yesterday}
     """,
            "employees[X1].hire_date: 'yesterday': expected a date like 2026-10-31",
        ),
        (
            """
     roles:
       - {code: r1, label: {en: Only English}}
     """,
            "roles[r1].label: a Chinese name (zh) is required",
        ),
    ],
)
def test_bad_organisation_files_change_nothing(cli_env, session, tmp_path, text, expected):
    assert run_cli("org", "import", SEED_ORG).exit_code == 0
    before = session.scalar(sa.select(sa.func.count()).select_from(AuditEntry))
    path = write(tmp_path, "org.yaml", text)
    result = run_cli("org", "import", path)
    assert result.exit_code == 2
    assert f"{path}:" in result.stderr and expected in result.stderr, result.stderr
    assert "nothing was imported" in result.stderr
    session.rollback()
    assert session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) == before


@pytest.mark.parametrize("text", ["", "# the organisation comes later\n"])
def test_an_empty_organisation_file_imports_nothing(cli_env, session, tmp_path, text):
    path = write(tmp_path, "org.yaml", text)
    result = run_cli("org", "import", path)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == (
        "organisation imported: departments: 0 added, 0 changed, "
        "roles: 0 added, 0 changed, employees: 0 added, 0 changed\n"
    )
    assert session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) == 0


def test_a_csv_with_an_unknown_name_is_refused(cli_env, tmp_path):
    path = write(tmp_path, "people.csv", "code,name\nX,甲\n")
    result = run_cli("org", "import", path)
    assert result.exit_code == 2 and "name it departments.csv, roles.csv or employees.csv" in result.stderr


def test_users_are_created_with_hashed_passwords(cli_env, session):
    assert run_cli("org", "import", SEED_ORG).exit_code == 0
    created = run_cli(
        "user", "create", "zhangwei", "--role", "employee", "--employee", "E0003", "--password", "correct horse"
    )
    assert created.exit_code == 0 and created.stdout == "user zhangwei created\n"
    generated = run_cli("user", "create", "hr1", "--role", "hr")
    assert generated.stdout.startswith("user hr1 created; password: ")
    assert (
        run_cli("user", "create", "zhangwei", "--role", "admin", "--password", "x" * 9).stderr
        == "error: user 'zhangwei' already exists\n"
    )
    assert (
        run_cli("user", "create", "short", "--role", "admin", "--password", "abc").stderr
        == "error: a password needs at least 8 characters\n"
    )
    from werkzeug.security import check_password_hash

    from perfrules.org.models import User

    session.rollback()
    user = session.scalar(sa.select(User).where(User.login == "zhangwei"))
    assert user.password_hash != "correct horse" and check_password_hash(user.password_hash, "correct horse")
    assert user.employee.code == "E0003" and user.roles == ["employee"]
