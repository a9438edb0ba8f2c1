"""A target entry told in plain words, in the page's language — what it is for, who holds it, how
a longer period reaches shorter ones — and, for a department total split among its members, how
many active members share it and what each gets when the split is equal and nobody has their own
target (`engine.targets.split_exactly`, as a run splits it)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask_babel import format_decimal
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from ...engine.targets import DEFAULT_DECIMALS, split_exactly
from ...org.models import Department, Employee, Role
from ..i18n import label
from .form_reading import Document


def _amount(value: Any) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return format_decimal(value, format="#,##0.######")
    return str(value) if value not in (None, "") else "?"


class TargetWords:
    """What the descriptions need of the configuration and the organisation, read once."""

    def __init__(self, session: Session, config: dict, entries: list[Document]):
        self.names = {
            slug: document.get("label")
            for kind in ("metrics", "kpis")
            for slug, document in config.get(kind, {}).items()
        }
        rows = session.execute(sa.select(Department.id, Department.code, Department.label, Department.parent_id)).all()
        self.departments = {row.code: (row.id, row.label) for row in rows}
        self.children: dict[int | None, list[int]] = {}
        for row in rows:
            self.children.setdefault(row.parent_id, []).append(row.id)
        self.roles: dict[str, dict] = dict(session.execute(sa.select(Role.code, Role.label)).all())
        codes = {entry.get("employee") for entry in entries if isinstance(entry.get("employee"), str)}
        self.employees = (
            dict(session.execute(sa.select(Employee.code, Employee.name).where(Employee.code.in_(codes))).all())
            if codes
            else {}
        )
        self.members: list[tuple[int, str | None, str]] = []
        if any(entry.get("split") for entry in entries):
            self.members = [
                (row.department_id, row.role, row.code)
                for row in session.execute(
                    sa.select(Employee.department_id, Role.code.label("role"), Employee.code)
                    .outerjoin(Role, Role.id == Employee.role_id)
                    .where(Employee.active.is_(True))
                )
            ]

    def _name(self, name: Any) -> str:
        found = self.names.get(name)
        return f"{label(found)} ({name})" if found else str(name or "?")

    def _department(self, code: str) -> str:
        found = self.departments.get(code)
        return f"{label(found[1])} ({code})" if found else _("%(code)s (not in the organisation)", code=code)

    def _role(self, code: str) -> str:
        found = self.roles.get(code)
        return f"{label(found)} ({code})" if found else _("%(code)s (not in the organisation)", code=code)

    def _employee(self, code: str) -> str:
        found = self.employees.get(code)
        return f"{found} ({code})" if found else _("%(code)s (not in the organisation)", code=code)

    def _period(self, period: Any) -> str:
        text = str(period or "?")
        if len(text) == 4:
            return _("the year %(year)s", year=text)
        if "-Q" in text:
            return _("quarter %(period)s", period=text)
        if "-H" in text:
            return _("half-year %(period)s", period=text)
        return text

    def split_members(self, entry: Document) -> list[str]:
        """Codes of the active members a department total is split among (its sub-departments'
        too; only those in the entry's role when it names one)."""
        found = self.departments.get(entry.get("department") or "")
        if found is None:
            return []
        subtree, todo = set(), [found[0]]
        while todo:
            current = todo.pop()
            if current not in subtree:
                subtree.add(current)
                todo.extend(self.children.get(current, []))
        role = entry.get("role")
        return sorted(
            code for department, own, code in self.members if department in subtree and (not role or own == role)
        )

    def describe(self, entry: Document) -> str:
        what = _("%(name)s, %(period)s", name=self._name(entry.get("name")), period=self._period(entry.get("period")))
        value = _amount(entry.get("value"))
        split = entry.get("split")
        if entry.get("employee") and not split:
            holder = _("%(value)s for %(employee)s", value=value, employee=self._employee(entry["employee"]))
        elif entry.get("department") and split:
            how = {
                "equal": _("equally"),
                "weights": _("by the employee attribute %(attribute)s", attribute=entry.get("weight_attribute") or "?"),
                "last_share": _("by each member's share of the previous period"),
            }.get(split, str(split))
            members = len(self.split_members(entry))
            if entry.get("role"):
                holder = _(
                    "%(value)s in total for %(department)s, split %(how)s among its %(count)d active members in the role %(role)s",
                    value=value,
                    department=self._department(entry["department"]),
                    how=how,
                    count=members,
                    role=self._role(entry["role"]),
                )
            else:
                holder = _(
                    "%(value)s in total for %(department)s, split %(how)s among its %(count)d active members",
                    value=value,
                    department=self._department(entry["department"]),
                    how=how,
                    count=members,
                )
        elif entry.get("department"):
            holder = _(
                "%(value)s for each member of %(department)s, unless a nearer department or their own target says otherwise",
                value=value,
                department=self._department(entry["department"]),
            )
        elif entry.get("role"):
            holder = _(
                "%(value)s for each %(role)s, unless their department or their own target says otherwise",
                value=value,
                role=self._role(entry["role"]),
            )
        else:
            holder = _("%(value)s, held by nobody yet: choose an employee, a department or a role", value=value)
        text = _("%(what)s: %(holder)s.", what=what, holder=holder)
        period = str(entry.get("period") or "")
        if len(period) == 4 or "-Q" in period or "-H" in period:
            text += " " + (
                _("A month gets the share given for it.")
                if entry.get("month_shares")
                else _("A shorter period gets a part in proportion to its months.")
            )
        return text

    def split_total(self, entry: Document) -> str:
        """For a department total split equally: what each member gets (nobody's own target
        taken out first); for other splits, the total and how many share it; '' otherwise."""
        if not (entry.get("department") and entry.get("split")):
            return ""
        value = entry.get("value")
        members = self.split_members(entry)
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            return ""
        if not members:
            return _("Total %(total)s: no active member to split it among.", total=_amount(value))
        if entry["split"] != "equal":
            return _("Total %(total)s among %(count)d members.", total=_amount(value), count=len(members))
        decimals = entry.get("decimals")
        shares = split_exactly(
            value, [1.0] * len(members), members, decimals if isinstance(decimals, int) else DEFAULT_DECIMALS
        )
        low, high = min(shares), max(shares)
        each = _amount(low) if low == high else f"{_amount(low)}–{_amount(high)}"
        return _(
            "Total %(total)s among %(count)d members: %(each)s each, before members' own targets are taken out.",
            total=_amount(value),
            count=len(members),
            each=each,
        )
