"""Who a run left out, as its page shows them: each employee by name, with their department and
role in words (as the run saw them), and the templates that apply to them equally, labelled as
the run's version named them."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ...config.models import ConfigVersion
from ...engine.models import EvaluationRun
from ...org.models import Department, Role
from ..i18n import label


@dataclass(frozen=True)
class LeftOutRow:
    code: str
    name: str
    employee_id: int
    department: str
    #: the role in words; None for someone without a role
    role: str | None
    #: no_template or ambiguous
    reason: str
    #: (slug, label) of each template that applies equally
    templates: list[tuple[str, str]]


def left_out_rows(session: Session, run: EvaluationRun) -> list[LeftOutRow]:
    entries = run.left_out or []
    if not entries:
        return []
    departments: dict[str, dict] = dict(session.execute(sa.select(Department.code, Department.label)).all())
    roles: dict[str, dict] = dict(session.execute(sa.select(Role.code, Role.label)).all())
    snapshot = (
        session.scalar(sa.select(ConfigVersion.snapshot).where(ConfigVersion.number == run.version_number))
        if run.version_number is not None
        else None
    )
    templates = (snapshot or {}).get("templates", {})
    return [
        LeftOutRow(
            code=entry["employee"],
            name=entry["name"],
            employee_id=entry["employee_id"],
            department=label(departments.get(entry["department"])) or entry["department"],
            role=(label(roles.get(entry["role"])) or entry["role"]) if entry["role"] else None,
            reason=entry["reason"],
            templates=[
                (slug, label(templates.get(slug, {}).get("label")) or slug) for slug in entry.get("templates", [])
            ],
        )
        for entry in entries
    ]
