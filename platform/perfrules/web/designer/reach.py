"""The request's view of who may touch what (`config.permissions` decides), and the department
tree the pages choose from."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask import abort, g
from sqlalchemy.orm import Session

from ...config.permissions import Reach, reach_of
from ...config.store import working_config
from ...org.models import Department
from ..db import get_session


@dataclass(frozen=True)
class DepartmentNode:
    id: int
    code: str
    label: dict
    parent_id: int | None
    depth: int


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
