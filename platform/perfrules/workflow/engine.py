"""Moving a scorecard through its template's approval flow.

    computed ──start──▶ in_review (the first step whose condition holds)
    in_review ──approve──▶ the next step whose condition holds … ──▶ approved ──lock──▶ locked
    in_review ──reject (comment)──▶ the step before          ──return (comment)──▶ the first step
    approved | locked ──reopen (reason; HR or admin)──▶ in_review at the first step

A step's `mode` is `any` (one of its actors approves) or `all` (every one of them does). Step
conditions are formulas over the scorecard and the employee (`total < 60 or grade == 'S'`),
evaluated when the review reaches the step; a step whose condition does not hold, or that names
nobody for this employee (a manager step for someone without a manager), is passed over. Locking marks the scorecard locked, so reruns keep it; reopening clears
that. Every action is a `ReviewAction` row and an audit row; a refused action changes nothing
and says why.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import orjson
import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..audit import record_change
from ..db.bulk import driver_insert, driver_timestamp
from ..engine.models import Scorecard
from ..formula import FunctionRegistry
from ..org.models import Employee, User
from .actors import Directory, delegators
from .forms import unsubmitted_form
from .models import Review, ReviewAction, approver
from .notices import announce_action, announce_opened
from .steps import (
    PRIVILEGED,
    Conditions,
    StepContext,
    WorkflowError,
    enter_step,
    flow_of,
    step_context,
    utc_now,
    version_config,
)

ACTIONS = ("approve", "reject", "return", "lock", "reopen")
#: the columns a run's reviews are opened with, in one driver-level insert (`db.bulk`)
REVIEW_COLUMNS = (
    "period",
    "employee_id",
    "template",
    "flow",
    "version_number",
    "state",
    "step",
    "path",
    "entries",
    "step_started_at",
    "updated_at",
)


@dataclass(frozen=True)
class Allowed:
    action: str
    #: the user acted for, when acting as a delegate
    on_behalf_of: int | None = None


def start_reviews(session: Session, period: str, actor: str, functions: FunctionRegistry | None = None) -> int:
    """Open a review for every scorecard of `period` whose template has an approval flow and
    that has none yet, all in one insert; how many were opened."""
    existing = set(session.scalars(sa.select(Review.employee_id).where(Review.period == period)))
    # plain rows of the few columns conditions read: a company's traces are not loaded for this
    cards = [
        card
        for card in session.execute(
            sa.select(
                Scorecard.employee_id,
                Scorecard.template,
                Scorecard.version_number,
                Scorecard.total,
                Scorecard.grade,
                Scorecard.rank_company,
                Scorecard.rank_department,
            ).where(Scorecard.period == period)
        )
        if card.employee_id not in existing and card.version_number is not None
    ]
    if not cards:
        return 0
    directory = Directory.load(session)
    employees = {e.id: e for e in session.execute(sa.select(Employee.id, Employee.attributes, Employee.hire_date))}
    versions: dict[int, tuple[dict, Conditions]] = {}
    rows, now = [], utc_now()
    for card in cards:
        if card.version_number not in versions:
            snapshot = version_config(session, card.version_number)
            versions[card.version_number] = (snapshot, Conditions(snapshot, functions))
        snapshot, conditions = versions[card.version_number]
        flow = snapshot.get("templates", {}).get(card.template, {}).get("approval_flow")
        if not flow:
            continue
        steps = snapshot.get("approval_flows", {}).get(flow, {}).get("steps", [])
        step = StepContext(directory, conditions, card, employees[card.employee_id]).next_step(steps, 0)
        rows.append(
            {
                "period": period,
                "employee_id": card.employee_id,
                "template": card.template,
                "flow": flow,
                "version_number": card.version_number,
                "state": "in_review" if step else "approved",
                "step": step,
                "path": [step] if step else [],
                "entries": 1 if step else 0,
                "step_started_at": now if step else None,
                "updated_at": now,
            }
        )
    if rows:
        connection = session.connection()
        stamp = driver_timestamp(connection, now)
        driver_insert(
            connection,
            Review.__tablename__,
            REVIEW_COLUMNS,
            (
                (
                    *(row[c] for c in REVIEW_COLUMNS[:5]),
                    row["state"],
                    row["step"],
                    orjson.dumps(row["path"]).decode(),
                    row["entries"],
                    stamp if row["step"] else None,
                    stamp,
                )
                for row in rows
            ),
        )
        announce_opened(session, directory, rows, {number: snapshot for number, (snapshot, _) in versions.items()}, now)
        record_change(
            session, actor=actor, action="review.start", kind="reviews", key=period, after={"opened": len(rows)}
        )
    return len(rows)


def _approvals(session: Session, review: Review) -> set[int]:
    """The users whose approval of the current pass through the current step is on record."""
    rows = session.execute(
        sa.select(ReviewAction.user_id, ReviewAction.on_behalf_of).where(
            ReviewAction.review_id == review.id,
            ReviewAction.action == "approve",
            ReviewAction.step == review.step,
            ReviewAction.step_entry == review.entries,
        )
    )
    return {approver(user_id, on_behalf_of) for user_id, on_behalf_of in rows}


def allowed_actions(session: Session, review: Review, user: User, today: dt.date | None = None) -> list[Allowed]:
    """What `user` may do to this review now."""
    today = today or dt.date.today()
    employee = session.get(Employee, review.employee_id)
    # reviews.employee_id is a foreign key, and an employee with a scorecard cannot be deleted
    assert employee is not None, f"review {review.id}: its employee is in the database"
    own = user.employee_id == review.employee_id
    result: list[Allowed] = []
    if review.state == "in_review":
        step = next((s for s in flow_of(session, review) if s["name"] == review.step), None)
        if step is not None:
            eligible = Directory.load(session).principals(step["actor"], employee.id) - _approvals(session, review)
            if user.id in eligible:
                on_behalf = None
            else:  # a delegate, never on their own scorecard, nor for someone's self-review
                stood_in = (
                    eligible & delegators(session, user.id, today) if not own and step["actor"] != "employee" else set()
                )
                on_behalf = min(stood_in) if stood_in else None
            if user.id in eligible or on_behalf is not None:
                result.append(Allowed("approve", on_behalf))
                if len(review.path) > 1:
                    result.append(Allowed("reject", on_behalf))
                if step["actor"] != "employee":
                    result.append(Allowed("return", on_behalf))
    if user.has_role(*PRIVILEGED) and not own:
        if review.state == "approved":
            result.append(Allowed("lock"))
        if review.state in ("approved", "locked"):
            result.append(Allowed("reopen"))
    return result


def act(
    session: Session,
    review: Review,
    user: User,
    action: str,
    comment: str | None = None,
    functions: FunctionRegistry | None = None,
    today: dt.date | None = None,
) -> Review:
    """Do `action` as `user`; WorkflowError when it is not theirs to do now."""
    if action not in ACTIONS:
        raise WorkflowError(f"unknown action '{action}'; use one of {', '.join(ACTIONS)}")
    granted = next((a for a in allowed_actions(session, review, user, today) if a.action == action), None)
    if granted is None:
        raise WorkflowError(
            f"{user.login} may not {action} this scorecard now (it is {review.state}"
            + (f" at step {review.step}" if review.step else "")
            + ")"
        )
    if action == "approve":
        missing = unsubmitted_form(session, review)
        if missing is not None:
            raise WorkflowError(missing)
    comment = (comment or "").strip() or None
    if action in ("reject", "return", "reopen") and comment is None:
        raise WorkflowError(f"say why: {action} needs a comment")
    before = {"state": review.state, "step": review.step}
    now = utc_now()
    session.add(
        ReviewAction(
            review_id=review.id,
            step=review.step,
            step_entry=review.entries,
            action=action,
            user_id=user.id,
            on_behalf_of=granted.on_behalf_of,
            comment=comment,
            at=now,
        )
    )
    session.flush()
    steps = flow_of(session, review)
    context = step_context(session, review, functions)
    card = context.card
    if action == "approve":
        step = next(s for s in steps if s["name"] == review.step)
        remaining = context.directory.principals(step["actor"], context.employee.id) - _approvals(session, review)
        if step.get("mode", "any") == "any" or not remaining:
            index = [s["name"] for s in steps].index(review.step)
            enter_step(review, context.next_step(steps, index + 1), now)
    elif action == "reject":
        review.path = review.path[:-1]
        previous = review.path.pop()
        enter_step(review, previous, now)
    elif action in ("return", "reopen"):
        review.path = []
        enter_step(review, context.next_step(steps, 0), now)
        if action == "reopen" and card is not None:
            card.locked = False
    elif action == "lock":
        review.state, review.updated_at = "locked", now
        if card is not None:
            card.locked = True
    announce_action(
        session,
        review,
        action,
        by=user,
        comment=comment,
        from_step=before["step"],
        steps=steps,
        directory=context.directory,
        employee=context.employee,
        now=now,
    )
    record_change(
        session,
        actor=user.login,
        action=f"review.{action}",
        kind="reviews",
        key=f"{review.period}:{review.employee_id}",
        before=before,
        after={"state": review.state, "step": review.step, "comment": comment, "on_behalf_of": granted.on_behalf_of},
    )
    return review


def reopen_review(
    session: Session,
    review: Review,
    user: User,
    comment: str,
    on_behalf_of: int | None = None,
    functions: FunctionRegistry | None = None,
) -> Review:
    """Reopen an approved or locked review at its first step and unlock its scorecard, recorded
    and audited as a reopen, for a caller that has made its own checks (an accepted dispute,
    whose resolver may be the employee's manager rather than HR)."""
    before = {"state": review.state, "step": review.step}
    now = utc_now()
    session.add(
        ReviewAction(
            review_id=review.id,
            step=review.step,
            step_entry=review.entries,
            action="reopen",
            user_id=user.id,
            on_behalf_of=on_behalf_of,
            comment=comment,
            at=now,
        )
    )
    context, steps = step_context(session, review, functions), flow_of(session, review)
    review.path = []
    enter_step(review, context.next_step(steps, 0), now)
    if context.card is not None:
        context.card.locked = False
    announce_action(
        session,
        review,
        "reopen",
        by=user,
        comment=comment,
        from_step=before["step"],
        steps=steps,
        directory=context.directory,
        employee=context.employee,
        now=now,
    )
    record_change(
        session,
        actor=user.login,
        action="review.reopen",
        kind="reviews",
        key=f"{review.period}:{review.employee_id}",
        before=before,
        after={"state": review.state, "step": review.step, "comment": comment, "on_behalf_of": on_behalf_of},
    )
    return review


def pending_for(session: Session, user: User, today: dt.date | None = None, limit: int = 200) -> list[Review]:
    """The reviews waiting for `user` to act at their current step (as themselves or as a
    delegate), oldest first — in a handful of queries, whatever the number of reviews."""
    today = today or dt.date.today()
    reviews = session.scalars(
        sa.select(Review).where(Review.state == "in_review").order_by(Review.step_started_at, Review.id)
    ).all()
    if not reviews:
        return []
    directory = Directory.load(session)
    for_whom = {user.id} | delegators(session, user.id, today)
    #: (review, step entry) → who has approved that entry
    approved: dict[tuple[int, int], set[int]] = {}
    for review_id, step_entry, user_id, on_behalf_of in session.execute(
        sa.select(
            ReviewAction.review_id, ReviewAction.step_entry, ReviewAction.user_id, ReviewAction.on_behalf_of
        ).where(ReviewAction.action == "approve", ReviewAction.review_id.in_([r.id for r in reviews]))
    ):
        approved.setdefault((review_id, step_entry), set()).add(approver(user_id, on_behalf_of))
    steps: dict[tuple[int, str], dict[str, dict]] = {}
    waiting = []
    for review in reviews:
        key = (review.version_number, review.flow)
        if key not in steps:
            steps[key] = {
                s["name"]: s
                for s in version_config(session, review.version_number)
                .get("approval_flows", {})
                .get(review.flow, {})
                .get("steps", [])
            }
        assert review.step is not None, "a review in_review is at a step (steps.enter_step)"
        step = steps[key].get(review.step)
        if step is None:
            continue
        eligible = directory.principals(step["actor"], review.employee_id) - approved.get(
            (review.id, review.entries), set()
        )
        mine = eligible & (
            {user.id} if review.employee_id == user.employee_id or step["actor"] == "employee" else for_whom
        )
        if mine:
            waiting.append(review)
            if len(waiting) >= limit:
                break
    return waiting
