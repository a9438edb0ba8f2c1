"""Who may touch which template: the departments a user's designer work may concern (everything
for admin and HR; a manager's own department subtree, and the departments above it for what they
may see), and the department tree the pages choose from."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask import abort, g
from sqlalchemy.orm import Session

from ...config.store import working_config
from ...org.access import department_subtree
from ...org.models import Department, Employee, User
from ..db import get_session
from .blueprint import CONFIG_ROLES


@dataclass(frozen=True)
class DepartmentNode:
    id: int
    code: str
    label: dict
    parent_id: int | None
    depth: int


@dataclass(frozen=True)
class Reach:
    """The departments a user's designer work may concern."""

    everything: bool
    #: codes of the manager's department and every one below it
    codes: frozenset[str]
    #: codes of the departments above the manager's (their templates apply to the manager's people)
    above: frozenset[str]

    def may_edit(self, template: dict) -> bool:
        departments = template.get("applies_to", {}).get("departments", [])
        return self.everything or (bool(departments) and set(departments) <= self.codes)

    def may_see(self, template: dict) -> bool:
        departments = template.get("applies_to", {}).get("departments", [])
        return self.everything or not departments or any(d in self.codes or d in self.above for d in departments)

    @property
    def may_clone(self) -> bool:
        return self.everything or bool(self.codes)


def department_tree(session: Session) -> list[DepartmentNode]:
    """Every department, parents before children, with its depth."""
    rows = session.execute(
        sa.select(Department.id, Department.code, Department.label, Department.parent_id).order_by(Department.code)
    ).all()
    children: dict[int | None, list] = {}
    for row in rows:
        children.setdefault(row.parent_id, []).append(row)
    known = {row.id for row in rows}
    roots = [row for row in rows if row.parent_id is None or row.parent_id not in known]
    ordered: list[DepartmentNode] = []
    stack = [(row, 0) for row in reversed(roots)]
    while stack:
        row, depth = stack.pop()
        ordered.append(DepartmentNode(row.id, row.code, row.label or {}, row.parent_id, depth))
        stack.extend((child, depth + 1) for child in reversed(children.get(row.id, [])))
    return ordered


def reach_of(session: Session, user: User) -> Reach:
    if user.has_role(*CONFIG_ROLES):
        return Reach(True, frozenset(), frozenset())
    own = None
    if user.employee_id is not None:
        own = session.scalar(sa.select(Employee.department_id).where(Employee.id == user.employee_id))
    if own is None:
        return Reach(False, frozenset(), frozenset())
    parents = dict(session.execute(sa.select(Department.id, Department.parent_id)).all())
    codes = dict(session.execute(sa.select(Department.id, Department.code)).all())
    subtree = department_subtree(session, own)
    above: set[str] = set()
    seen: set[int] = set()
    current = parents.get(own)
    while current is not None and current not in seen:
        seen.add(current)
        above.add(codes[current])
        current = parents.get(current)
    return Reach(False, frozenset(codes[d] for d in subtree), frozenset(above))


def designer_context() -> tuple[Session, dict, Reach]:
    """The request's session, the draft configuration and what the signed-in user may reach."""
    session = get_session()
    return session, working_config(session), reach_of(session, g.user)


def template_or_abort(config: dict, reach: Reach, slug: str, *, edit: bool) -> dict:
    template = config.get("templates", {}).get(slug)
    if template is None:
        abort(404)
    if not (reach.may_edit(template) if edit else reach.may_see(template)):
        abort(403)
    return template
