"""Forms a template gains while its reviews are under way: offered to the people who fill them.

A review keeps the approval flow of the version it started with, but its scorecard's items are
those of the version the scorecard is scored by (`steps.scored_by`), and a rerun after a publish
moves every unlocked scorecard to the new version — with the forms its items are collected
through (`forms.forms_for`). When that move adds a form to a review under way, the form is
offered as it would have been had the review opened after the change:

- filled at the review's current step (the employee's form at a self-review, the manager's at a
  manager step): those who fill it are told, and the step waits for it, as always;
- filled at a step the review has already passed: the review goes back to the earliest such step
  that still applies — that step was approved without the form it now asks for — with a history
  entry naming the form, and those who fill it are told;
- filled at a step still ahead: nothing now; it is on the scorecard when the step is reached, and
  the step's actors are told then, as always;
- a peer feedback form: whoever asks colleagues for it is told — the employee's manager, or HR
  when the employee has none.

Reviews the run opens start with their forms and are not concerned; an approved review stays
approved (a rerun that changed its numbers has already sent it back to its first step, from which
it reaches the forms' steps in turn); a locked scorecard is not rescored and gains nothing. As for
the rest of a rerun, this takes a fixed handful of statements however many reviews there are.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..audit import record_change
from ..engine.models import Scorecard
from ..formula import FunctionRegistry
from ..org.models import Employee
from .actors import Directory
from .forms import STEP_ACTOR, label_text, template_forms
from .models import Review, ReviewAction
from .notices import FormOffer, announce_forms_added
from .steps import Conditions, StepContext, enter_step, utc_now, version_config

#: the history's name for a review sent back to a step whose form its template gained
FORM_ADDED = "form_added"

#: employee id → the forms their scorecard uses
FormSets = dict[int, frozenset[str]]


class _Versions:
    """Each configuration version's snapshot, read once, and the forms of its templates."""

    def __init__(self, session: Session):
        self.session = session
        self.snapshots: dict[int, dict] = {}

    def snapshot(self, number: int) -> dict:
        if number not in self.snapshots:
            self.snapshots[number] = version_config(self.session, number)
        return self.snapshots[number]

    def forms(self, number: int, template: str) -> dict[str, list[str]]:
        return template_forms(self.snapshot(number), template)


def forms_in_use(session: Session, period: str) -> FormSets:
    """The forms the scorecard of each review under way or approved in the period uses now, by
    employee id: what a rerun is compared against (read before it writes)."""
    versions = _Versions(session)
    return {
        employee_id: frozenset(versions.forms(number, template))
        for employee_id, number, template in session.execute(
            sa.select(Scorecard.employee_id, Scorecard.version_number, Scorecard.template)
            .join(Review, sa.and_(Review.period == Scorecard.period, Review.employee_id == Scorecard.employee_id))
            .where(
                Scorecard.period == period,
                Review.state.in_(("in_review", "approved")),
                Scorecard.locked.is_(False),
                Scorecard.version_number.is_not(None),
            )
        )
        if number is not None
    }


def offer_added_forms(
    session: Session,
    period: str,
    before: FormSets,
    actor: str,
    run_id: int,
    functions: FunctionRegistry | None = None,
) -> int:
    """Offer the forms each review under way gained since `before` (`forms_in_use`, read before
    the rerun wrote) to those who fill them, sending a review back to a passed step whose form
    it gained; how many reviews were offered forms."""
    if not before:
        return 0
    versions = _Versions(session)
    gained: dict[int, tuple[sa.Row, list[str]]] = {}
    for card in session.execute(
        sa.select(
            Scorecard.employee_id,
            Scorecard.version_number,
            Scorecard.template,
            Scorecard.total,
            Scorecard.grade,
            Scorecard.rank_company,
            Scorecard.rank_department,
        ).where(
            Scorecard.period == period,
            Scorecard.employee_id.in_(sorted(before)),
            Scorecard.version_number.is_not(None),
        )
    ):
        new = [
            slug for slug in versions.forms(card.version_number, card.template) if slug not in before[card.employee_id]
        ]
        if new:
            gained[card.employee_id] = (card, new)
    if not gained:
        return 0
    reviews = session.scalars(
        sa.select(Review)
        .where(Review.period == period, Review.state == "in_review", Review.employee_id.in_(sorted(gained)))
        .order_by(Review.id)
    ).all()
    if not reviews:
        return 0
    directory = Directory.load(session)
    employees = {e.id: e for e in session.scalars(sa.select(Employee).where(Employee.id.in_(sorted(gained))))}
    conditions: dict[int, Conditions] = {}
    now, actions, offers, offered = utc_now(), [], [], []
    for review in reviews:
        card, slugs = gained[review.employee_id]
        definitions = versions.snapshot(card.version_number).get("forms", {})
        flow = versions.snapshot(review.version_number).get("approval_flows", {}).get(review.flow, {})
        steps = {step["name"]: step for step in flow.get("steps", [])}
        if review.version_number not in conditions:
            conditions[review.version_number] = Conditions(versions.snapshot(review.version_number), functions)
        employee = employees[review.employee_id]
        context = StepContext(directory, conditions[review.version_number], card, employee)
        current = steps.get(review.step or "")
        actors = {
            STEP_ACTOR[definitions[slug]["filled_by"]] for slug in slugs if definitions[slug]["filled_by"] in STEP_ACTOR
        }
        # a form filled at the current step waits there; one whose step was passed sends the
        # review back to the earliest such step that still applies
        missing = actors - ({current["actor"]} if current else set())
        back_to = next(
            (
                name
                for name in review.path[:-1]
                if name in steps
                and steps[name]["actor"] in missing
                and context.holds(steps[name])
                and not directory.names_nobody(steps[name]["actor"], employee.id)
            ),
            None,
        )
        left = None
        if back_to is not None:
            left = current
            labels = ", ".join(
                label_text(definitions[slug].get("label"), slug)
                for slug in slugs
                if STEP_ACTOR.get(definitions[slug]["filled_by"]) == steps[back_to]["actor"]
            )
            actions.append(
                {
                    "review_id": review.id,
                    "step": review.step,
                    "step_entry": review.entries,
                    "action": FORM_ADDED,
                    "user_id": None,
                    "on_behalf_of": None,
                    "comment": f"run {run_id}: the template now asks for the {labels}",
                    "at": now,
                }
            )
            review.path = review.path[: review.path.index(back_to)]
            enter_step(review, back_to, now)
            current = steps[back_to]
        to_fill = [
            (definitions[slug].get("label") or slug, STEP_ACTOR[definitions[slug]["filled_by"]])
            for slug in slugs
            if current is not None and STEP_ACTOR.get(definitions[slug]["filled_by"]) == current["actor"]
        ]
        peer = [definitions[slug].get("label") or slug for slug in slugs if definitions[slug]["filled_by"] == "peer"]
        if not (to_fill or peer or left):
            continue  # the forms' steps lie ahead: they are offered when the review gets there
        offers.append(FormOffer(review, employee, current, left, to_fill, peer))
        offered.append(
            {
                "employee": employee.code,
                "forms": slugs,
                "step": review.step,
                **({"sent_back_from": left["name"]} if left else {}),
            }
        )
    if not offers:
        return 0
    if actions:
        session.execute(sa.insert(ReviewAction), actions)
    announce_forms_added(session, directory, offers, now)
    record_change(
        session,
        actor=actor,
        action=f"review.{FORM_ADDED}",
        kind="reviews",
        key=period,
        after={"run": run_id, "offered": offered},
    )
    return len(offers)
