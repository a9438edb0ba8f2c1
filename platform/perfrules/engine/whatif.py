"""What-if (模拟): an evaluation that was not written, set against the stored results of its period,
so an administrator sees what a new weight or band would change before publishing it."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from .models import Scorecard
from .runs import Evaluation


@dataclass(frozen=True)
class Change:
    employee: str
    template: str
    total_before: float | None
    total_after: float | None
    grade_before: str | None
    grade_after: str | None
    rank_before: int | None
    rank_after: int | None

    @property
    def delta(self) -> float | None:
        if self.total_before is None or self.total_after is None:
            return None
        return self.total_after - self.total_before

    @property
    def changed(self) -> bool:
        return (
            self.grade_before != self.grade_after
            or self.rank_before != self.rank_after
            or (self.delta is None and self.total_before != self.total_after)
            or (self.delta is not None and abs(self.delta) > 1e-9)
        )


def compare(session: Session, evaluation: Evaluation) -> list[Change]:
    """Per evaluated employee, the stored result against the new one (largest moves first)."""
    stored = {
        row.employee_id: row
        for row in session.execute(
            sa.select(Scorecard.employee_id, Scorecard.total, Scorecard.grade, Scorecard.rank_company).where(
                Scorecard.period == str(evaluation.period)
            )
        )
    }
    changes = []
    for card in evaluation.cards:
        before = stored.get(card.employee_id)
        changes.append(
            Change(
                card.employee,
                card.template,
                before.total if before else None,
                card.total,
                before.grade if before else None,
                card.grade,
                before.rank_company if before else None,
                card.rank_company,
            )
        )
    changes.sort(key=lambda c: (-(abs(c.delta) if c.delta is not None else float("inf")), c.employee))
    return changes
