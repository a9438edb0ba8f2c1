"""Which appraisal template (考核模板) applies to whom.

A template applies to an employee when the employee's department is one of its departments or
below one, and their role is one of its roles (an empty list matches everyone). The most specific
match wins: first the one with more conditions (departments and roles beats either alone), then
the one whose matching department is deeper in the tree. Two matches equally specific are an
error that names both, so nobody is silently scored on the wrong template.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeAlias

from ..config.validation import Config
from .people import People
from .shapes import Document

#: (conditions a template sets: 0–2, depth of its matching department: -1 without departments)
Specificity: TypeAlias = tuple[int, int]


def _specificity(template: Document, path: list[int], role: str | None, people: People) -> Specificity | None:
    applies = template.get("applies_to", {})
    departments, roles = applies.get("departments", []), applies.get("roles", [])
    if roles and role not in roles:
        return None
    depth = -1
    if departments:
        codes = [people.department_code(d) for d in path]  # nearest first
        matched = [i for i, code in enumerate(codes) if code in departments]
        if not matched:
            return None
        depth = len(codes) - 1 - matched[0]  # the root is depth 0
    return (bool(departments) + bool(roles), depth)


def assign_templates(config: Config, people: People) -> tuple[list[str | None], dict[int, str]]:
    """Each employee's template slug (None when none applies) and, by position, ambiguity errors."""
    templates = config.get("templates", {})
    assigned: list[str | None] = [None] * len(people)
    errors: dict[int, str] = {}
    # everyone in one department with one role gets the same answer: work it out once per pair
    decided: dict[tuple[int, str | None], tuple[str | None, str | None]] = {}
    for position in range(len(people)):
        key = (int(people.department_ids[position]), people.role_codes[position])
        if key not in decided:
            decided[key] = _decide(templates, people.department_path(key[0]), key[1], people)
        assigned[position], error = decided[key]
        if error is not None:
            errors[position] = error
    return assigned, errors


def _decide(
    templates: Mapping[str, Document], path: list[int], role: str | None, people: People
) -> tuple[str | None, str | None]:
    matches: list[tuple[Specificity, str]] = []
    for slug, template in templates.items():
        specificity = _specificity(template, path, role, people)
        if specificity is not None:
            matches.append((specificity, slug))
    if not matches:
        return None, None
    matches.sort(reverse=True)
    if len(matches) > 1 and matches[0][0] == matches[1][0]:
        tied = sorted(slug for specificity, slug in matches if specificity == matches[0][0])
        return None, (
            "templates "
            + " and ".join(f"'{s}'" for s in tied)
            + " apply equally to this employee: make one more specific"
        )
    return matches[0][1], None
