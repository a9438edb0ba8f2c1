"""Which appraisal template (考核模板) applies to whom.

A template applies to an employee when the employee's department is one of its departments or
below one, and their role is one of its roles (an empty list matches everyone). The most specific
match wins: first the one with more conditions (departments and roles beats either alone), then
the one whose matching department is deeper in the tree. Two matches equally specific are a tie:
the employee gets no template, and the run names them with the tied templates (`runs`), so nobody
is silently scored on the wrong one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeAlias

from ..config.validation import Config
from .people import People
from .shapes import Document, LeftOutEntry

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


def tie_message(tied: list[str]) -> str:
    """What a tie between templates means, in words."""
    return (
        "templates " + " and ".join(f"'{s}'" for s in tied) + " apply equally to this employee: make one more specific"
    )


def left_out_message(entry: LeftOutEntry) -> str:
    """Why a run left the employee out, in words (the pages say it in the reader's language)."""
    if entry["reason"] == "ambiguous":
        return tie_message(entry["templates"])
    role = f"role '{entry['role']}'" if entry["role"] else "no role"
    return f"no template applies to department '{entry['department']}' with {role}"


def assign_templates(
    config: Config, people: People, cycle: str | None = None
) -> tuple[list[str | None], dict[int, list[str]]]:
    """Each employee's template slug (None when none applies, or on a tie) and, by position, the
    templates that tie for the employee, in slug order. Equally specific templates evaluated in
    different cycles (a monthly and a quarterly one for the same role) do not tie in a period of
    `cycle`: the one evaluated in it applies."""
    templates = config.get("templates", {})
    assigned: list[str | None] = [None] * len(people)
    ties: dict[int, list[str]] = {}
    # everyone in one department with one role gets the same answer: work it out once per pair
    decided: dict[tuple[int, str | None], tuple[str | None, list[str]]] = {}
    for position in range(len(people)):
        key = (int(people.department_ids[position]), people.role_codes[position])
        if key not in decided:
            decided[key] = _decide(templates, people.department_path(key[0]), key[1], people, cycle)
        assigned[position], tied = decided[key]
        if tied:
            ties[position] = tied
    return assigned, ties


def _decide(
    templates: Mapping[str, Document], path: list[int], role: str | None, people: People, cycle: str | None
) -> tuple[str | None, list[str]]:
    matches: list[tuple[Specificity, str]] = []
    for slug, template in templates.items():
        specificity = _specificity(template, path, role, people)
        if specificity is not None:
            matches.append((specificity, slug))
    if not matches:
        return None, []
    matches.sort(reverse=True)
    if len(matches) > 1 and matches[0][0] == matches[1][0]:
        tied = sorted(slug for specificity, slug in matches if specificity == matches[0][0])
        if cycle is not None:
            due = [slug for slug in tied if not templates[slug].get("cycles") or cycle in templates[slug]["cycles"]]
            if len(due) == 1:
                return due[0], []
            if not due:  # none is evaluated in this cycle: nobody is left out for a tie that does not matter
                return tied[0], []
            tied = due
        return None, tied
    return matches[0][1], []


def left_out_of_scope(
    people: People,
    assigned: list[str | None],
    ties: dict[int, list[str]],
    in_scope: list[bool],
    templates: list[str] | None,
) -> list[LeftOutEntry]:
    """Who in a run's scope gets no template, and why. A run of some templates only leaves
    nobody out for having none; it names a tie that involves one of its templates."""
    found: list[LeftOutEntry] = []
    for position, slug in enumerate(assigned):
        tied = ties.get(position, [])
        if slug is not None or not in_scope[position] or (templates and not set(tied) & set(templates)):
            continue
        found.append(
            {
                "employee": people.codes[position],
                "employee_id": int(people.ids[position]),
                "name": people.names[position],
                "department": people.department_code(int(people.department_ids[position])),
                "role": people.role_codes[position],
                "reason": "ambiguous" if tied else "no_template",
                "templates": tied,
            }
        )
    return found
