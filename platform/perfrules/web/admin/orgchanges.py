"""Changing the organisation one record at a time, with the checks `perfrules org import` makes
(org/importer.py: known departments, roles, managers and heads; no department tree or manager
chain that loops) and an audit row with the record before and after. Plain functions of a
session, like the importer: the console's views call them and commit. (Employees, whose changes
are also dated, have theirs in employeechanges.py.)

Every refusal is a ConfigError whose problems' paths name the form field at fault (`parent`,
`head`, `manager`, `roles` …), so the form shows each message next to its field. Nothing is
changed when a check fails.

Codes and logins are keys other data points at (configuration names departments, roles and
employees by code; records and scorecards point at rows): they are set when a record is created
and never renamed here.
"""

from __future__ import annotations

import datetime as dt
import re

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ...audit import record_change
from ...config.store import working_config
from ...engine.models import Scorecard
from ...org.importer import _loops as loops  # the importer's loop finder, so both doors agree
from ...org.models import USER_ROLES, ApiToken, Department, Employee, EmployeeSpan, Role, User
from ...org.users import check_email, create_user, hash_password
from ...problems import ConfigError, Problem

CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")


def _refuse(*problems: tuple[str, str]) -> None:
    if problems:
        raise ConfigError([Problem(path, message) for path, message in problems])


def _new_code_problems(session: Session, code: str, column, what: str) -> list[tuple[str, str]]:
    if not code:
        return [("code", "a code is required")]
    if not CODE.match(code):
        return [("code", "use letters, digits, '_', '-' or '.', up to 64 characters, starting with a letter or digit")]
    if session.scalar(sa.select(column).where(column == code)) is not None:
        return [("code", f"{what} '{code}' already exists")]
    return []


def _label(zh: str | None, en: str | None) -> tuple[dict, list[tuple[str, str]]]:
    zh, en = (zh or "").strip(), (en or "").strip()
    if not zh:
        return {"zh": "", "en": en}, [("label_zh", "a Chinese name (zh) is required")]
    if len(zh) > 200 or len(en) > 200:
        return {"zh": zh, "en": en}, [("label_zh" if len(zh) > 200 else "label_en", "at most 200 characters")]
    return {"zh": zh, "en": en or zh}, []


def _jsonable(value):
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def _in_use_by_config(
    session: Session, *, department: str | None = None, role: str | None = None, employee: str | None = None
) -> list[str]:
    """Where the draft configuration names this department, role or employee."""
    config = working_config(session)
    uses = []
    for slug, template in config.get("templates", {}).items():
        applies = template.get("applies_to", {})
        if department and department in applies.get("departments", []):
            uses.append(f"templates.{slug}.applies_to.departments")
        if role and role in applies.get("roles", []):
            uses.append(f"templates.{slug}.applies_to.roles")
    for slug, target_set in config.get("targets", {}).items():
        for index, entry in enumerate(target_set.get("entries", [])):
            for key, value in (("department", department), ("role", role), ("employee", employee)):
                if value and entry.get(key) == value:
                    uses.append(f"targets.{slug}.entries[{index}].{key}")
    return uses


def _count(session: Session, column, value) -> int:
    return session.execute(sa.select(sa.func.count()).where(column == value)).scalar_one()


# --- departments ------------------------------------------------------------------------------


def department_parents(session: Session) -> dict[str, str | None]:
    codes = dict(session.execute(sa.select(Department.id, Department.code)).all())
    return {
        code: codes.get(parent_id) if parent_id is not None else None
        for code, parent_id in session.execute(sa.select(Department.code, Department.parent_id))
    }


def department_state(department: Department) -> dict:
    """A department as the audit log and the importer describe one: by codes."""
    return {
        "code": department.code,
        "label": department.label,
        "parent": department.parent.code if department.parent is not None else None,
        "head": department.head.code if department.head is not None else None,
    }


def save_department(
    session: Session,
    department: Department | None,
    *,
    code: str,
    label_zh: str,
    label_en: str,
    parent: str | None,
    head: str | None,
    actor: str,
) -> Department:
    """Create (department None) or change a department."""
    code = department.code if department is not None else (code or "").strip()
    parent, head = ((value or "").strip() or None for value in (parent, head))
    problems = [] if department is not None else _new_code_problems(session, code, Department.code, "department")
    label, label_problems = _label(label_zh, label_en)
    problems += label_problems
    parents = department_parents(session)
    parent_row = None
    if parent is not None:
        parent_row = session.scalar(sa.select(Department).where(Department.code == parent))
        if parent_row is None:
            problems.append(("parent", f"unknown department '{parent}'"))
        elif parent == code:
            problems.append(("parent", "a department cannot be its own parent"))
    head_row = None
    if head is not None:
        head_row = session.scalar(sa.select(Employee).where(Employee.code == head))
        if head_row is None:
            problems.append(("head", f"unknown employee '{head}'"))
        elif not head_row.active:
            problems.append(("head", f"'{head}' has left (inactive): a head must be someone still working"))
    if not problems:
        parents[code] = parent
        for chain in loops(parents):
            if code in chain:
                problems.append(("parent", "departments form a loop: " + " → ".join(chain)))
    _refuse(*problems)
    after = {"code": code, "label": label, "parent": parent, "head": head}
    if department is None:
        department = Department(code=code, label=label, parent=parent_row, head=head_row)
        session.add(department)
        before = None
    else:
        before = department_state(department)
        if before == after:
            return department
        department.label, department.parent, department.head = label, parent_row, head_row
    session.flush()
    record_change(session, actor=actor, action="org.save", kind="departments", key=code, before=before, after=after)
    return department


def delete_department(session: Session, department: Department, actor: str) -> None:
    problems = []
    children = session.scalars(sa.select(Department.code).where(Department.parent_id == department.id)).all()
    if children:
        problems.append(
            (
                "",
                f"department '{department.code}' has sub-departments ({', '.join(children)}): "
                "move or delete them first",
            )
        )
    employees = _count(session, Employee.department_id, department.id)
    if employees:
        problems.append(("", f"{employees} employee(s) belong to department '{department.code}': move them first"))
    elif _count(session, EmployeeSpan.department_id, department.id):
        problems.append(("", f"employees worked in department '{department.code}': it stays for their history"))
    if _count(session, Scorecard.department_id, department.id):
        problems.append(
            ("", f"scorecards were computed for department '{department.code}': it stays for their history")
        )
    for use in _in_use_by_config(session, department=department.code):
        problems.append(("", f"the draft configuration names department '{department.code}' at {use}"))
    _refuse(*problems)
    before = department_state(department)
    session.delete(department)
    session.flush()
    record_change(session, actor=actor, action="org.remove", kind="departments", key=before["code"], before=before)


# --- roles ------------------------------------------------------------------------------------


def save_role(session: Session, role: Role | None, *, code: str, label_zh: str, label_en: str, actor: str) -> Role:
    code = role.code if role is not None else (code or "").strip()
    problems = [] if role is not None else _new_code_problems(session, code, Role.code, "role")
    label, label_problems = _label(label_zh, label_en)
    _refuse(*problems, *label_problems)
    after = {"code": code, "label": label}
    if role is None:
        role = Role(code=code, label=label)
        session.add(role)
        before = None
    else:
        before = {"code": code, "label": role.label}
        if before == after:
            return role
        role.label = label
    session.flush()
    record_change(session, actor=actor, action="org.save", kind="roles", key=code, before=before, after=after)
    return role


def delete_role(session: Session, role: Role, actor: str) -> None:
    problems = []
    holders = _count(session, Employee.role_id, role.id)
    if holders:
        problems.append(("", f"{holders} employee(s) hold role '{role.code}': give them another role first"))
    elif _count(session, EmployeeSpan.role_id, role.id):
        problems.append(("", f"employees held role '{role.code}': it stays for their history"))
    for use in _in_use_by_config(session, role=role.code):
        problems.append(("", f"the draft configuration names role '{role.code}' at {use}"))
    _refuse(*problems)
    before: dict = {"code": role.code, "label": role.label}
    session.delete(role)
    session.flush()
    record_change(session, actor=actor, action="org.remove", kind="roles", key=before["code"], before=before)


# --- users ------------------------------------------------------------------------------------


def user_state(session: Session, user: User) -> dict:
    """A user as the audit log shows one; never the password or its hash."""
    employee = (
        session.scalar(sa.select(Employee.code).where(Employee.id == user.employee_id)) if user.employee_id else None
    )
    return {
        "login": user.login,
        "roles": sorted(user.roles or []),
        "employee": employee,
        "active": bool(user.active),
        **({"email": user.email} if user.email else {}),
    }


def save_user(
    session: Session,
    user: User | None,
    *,
    login: str,
    roles: list[str],
    employee: str | None,
    active: bool,
    password: str | None,
    acting: User,
    actor: str,
    email: str | None = None,
) -> User:
    """Create (user None) or change a user. `acting` is who does it: nobody removes their own
    admin role, deactivates themselves, or locks themselves out that way."""
    login = user.login if user is not None else (login or "").strip()
    roles = sorted(set(roles or []))
    employee = (employee or "").strip() or None
    problems = []
    if user is None:
        if not login:
            problems.append(("login", "a login is required"))
        elif not re.match(r"^[A-Za-z0-9][A-Za-z0-9_.@\-]{0,63}$", login):
            problems.append(("login", "use letters, digits, '_', '-', '.' or '@', up to 64 characters"))
        elif session.scalar(sa.select(User.id).where(User.login == login)) is not None:
            problems.append(("login", f"user '{login}' already exists"))
    unknown = [role for role in roles if role not in USER_ROLES]
    if unknown:
        problems.append(("roles", f"unknown role(s): {', '.join(unknown)}"))
    if not roles:
        problems.append(("roles", "give the user at least one role"))
    if user is not None and user.id == acting.id:
        if "admin" in user.roles and "admin" not in roles:
            problems.append(("roles", "you cannot remove your own admin role"))
        if not active:
            problems.append(("active", "you cannot deactivate yourself"))
    employee_id = None
    if employee:
        employee_id = session.scalar(sa.select(Employee.id).where(Employee.code == employee))
        if employee_id is None:
            problems.append(("employee", f"unknown employee '{employee}'"))
        else:
            holder = session.scalar(
                sa.select(User.login).where(User.employee_id == employee_id, User.id != (user.id if user else -1))
            )
            if holder is not None:
                problems.append(("employee", f"user '{holder}' already signs in as '{employee}'"))
    try:
        email = check_email(email)
    except ValueError as exc:
        problems.append(("email", str(exc)))
    password_hash = None
    if password:
        try:
            password_hash = hash_password(password)
        except ValueError as exc:
            problems.append(("password", str(exc)))
    elif user is None:
        problems.append(("password", "a new user needs a password"))
    _refuse(*problems)
    if user is None:
        user = create_user(session, login, "", roles, employee_id, actor, password_hash=password_hash, email=email)
        user.active = bool(active)
        session.flush()
        return user
    before = user_state(session, user)
    user.roles, user.employee_id, user.active, user.email = roles, employee_id, bool(active), email
    if password_hash is not None:
        user.password_hash = password_hash
        user.session_epoch += 1  # a new password ends every session signed in with the old one
    session.flush()
    after = user_state(session, user)
    if password_hash is not None:
        after["password"] = "changed"
    if before != after:
        record_change(session, actor=actor, action="user.save", kind="users", key=login, before=before, after=after)
    return user


def delete_user(session: Session, user: User, acting: User, actor: str) -> None:
    if user.id == acting.id:
        _refuse(("", "you cannot delete yourself"))
    before = user_state(session, user)
    tokens = session.scalars(sa.select(ApiToken).where(ApiToken.user_id == user.id)).all()
    for token in tokens:
        session.delete(token)
    session.delete(user)
    session.flush()
    if tokens:
        before["api_tokens"] = len(tokens)
    record_change(session, actor=actor, action="user.delete", kind="users", key=before["login"], before=before)
