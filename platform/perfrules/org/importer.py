"""Importing the organisation from YAML (departments, roles, employees) or CSV (one kind per file,
named departments.csv, roles.csv or employees.csv). All-or-nothing; every change is audited.

A department whose parent or head is unknown, an employee in an unknown department, role or
under an unknown manager, a department tree or manager chain that loops: each is a clear error
naming the file and line.

The file is the truth for the records it lists: a department listed without a parent or a head,
or an employee without a manager, has none after the import.

A change of an employee's department, manager or role, a departure (active: false) and a rehire
take effect on the import's effective date (default today), or on the employee's own `effective`
date: their spans of employment (`org.history`) keep what was true before. A change dated before
the employee's current span begins is refused. A new employee's first span starts on their hire
date (unknown: a far-past day); one imported inactive has none.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..audit import record_change
from ..cells import FieldError, parse_boolean, parse_date
from ..problems import ConfigError, Problem
from ..yamltext import YamlRefused, read_yaml
from .history import LatestSpan, Placement, SpanError, change_refusal, follow, latest_spans, start_history
from .models import Department, DepartmentHead, Employee, Role

KINDS = ("departments", "roles", "employees")
#: the keys that name another department, role or employee by its code
REFERENCES = ("parent", "head", "department", "role", "manager")
EMPLOYEE_COLUMNS = {"code", "name", "department", "role", "manager", "hire_date", "active", "effective"}
#: what places an employee, in the order a refused change names the first that differs
PLACEMENT_KEYS = ("department", "manager", "role", "active")


@dataclass
class Entry:
    kind: str
    data: dict
    file: str
    line: int

    def problem(self, key: str, message: str) -> Problem:
        return Problem(
            f"{self.kind}[{self.data.get('code', '?')}].{key}" if key else f"{self.kind}[{self.data.get('code', '?')}]",
            message,
            self.file,
            self.line,
        )


@dataclass
class OrgSummary:
    added: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    changed: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))

    def __str__(self) -> str:
        return ", ".join(f"{kind}: {self.added[kind]} added, {self.changed[kind]} changed" for kind in KINDS)


def read_entries(path: Path) -> list[Entry]:
    text = path.read_text(encoding="utf-8-sig")
    if path.suffix.lower() == ".csv":
        kind = path.stem.lower()
        if kind not in KINDS:
            raise ConfigError(
                [
                    Problem(
                        "",
                        f"cannot tell what {path.name} holds: name it departments.csv, roles.csv or employees.csv",
                        str(path),
                    )
                ]
            )
        reader = csv.DictReader(io.StringIO(text, newline=""))
        return [
            Entry(kind, _from_csv(kind, row), str(path), reader.line_num)
            for row in reader
            if any((v or "").strip() for v in row.values())
        ]
    try:
        data, node = read_yaml(text)
    except YamlRefused as exc:
        raise ConfigError([Problem("", exc.message, str(path), exc.line)]) from None
    data = data or {}
    if not isinstance(data, dict) or not set(data) <= set(KINDS):
        raise ConfigError([Problem("", f"an organisation file holds the sections {', '.join(KINDS)}", str(path), 1)])
    if node is None:  # an empty file (or only comments): nothing to import
        return []
    nodes = {key.value: value for key, value in node.value}
    entries: list[Entry] = []
    for kind, items in data.items():
        for item, item_node in zip(items or [], nodes[kind].value):
            entries.append(
                Entry(
                    kind, item if isinstance(item, dict) else {"code": item}, str(path), item_node.start_mark.line + 1
                )
            )
    return entries


def _from_csv(kind: str, row: dict) -> dict:
    row = {key.strip(): (value or "").strip() for key, value in row.items() if key}
    if kind in ("departments", "roles"):
        data = {"code": row.get("code", ""), "label": {"zh": row.get("name_zh", ""), "en": row.get("name_en", "")}}
        if kind == "departments":
            data.update({key: row[key] for key in ("parent", "head") if row.get(key)})
        return data
    data = {key: value for key, value in row.items() if key in EMPLOYEE_COLUMNS and value != ""}
    data["attributes"] = {key: value for key, value in row.items() if key not in EMPLOYEE_COLUMNS and value != ""}
    return data


def import_organisation(
    session: Session, paths: list[Path], actor: str, effective: dt.date | None = None
) -> OrgSummary:
    """Import the files (all, or nothing: ConfigError with every problem); changes to where
    employees work take effect on `effective` (default today) unless a row names its own."""
    effective = effective or dt.date.today()
    entries = [entry for path in paths for entry in read_entries(path)]
    problems: list[Problem] = []
    by_kind: dict[str, dict[str, Entry]] = {kind: {} for kind in KINDS}
    for entry in entries:
        code = entry.data.get("code")
        if not isinstance(code, str) or not code.strip():
            problems.append(entry.problem("code", "a code is required"))
            continue
        wrong = [key for key in REFERENCES if entry.data.get(key) is not None and not isinstance(entry.data[key], str)]
        for key in wrong:  # a list or a mapping where a code belongs: said here, never a crash later
            problems.append(entry.problem(key, f"must be one code, not {entry.data[key]!r}"))
            entry.data[key] = None
        if code in by_kind[entry.kind]:
            first = by_kind[entry.kind][code]
            problems.append(entry.problem("code", f"'{code}' appears twice (first at {first.file}:{first.line})"))
            continue
        by_kind[entry.kind][code] = entry

    departments = dict(session.execute(sa.select(Department.code, Department.id)).all())
    roles = dict(session.execute(sa.select(Role.code, Role.id)).all())
    parents = _department_parents(session)
    original_managers = _employee_managers(session)
    managers = dict(original_managers)
    known_employees = set(managers)

    for code, entry in by_kind["departments"].items():
        label = _label(entry, problems)
        parent = entry.data.get("parent")
        if parent and parent not in departments and parent not in by_kind["departments"]:
            problems.append(entry.problem("parent", f"unknown department '{parent}'"))
        parents[code] = parent or None
        head = entry.data.get("head")
        if head and head not in known_employees and head not in by_kind["employees"]:
            problems.append(entry.problem("head", f"unknown employee '{head}'"))
        entry.data["label"] = label
    for entry in by_kind["roles"].values():
        entry.data["label"] = _label(entry, problems)
    effective_of: dict[str, dt.date] = {}  # the employees' own effective days
    for code, entry in by_kind["employees"].items():
        data = entry.data
        if not str(data.get("name", "")).strip():
            problems.append(entry.problem("name", "a name is required"))
        department = data.get("department")
        if not department:
            problems.append(entry.problem("department", "a department is required"))
        elif department not in departments and department not in by_kind["departments"]:
            problems.append(entry.problem("department", f"unknown department '{department}'"))
        role = data.get("role")
        if role and role not in roles and role not in by_kind["roles"]:
            problems.append(entry.problem("role", f"unknown role '{role}'"))
        manager = data.get("manager")
        if manager and manager not in known_employees and manager not in by_kind["employees"]:
            problems.append(entry.problem("manager", f"unknown employee '{manager}'"))
        if manager == code:
            problems.append(entry.problem("manager", "an employee cannot be their own manager"))
        managers[code] = manager or None
        own = data.pop("effective", None)
        if own not in (None, ""):
            try:
                effective_of[code] = _date(parse_date(own))
            except FieldError as exc:
                problems.append(entry.problem("effective", f"{own!r}: {exc}"))
        for key, parse in (("hire_date", parse_date), ("active", parse_boolean)):
            if data.get(key) not in (None, ""):
                try:
                    data[key] = parse(data[key])
                except FieldError as exc:
                    problems.append(entry.problem(key, f"{data[key]!r}: {exc}"))
        if not isinstance(data.get("attributes", {}), dict):
            problems.append(entry.problem("attributes", "must be a mapping of names to values"))

    moves = _check_dates(session, by_kind["employees"], effective_of, effective, problems)
    inactive = set(session.scalars(sa.select(Employee.code).where(Employee.active.is_(False))))
    for entry in by_kind["departments"].values():
        head = entry.data.get("head")
        listed = by_kind["employees"].get(head) if head else None
        if head and (listed.data.get("active", True) is False if listed is not None else head in inactive):
            problems.append(
                entry.problem("head", f"'{head}' has left (inactive): a head must be someone still working")
            )
    for chain in _loops(parents):
        looped = by_kind["departments"].get(chain[0])
        message = "departments form a loop: " + " → ".join(chain)
        problems.append(looped.problem("parent", message) if looped else Problem("departments", message))
    for chain in _loops(managers):
        looped = by_kind["employees"].get(chain[0]) or next(
            (by_kind["employees"][c] for c in chain if c in by_kind["employees"]), None
        )
        message = "managers form a loop: " + " → ".join(chain)
        problems.append(looped.problem("manager", message) if looped else Problem("employees", message))
    if problems:
        raise ConfigError(problems)
    return _write(session, by_kind, original_managers, actor, moves)


def _placements(session: Session) -> dict[str, tuple[int, dict[str, object]]]:
    """Each employee's id and where they work now, by codes (`PLACEMENT_KEYS`)."""
    codes = dict(session.execute(sa.select(Employee.id, Employee.code)).all())
    departments = dict(session.execute(sa.select(Department.id, Department.code)).all())
    roles = dict(session.execute(sa.select(Role.id, Role.code)).all())
    return {
        employee.code: (
            employee.id,
            {
                "department": departments[employee.department_id],
                "manager": codes.get(employee.manager_id) if employee.manager_id is not None else None,
                "role": roles.get(employee.role_id) if employee.role_id is not None else None,
                "active": employee.active,
            },
        )
        for employee in session.scalars(sa.select(Employee))
    }


def _placed(data: dict) -> dict[str, object]:
    return {
        "department": data.get("department"),
        "manager": data.get("manager") or None,
        "role": data.get("role") or None,
        "active": data.get("active", True),
    }


def _check_dates(
    session: Session,
    employees: dict[str, Entry],
    effective_of: dict[str, dt.date],
    effective: dt.date,
    problems: list[Problem],
) -> dict[str, dt.date]:
    """The date each change of where an existing employee works takes effect (by code), with a
    problem for each dated before their current span begins (or a rehire before their last span
    ends)."""
    current = _placements(session)
    latest: dict[int, LatestSpan] | None = None
    moves: dict[str, dt.date] = {}
    for code, entry in employees.items():
        if code not in current:
            continue
        employee_id, before = current[code]
        after = _placed(entry.data)
        changed = [key for key in PLACEMENT_KEYS if before[key] != after[key]]
        if not changed:
            continue
        moves[code] = effective_of.get(code, effective)
        latest = latest if latest is not None else latest_spans(session)
        problem = change_refusal(latest.get(employee_id), moves[code], after["active"] is not False)
        if problem is not None:
            problems.append(entry.problem(changed[0], problem))
    return moves


def _label(entry: Entry, problems: list[Problem]) -> dict:
    label = entry.data.get("label") or {}
    if not isinstance(label, dict) or not str(label.get("zh", "")).strip():
        problems.append(entry.problem("label", "a Chinese name (zh) is required"))
        return {"zh": "", "en": ""}
    return {"zh": str(label["zh"]).strip(), "en": str(label.get("en") or label["zh"]).strip()}


def _department_parents(session: Session) -> dict[str, str | None]:
    codes = dict(session.execute(sa.select(Department.id, Department.code)).all())
    return {
        code: codes.get(parent_id) if parent_id is not None else None
        for code, parent_id in session.execute(sa.select(Department.code, Department.parent_id))
    }


def _department_states(session: Session) -> dict[str, dict]:
    """Each department as its audit entries describe it: by codes."""
    codes = dict(session.execute(sa.select(Department.id, Department.code)).all())
    heads = dict(
        session.execute(
            sa.select(DepartmentHead.department_id, Employee.code).join(
                Employee, Employee.id == DepartmentHead.employee_id
            )
        ).all()
    )
    return {
        department.code: {
            "code": department.code,
            "label": department.label,
            "parent": codes[department.parent_id] if department.parent_id is not None else None,
            "head": heads.get(department.id),
        }
        for department in session.scalars(sa.select(Department))
    }


def _employee_managers(session: Session) -> dict[str, str | None]:
    codes = dict(session.execute(sa.select(Employee.id, Employee.code)).all())
    return {
        code: codes.get(manager_id) if manager_id is not None else None
        for code, manager_id in session.execute(sa.select(Employee.code, Employee.manager_id))
    }


def _loops(links: dict[str, str | None]) -> list[list[str]]:
    """Each loop in a child → parent mapping once, as a path that ends where it starts."""
    loops: list[list[str]] = []
    settled: set[str] = set()
    for start in sorted(links):
        path: list[str] = []
        position: dict[str, int] = {}
        node: str | None = start
        while node is not None and node not in settled and node not in position:
            position[node] = len(path)
            path.append(node)
            node = links.get(node)
        if node is not None and node in position:
            loops.append(path[position[node] :] + [node])
        settled.update(path)
    return loops


def _write(
    session: Session,
    by_kind: dict[str, dict[str, Entry]],
    original_managers: dict[str, str | None],
    actor: str,
    moves: dict[str, dt.date],
) -> OrgSummary:
    summary = OrgSummary()
    departments_before = _department_states(session)
    existing_departments = {d.code: d for d in session.scalars(sa.select(Department))}
    for code, entry in by_kind["departments"].items():
        department = existing_departments.get(code)
        after = {
            "code": code,
            "label": entry.data["label"],
            "parent": entry.data.get("parent") or None,
            "head": entry.data.get("head") or None,
        }
        if department is None:
            department = Department(code=code, label=entry.data["label"])
            session.add(department)
            existing_departments[code] = department
            _audit(session, actor, "departments", code, None, after, summary.added)
        elif departments_before[code] != after:
            department.label = entry.data["label"]
            _audit(session, actor, "departments", code, departments_before[code], after, summary.changed)
    session.flush()
    for code, entry in by_kind["departments"].items():
        parent = entry.data.get("parent")
        existing_departments[code].parent_id = existing_departments[parent].id if parent else None

    existing_roles = {r.code: r for r in session.scalars(sa.select(Role))}
    for code, entry in by_kind["roles"].items():
        role = existing_roles.get(code)
        if role is None:
            session.add(Role(code=code, label=entry.data["label"]))
            _audit(session, actor, "roles", code, None, {"code": code, "label": entry.data["label"]}, summary.added)
        elif role.label != entry.data["label"]:
            _audit(
                session, actor, "roles", code, {"label": role.label}, {"label": entry.data["label"]}, summary.changed
            )
            role.label = entry.data["label"]
    session.flush()

    department_ids = {code: d.id for code, d in existing_departments.items()}
    role_ids = dict(session.execute(sa.select(Role.code, Role.id)).all())
    existing_employees = {e.code: e for e in session.scalars(sa.select(Employee))}
    for code, entry in by_kind["employees"].items():
        data = entry.data
        role = data.get("role")
        fields = {
            "name": str(data["name"]).strip(),
            "department_id": department_ids[data["department"]],
            "role_id": role_ids.get(role) if role is not None else None,
            "hire_date": _date(data.get("hire_date")),
            "active": data.get("active", True),
            "attributes": data.get("attributes") or {},
        }
        employee = existing_employees.get(code)
        after = {"code": code, **{k: v for k, v in data.items() if k != "code"}}
        if code in moves:
            after["effective"] = moves[code]
        if employee is None:
            employee = Employee(code=code, **fields)
            session.add(employee)
            existing_employees[code] = employee
            _audit(session, actor, "employees", code, None, after, summary.added)
        elif any(getattr(employee, key) != value for key, value in fields.items()) or original_managers.get(code) != (
            data.get("manager") or None
        ):
            before = {
                "code": code,
                "name": employee.name,
                "active": employee.active,
                "manager": original_managers.get(code),
                "attributes": employee.attributes,
            }
            for key, value in fields.items():
                setattr(employee, key, value)
            _audit(session, actor, "employees", code, before, after, summary.changed)
    session.flush()
    for code, entry in by_kind["employees"].items():
        manager = entry.data.get("manager")
        existing_employees[code].manager_id = existing_employees[manager].id if manager else None
    session.flush()
    for code, entry in by_kind["employees"].items():
        employee = existing_employees[code]
        if code not in original_managers:
            start_history(session, employee)
        elif code in moves:
            placement = Placement.of(employee) if employee.active else None
            try:
                follow(session, employee.id, moves[code], placement, starts_on=moves[code])
            except SpanError as exc:  # checked above; a clash found only now is still said, never a crash
                raise ConfigError([entry.problem("effective", str(exc))]) from None
    # heads last: a head may be an employee this import adds
    for code, entry in by_kind["departments"].items():
        head = entry.data.get("head") or None
        if head != departments_before.get(code, {}).get("head"):
            existing_departments[code].head = existing_employees[head] if head else None
    session.flush()
    return summary


def _date(value):
    return dt.date.fromisoformat(value) if isinstance(value, str) else value


def _audit(session: Session, actor: str, kind: str, code: str, before, after, counter: dict) -> None:
    counter[kind] += 1
    record_change(session, actor=actor, action="org.save", kind=kind, key=code, before=before, after=_jsonable(after))


def _jsonable(value):
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value
