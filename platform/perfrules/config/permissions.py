"""Who may read and change which configuration documents — decided here, once, for the designer's
pages and the draft-configuration API alike.

- admin and HR: every document of every kind; publish the draft or any template;
- a manager (a user linked to an employee): templates only. They see the templates that apply to
  their people (company-wide ones, and those scoped to their department subtree or above it),
  change only templates whose departments all lie within their subtree (a new one included), and
  submit them for HR's approval;
- anyone else: nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..org.access import department_subtree
from ..org.models import Department, Employee, User

#: who may open the designer (a manager only for templates of their own part of the organisation)
DESIGNER_ROLES = ("admin", "hr", "manager")
#: who may change any document and publish
CONFIG_ROLES = ("admin", "hr")


@dataclass(frozen=True)
class Reach:
    """The departments a user's configuration work may concern."""

    everything: bool
    #: codes of the manager's department and every one below it
    codes: frozenset[str]
    #: codes of the departments above the manager's (their templates apply to the manager's people)
    above: frozenset[str]

    def may_edit(self, template: dict) -> bool:
        departments = _departments(template)
        return self.everything or (bool(departments) and set(departments) <= self.codes)

    def may_see(self, template: dict) -> bool:
        departments = _departments(template)
        return self.everything or not departments or any(d in self.codes or d in self.above for d in departments)

    @property
    def may_clone(self) -> bool:
        return self.everything or bool(self.codes)

    def may_read(self, section: str, document: dict) -> bool:
        """Whether a document of configuration section `section` may be read."""
        return self.everything or (section == "templates" and self.may_see(document))

    def may_write(self, section: str, document: dict) -> bool:
        """Whether a document may be saved as `document` (or removed, as it stands)."""
        return self.everything or (section == "templates" and self.may_edit(document))

    def may_open(self, section: str) -> bool:
        """Whether the user may work with documents of the section at all."""
        return self.everything or (section == "templates" and self.may_clone)


def _departments(template: dict) -> list[str]:
    """The departments a template applies to; none for a document not yet in shape (a posted
    one is judged before the schema reads it, and may hold anything)."""
    applies = template.get("applies_to")
    departments = applies.get("departments") if isinstance(applies, dict) else None
    return [code for code in departments if isinstance(code, str)] if isinstance(departments, list) else []


NOBODY = Reach(False, frozenset(), frozenset())


def reach_of(session: Session, user: User) -> Reach:
    if user.has_role(*CONFIG_ROLES):
        return Reach(True, frozenset(), frozenset())
    if not user.has_role("manager"):
        return NOBODY
    own = None
    if user.employee_id is not None:
        own = session.scalar(sa.select(Employee.department_id).where(Employee.id == user.employee_id))
    if own is None:
        return NOBODY
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
