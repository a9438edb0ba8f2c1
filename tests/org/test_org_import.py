"""Organisation import: YAML and CSV, clear errors for unknown references and loops, audited."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from perfrules.audit import AuditEntry
from perfrules.org.models import Department, Employee

from ..helpers import SEED_ORG, run_cli, write

pytestmark = pytest.mark.database


def heads(session) -> dict[str, str]:
    """Department code → its head's code, for the departments that have one."""
    return {d.code: d.head.code for d in session.scalars(sa.select(Department)) if d.head is not None}


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
    assert heads(session) == {"SALES": "E0001", "EAST": "E0002", "SOUTH": "E0005"}
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


def test_heads_may_be_new_employees_and_changing_one_is_audited(cli_env, session, tmp_path):
    assert run_cli("org", "import", SEED_ORG).exit_code == 0
    departments = write(
        tmp_path,
        "departments.csv",
        """
        code,name_zh,name_en,parent,head
        EAST,华东销售部,East China sales,SALES,E0010
        SOUTH,华南销售部,South China sales,SALES,
        NORTH,华北销售部,North China sales,SALES,E0003
        KA,大客户部,Key accounts,HQ,
    """,
    )
    employees = write(tmp_path, "employees.csv", "code,name,department\nE0010,孙丽,EAST\n")
    result = run_cli("org", "import", departments, employees)
    assert result.exit_code == 0, result.stderr
    assert "departments: 1 added, 3 changed" in result.stdout
    session.rollback()
    assert heads(session) == {"SALES": "E0001", "EAST": "E0010", "NORTH": "E0003"}
    east = session.scalars(sa.select(AuditEntry).where(AuditEntry.key == "EAST").order_by(AuditEntry.id)).all()[-1]
    assert (east.before["head"], east.after["head"]) == ("E0002", "E0010")
    assert {key: value for key, value in east.before.items() if key != "head"} == {
        key: value for key, value in east.after.items() if key != "head"
    }  # the head is the only change, and it counts
    added = session.scalar(sa.select(AuditEntry).where(AuditEntry.key == "NORTH"))
    assert added.before is None and added.after["head"] == "E0003"
    moved = session.scalars(sa.select(AuditEntry).where(AuditEntry.key == "KA").order_by(AuditEntry.id)).all()[-1]
    assert (moved.before["parent"], moved.after["parent"]) == ("SALES", "HQ")  # a new parent counts as a change too

    again = run_cli("org", "import", departments, employees)
    assert "departments: 0 added, 0 changed" in again.stdout, again.stdout


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
     departments:
       - {code: EAST, label: {zh: 华东销售部}, parent: SALES, head: E0099}
     """,
            ":2: departments[EAST].head: unknown employee 'E0099'",
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
     employees:
       - {code: X9, name: 离职, department: EAST, active: false}
     departments:
       - {code: EAST, label: {zh: 华东销售部}, parent: SALES, head: X9}
     """,
            "departments[EAST].head: 'X9' has left (inactive): a head must be someone still working",
        ),
        (
            """
     departments:
       - {code: NEW, label: {zh: 新部门}, parent: [SALES], head: {code: E0001}}
     """,
            "departments[NEW].parent: must be one code, not ['SALES']",
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
