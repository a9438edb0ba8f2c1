"""Calibration (校准, 强制分布): a group's grades against its template's target distribution, and
grades adjusted by HR with a reason.

A group is the scorecards of one period and template, in a department and every department
below it (or the whole company). The targets come from the template's `calibration:` (percent
per grade, adding up to 100) in the latest published version that has the template; the target
counts are rounded by the largest remainder, so they add up to the group's size. An adjustment
belongs to the employee and period (one each: adjusting again replaces it), is refused for a
locked scorecard and for the adjuster's own (nobody acts on their own scorecard, whatever their
roles), and is audited with the grade and reason before and after. Which roles may adjust (HR and
administrators) is the web layer's check.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..audit import record_change
from ..config.models import ConfigVersion
from ..engine.export import Calibration
from ..engine.models import Scorecard
from ..org.access import department_subtree
from ..org.models import Department, Employee, User
from .calibration_models import GradeAdjustment


class CalibrationError(Exception):
    """The adjustment is refused: nothing changed. `kind` is `missing` (no such scorecard),
    `invalid` (a bad grade or no reason), `locked`, or `own` (the adjuster's own scorecard)."""

    def __init__(self, message: str, kind: str = "invalid"):
        super().__init__(message)
        self.kind = kind


def template_definition(session: Session, template: str, fallback_version: int | None = None) -> dict:
    """The template as the latest published version that has it defines it ({} when none does)."""
    for snapshot in session.scalars(sa.select(ConfigVersion.snapshot).order_by(ConfigVersion.number.desc())):
        found = (snapshot or {}).get("templates", {}).get(template)
        if found:
            return found
    if fallback_version is not None:
        snapshot = session.scalar(sa.select(ConfigVersion.snapshot).where(ConfigVersion.number == fallback_version))
        return (snapshot or {}).get("templates", {}).get(template, {})
    return {}


def target_counts(percentages: dict[str, float], grades: list[str], size: int) -> dict[str, int]:
    """Each grade's share of `size` people, rounded by the largest remainder so that the counts
    add up to `size` (ties go to the higher grade)."""
    total = sum(percentages.get(grade, 0) for grade in grades)
    if size == 0 or total <= 0:
        return dict.fromkeys(grades, 0)
    quotas = {grade: percentages.get(grade, 0) * size / total for grade in grades}
    counts = {grade: math.floor(quota) for grade, quota in quotas.items()}
    left = size - sum(counts.values())
    by_remainder = sorted(grades, key=lambda grade: (-(quotas[grade] - counts[grade]), grades.index(grade)))
    for grade in by_remainder[:left]:
        counts[grade] += 1
    return counts


def _department_ids(session: Session, department_code: str | None) -> set[int] | None:
    if not department_code:
        return None
    department_id = session.scalar(sa.select(Department.id).where(Department.code == department_code))
    if department_id is None:
        raise CalibrationError(f"there is no department {department_code}", "missing")
    return department_subtree(session, department_id)


def adjustments(session: Session, period: str, employee_ids=None) -> dict[int, GradeAdjustment]:
    """The period's adjustments by employee id."""
    query = sa.select(GradeAdjustment).where(GradeAdjustment.period == period)
    if employee_ids is not None:
        query = query.where(GradeAdjustment.employee_id.in_(sorted(employee_ids)))
    return {adjustment.employee_id: adjustment for adjustment in session.scalars(query)}


def calibrated_grades(
    session: Session, period: str | None = None, employee_ids: Iterable[int] | None = None
) -> dict[tuple[str, int], Calibration]:
    """Calibrated grades by (period, employee id), for the scorecard exports: of one period, of
    some employees, or all."""
    query = sa.select(GradeAdjustment)
    if period is not None:
        query = query.where(GradeAdjustment.period == period)
    if employee_ids is not None:
        query = query.where(GradeAdjustment.employee_id.in_(sorted(set(employee_ids))))
    return {
        (a.period, a.employee_id): Calibration(
            grade=a.adjusted_grade,
            reason=a.reason,
            by=a.adjusted_by,
            at=a.adjusted_at.isoformat() if a.adjusted_at else None,
        )
        for a in session.scalars(query)
    }


def adjustment_object(adjustment: GradeAdjustment | None) -> dict | None:
    if adjustment is None:
        return None
    return {
        "grade": adjustment.adjusted_grade,
        "computed_grade": adjustment.computed_grade,
        "reason": adjustment.reason,
        "by": adjustment.adjusted_by,
        "at": adjustment.adjusted_at.isoformat() if adjustment.adjusted_at else None,
    }


def distribution(session: Session, period: str, department_code: str | None, template: str) -> dict:
    """Per grade of the template: the target percent and count, and the actual count as computed
    and after the adjustments; with the group's scorecards, highest total first."""
    ids = _department_ids(session, department_code)
    query = (
        sa.select(Scorecard, Employee.code, Employee.name, Department.code)
        .join(Employee, Employee.id == Scorecard.employee_id)
        .join(Department, Department.id == Scorecard.department_id)
        .where(Scorecard.period == period, Scorecard.template == template)
    )
    if ids is not None:
        query = query.where(Scorecard.department_id.in_(sorted(ids)))
    rows = session.execute(query.order_by(Scorecard.total.is_(None), Scorecard.total.desc(), Employee.code)).all()
    definition = template_definition(session, template, max((r[0].version_number or 0 for r in rows), default=None))
    bands = sorted(definition.get("grades", []), key=lambda band: -band.get("min", 0))
    grades = [band["grade"] for band in bands]
    labels = {band["grade"]: band.get("label") for band in bands}
    percentages = definition.get("calibration") or {}
    found = adjustments(session, period, [row[0].employee_id for row in rows])
    #: the scorecards as the distribution's JSON shows them
    cards: list[dict[str, Any]] = []
    for card, code, name, department in rows:
        adjustment = found.get(card.employee_id)
        cards.append(
            {
                "employee": code,
                "name": name,
                "department": department,
                "total": card.total,
                "computed_grade": card.grade,
                "grade": adjustment.adjusted_grade if adjustment else card.grade,
                "adjustment": adjustment_object(adjustment),
                "locked": bool(card.locked),
            }
        )
    # grades no longer in the template (an older version's) are counted after the others
    extra = sorted({c[key] for c in cards for key in ("computed_grade", "grade") if c[key]} - set(grades))
    targets = target_counts(percentages, grades, len(cards))
    computed = {grade: sum(1 for c in cards if c["computed_grade"] == grade) for grade in grades + extra}
    adjusted = {grade: sum(1 for c in cards if c["grade"] == grade) for grade in grades + extra}
    return {
        "period": period,
        "department": department_code or None,
        "template": template,
        "size": len(cards),
        "configured": bool(percentages),
        "grade_names": grades,
        "grades": [
            {
                "grade": grade,
                "label": labels.get(grade),
                "target_percent": percentages.get(grade, 0) if grade in grades else None,
                "target_count": targets.get(grade, 0) if grade in grades else None,
                "computed_count": computed[grade],
                "adjusted_count": adjusted[grade],
            }
            for grade in grades + extra
        ],
        "ungraded": {
            "computed": sum(1 for c in cards if not c["computed_grade"]),
            "adjusted": sum(1 for c in cards if not c["grade"]),
        },
        "scorecards": cards,
    }


def _actor(session: Session, actor: User | str) -> tuple[str, int | None]:
    """The adjuster's login and the employee they are linked to (a login without a user account,
    a script's, is linked to nobody)."""
    if isinstance(actor, User):
        return actor.login, actor.employee_id
    return actor, session.scalar(sa.select(User.employee_id).where(User.login == actor))


def adjust_grade(
    session: Session, period: str, employee_code: str, grade: str, reason: str | None, actor: User | str
) -> GradeAdjustment | None:
    """Set the employee's grade for the period to `grade`, with a reason, as `actor` (the user, or
    their login); adjusting again replaces the earlier adjustment, and adjusting to the computed
    grade removes it (None). Audited. Nobody adjusts their own grade."""
    found = (
        session.execute(
            sa.select(Scorecard)
            .join(Employee, Employee.id == Scorecard.employee_id)
            .where(Scorecard.period == period, Employee.code == employee_code)
        )
        .scalars()
        .first()
    )
    if found is None:
        raise CalibrationError(f"{employee_code} has no scorecard for {period}", "missing")
    card = found
    actor, actor_employee_id = _actor(session, actor)
    if actor_employee_id is not None and actor_employee_id == card.employee_id:
        raise CalibrationError(f"{actor} may not calibrate their own grade: nobody acts on their own scorecard", "own")
    reason = (reason or "").strip()
    if not reason:
        raise CalibrationError("say why: a calibrated grade needs a reason")
    grade = (grade or "").strip()
    bands = template_definition(session, card.template, card.version_number).get("grades", [])
    names = [band["grade"] for band in sorted(bands, key=lambda band: -band.get("min", 0))]
    if grade not in names:
        raise CalibrationError(f"'{grade}' is not a grade of template {card.template}: use one of {', '.join(names)}")
    if card.locked:
        raise CalibrationError(f"the scorecard of {employee_code} for {period} is locked: reopen it first", "locked")
    existing = session.scalar(
        sa.select(GradeAdjustment).where(
            GradeAdjustment.period == period, GradeAdjustment.employee_id == card.employee_id
        )
    )
    before = (
        {"grade": existing.adjusted_grade, "computed_grade": existing.computed_grade, "reason": existing.reason}
        if existing
        else {"grade": card.grade, "computed_grade": card.grade}
    )
    key = f"{period}:{employee_code}"
    if grade == card.grade:
        if existing is None:
            raise CalibrationError(f"{grade} is already the grade of {employee_code} for {period}")
        session.delete(existing)
        record_change(
            session,
            actor=actor,
            action="calibration.clear",
            kind="grade_adjustments",
            key=key,
            before=before,
            after={"grade": grade, "computed_grade": card.grade, "reason": reason},
        )
        session.flush()
        return None
    now = dt.datetime.now(dt.UTC)
    if existing is None:
        existing = GradeAdjustment(period=period, employee_id=card.employee_id)
        session.add(existing)
    existing.computed_grade, existing.adjusted_grade = card.grade, grade
    existing.reason, existing.adjusted_by, existing.adjusted_at = reason, actor, now
    record_change(
        session,
        actor=actor,
        action="calibration.adjust",
        kind="grade_adjustments",
        key=key,
        before=before,
        after={"grade": grade, "computed_grade": card.grade, "reason": reason},
    )
    session.flush()
    return existing
