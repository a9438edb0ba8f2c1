"""What a rerun does to approvals: an approval is of the numbers that were approved.

A rerun rewrites every unlocked scorecard. Reviews under way go on with the new numbers (the next
actor sees them). An approved scorecard whose total or grade the rerun changed is no longer what
was approved, so its review goes back to the flow's first step whose condition holds, with a
history entry saying which run changed what, and the employee and that step's actors are told;
one whose numbers stayed the same keeps its approval, and so does one for which no step of its
flow applies any more. Locked scorecards are not rewritten at all. However many reviews go back,
this is a fixed handful of statements: the organisation and each configuration version are read
once, and the actions, notices and audit are written in bulk.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..audit import record_change
from ..engine.events import AfterReplace, ScorecardsReplaced
from ..engine.models import Scorecard
from ..formula import FunctionRegistry
from ..org.models import Employee
from .actors import Directory
from .engine import start_reviews
from .form_offers import forms_in_use, offer_added_forms
from .models import Review, ReviewAction
from .notices import announce_recomputed
from .steps import Conditions, StepContext, enter_step, utc_now, version_config

#: the history's name for a review sent back by a run that changed an approved scorecard
RECOMPUTED = "recompute"

Numbers = tuple[float | None, str | None]


def approved_numbers(session: Session, period: str) -> dict[int, Numbers]:
    """The total and grade of each approved, unlocked scorecard of the period, by employee id."""
    return {
        employee_id: (total, grade)
        for employee_id, total, grade in session.execute(
            sa.select(Scorecard.employee_id, Scorecard.total, Scorecard.grade)
            .join(Review, sa.and_(Review.period == Scorecard.period, Review.employee_id == Scorecard.employee_id))
            .where(Scorecard.period == period, Review.state == "approved", Scorecard.locked.is_(False))
        )
    }


def _same(before: Numbers, after: Numbers) -> bool:
    (old_total, old_grade), (new_total, new_grade) = before, after
    if old_total is None or new_total is None:
        return old_total is new_total and old_grade == new_grade
    return abs(old_total - new_total) < 1e-9 and old_grade == new_grade


def _shown(total: float | None) -> str:
    return "—" if total is None else f"{total:.1f}"


def withdraw_changed_approvals(
    session: Session,
    period: str,
    before: dict[int, Numbers],
    actor: str,
    run_id: int,
    functions: FunctionRegistry | None = None,
) -> int:
    """Send back the approved reviews whose scorecard's total or grade differs from `before`
    (`approved_numbers`, read before the rerun wrote); how many went back."""
    if not before:
        return 0
    cards = {
        card.employee_id: card
        for card in session.scalars(
            sa.select(Scorecard).where(Scorecard.period == period, Scorecard.employee_id.in_(sorted(before)))
        )
    }
    changed = {
        employee_id for employee_id, card in cards.items() if not _same(before[employee_id], (card.total, card.grade))
    }
    if not changed:
        return 0
    reviews = session.scalars(
        sa.select(Review).where(
            Review.period == period, Review.state == "approved", Review.employee_id.in_(sorted(changed))
        )
    ).all()
    directory = Directory.load(session)
    employees = {e.id: e for e in session.scalars(sa.select(Employee).where(Employee.id.in_(sorted(changed))))}
    versions: dict[int, tuple[dict, Conditions]] = {}
    now, actions, sent_back, announced = utc_now(), [], [], []
    for review in reviews:
        if review.version_number not in versions:
            snapshot = version_config(session, review.version_number)
            versions[review.version_number] = (snapshot, Conditions(snapshot, functions))
        snapshot, conditions = versions[review.version_number]
        steps = snapshot.get("approval_flows", {}).get(review.flow, {}).get("steps", [])
        card, employee = cards[review.employee_id], employees[review.employee_id]
        first = StepContext(directory, conditions, card, employee).next_step(steps, 0)
        if first is None:  # no step applies to the new numbers: approved as they are
            continue
        (old_total, old_grade) = before[review.employee_id]
        comment = (
            f"run {run_id} changed the total from {_shown(old_total)} to {_shown(card.total)}"
            f" and the grade from {old_grade or '—'} to {card.grade or '—'}"
        )
        actions.append(
            {
                "review_id": review.id,
                "step": None,
                "step_entry": review.entries,
                "action": RECOMPUTED,
                "user_id": None,
                "on_behalf_of": None,
                "comment": comment,
                "at": now,
            }
        )
        review.path = []
        enter_step(review, first, now)
        step = next(s for s in steps if s["name"] == first)
        announced.append((review, step, employee, comment))
        sent_back.append({"employee": employee.code, "step": first, "comment": comment})
    if not sent_back:
        return 0
    session.execute(sa.insert(ReviewAction), actions)
    announce_recomputed(session, directory, announced, now)
    record_change(
        session,
        actor=actor,
        action=f"review.{RECOMPUTED}",
        kind="reviews",
        key=period,
        after={"run": run_id, "sent_back": sent_back},
    )
    return len(sent_back)


def follow_run(session: Session, period: str) -> AfterReplace:
    """Subscribed to the engine's runs (`engine.events`): before a run replaces the period's
    scorecards, note the approved numbers and the forms each review's scorecard uses; after,
    open reviews for the new scorecards, send back the approvals whose numbers changed, and offer
    the forms a new version added to reviews under way (`form_offers`)."""
    approved = approved_numbers(session, period)
    forms = forms_in_use(session, period)

    def after(event: ScorecardsReplaced) -> dict[str, int]:
        return {
            "reviews_opened": start_reviews(event.session, event.period, event.actor, event.functions),
            "approvals_withdrawn": withdraw_changed_approvals(
                event.session, event.period, approved, event.actor, event.run_id, event.functions
            ),
            "forms_offered": offer_added_forms(
                event.session, event.period, forms, event.actor, event.run_id, event.functions
            ),
        }

    return after
