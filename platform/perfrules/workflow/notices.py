"""Who is told about each move of a scorecard through its approval flow.

- a review enters a step: the step's actors, and whoever stands in for them today, are told it
  waits for them (review.waiting);
- rejected (back a step) or returned (to the first step): the actors of the step it is now at,
  and the employee (review.rejected, review.returned), with the comment;
- approved at the last step, locked: the employee (review.approved, review.locked);
- reopened: the employee (review.reopened, with the reason), and the actors of the step it is now
  at (review.waiting); sent back by a rerun that changed its approved numbers: the same, as
  review.recomputed;
- a dispute raised or withdrawn: whoever it is routed to, and their stand-ins (dispute.raised,
  dispute.withdrawn); resolved: the employee (dispute.accepted, dispute.rejected);
- peer feedback asked for: each colleague asked (feedback.requested); colleagues proposed by the
  employee: the employee's manager (feedback.proposed);
- a form the template gained while the review is under way (`form_offers`): those who fill it at
  the step the review is now at (form.added, saying the step it went back from, if it did); a
  peer feedback form: the employee's manager, or HR when there is none, who asks colleagues for
  it (feedback.form_added).

Whoever acted is not told about their own action. Each step's actors are the workflow's own
answer (`Directory.principals`), so nobody hears of a scorecard they may not act on or see.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Set
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..notify import Notice, notify_many
from ..notify.messages import moment_text
from ..org.models import Employee, User
from .actors import Directory
from .deadlines import step_deadline
from .dispute_models import Dispute
from .models import Delegation, Review

#: the notice for an action, by action; approve and reopen also announce the step entered
ACTION_KINDS = {
    "reject": "review.rejected",
    "return": "review.returned",
    "lock": "review.locked",
    "reopen": "review.reopened",
}
#: where the people a dispute is routed to resolve it (a delegate may not see the scorecard)
DISPUTES_LINK = "/scorecards/disputes"


def scorecard_link(period: str, employee_code: str) -> str:
    return f"/scorecards/{period}/{employee_code}"


@dataclass
class Audience:
    """The users to tell, from the organisation read once and today's delegations."""

    directory: Directory
    #: user id → the users standing in for them today
    stand_ins: dict[int, set[int]]

    @classmethod
    def load(cls, session: Session, directory: Directory, day: dt.date) -> Audience:
        stand_ins: dict[int, set[int]] = {}
        for user_id, delegate_id in session.execute(
            sa.select(Delegation.user_id, Delegation.delegate_id).where(
                Delegation.starts_on <= day, Delegation.ends_on >= day
            )
        ):
            stand_ins.setdefault(user_id, set()).add(delegate_id)
        return cls(directory, stand_ins)

    def employee(self, employee_id: int) -> set[int]:
        return set(self.directory.users_of.get(employee_id, set()))

    def waiting(self, actor: str, employee_id: int, approved: Set[int] = frozenset()) -> set[int]:
        """Who may act at a step with this actor now: its principals who have not approved yet,
        and their stand-ins — never a stand-in on their own scorecard."""
        principals = self.directory.principals(actor, employee_id) - approved
        if actor == "employee":  # a self-review is the employee's own: nobody stands in for it
            return principals
        stand_ins = {delegate for user in principals for delegate in self.stand_ins.get(user, ())}
        return principals | (stand_ins - self.employee(employee_id))


def step_params(step: dict | None, entered_at: dt.datetime | None) -> dict:
    """What a notice says of the step: its label, and when it is due."""
    if step is None:
        return {}
    deadline = step_deadline(step, entered_at)
    return {
        "step": step.get("label") or step["name"],
        **({"due_at": moment_text(deadline.due_at)} if deadline is not None else {}),
    }


def review_params(
    employee_code: str, employee_name: str, period: str, step: dict | None, entered_at: dt.datetime | None
) -> dict:
    """What every review notice says: whose scorecard, which period, at which step, due when."""
    return {
        "employee": employee_name,
        "employee_code": employee_code,
        "period": period,
        **step_params(step, entered_at),
    }


def announce_opened(
    session: Session, directory: Directory, reviews: Iterable[dict], snapshots: dict[int, dict], now: dt.datetime
) -> int:
    """Tell the actors of each newly opened review's first step, all in one insert. `reviews`
    are the rows inserted into reviews; `snapshots` the configuration versions they name."""
    reviews = [review for review in reviews if review["step"]]
    if not reviews:
        return 0
    audience = Audience.load(session, directory, now.date())
    people = {row.id: row for row in session.execute(sa.select(Employee.id, Employee.code, Employee.name))}
    # every review opened now at the same step says the same of it: worked out once per step
    steps: dict[tuple[int, str, str], tuple[dict, dict]] = {}
    notices = []
    for review in reviews:
        key = (review["version_number"], review["flow"], review["step"])
        if key not in steps:
            step = next(
                s
                for s in snapshots[key[0]].get("approval_flows", {}).get(key[1], {}).get("steps", [])
                if s["name"] == key[2]
            )
            steps[key] = (step, step_params(step, now))
        step, said = steps[key]
        person = people[review["employee_id"]]
        notices.append(
            Notice(
                frozenset(audience.waiting(step["actor"], person.id)),
                "review.waiting",
                review["period"],
                person.id,
                {"employee": person.name, "employee_code": person.code, "period": review["period"], **said},
                scorecard_link(review["period"], person.code),
            )
        )
    return notify_many(session, notices, now)


def announce_action(
    session: Session,
    review: Review,
    action: str,
    *,
    by: User,
    comment: str | None,
    from_step: str | None,
    steps: list[dict],
    directory: Directory,
    employee: Employee,
    now: dt.datetime,
) -> int:
    """Tell who should know about `action`, just taken by `by` on `review` (already moved)."""
    by_name = {step["name"]: step for step in steps}
    step = by_name.get(review.step) if review.state == "in_review" else None
    # entering a step stamps it with the action's time; an approval that waits for more
    # countersignatures leaves the step as it was
    entered = step is not None and review.step_started_at == now
    audience = Audience.load(session, directory, now.date())
    waiting = audience.waiting(step["actor"], employee.id) if step is not None and entered else set()
    own = audience.employee(employee.id)
    params = review_params(employee.code, employee.name, review.period, step, review.step_started_at)
    previous = by_name.get(from_step) if from_step else None
    params.update(
        by=by.login, comment=comment, from_step=(previous.get("label") or previous["name"]) if previous else None
    )
    told: list[tuple[set[int], str]] = []
    if action == "approve":
        if review.state == "approved":
            told.append((own, "review.approved"))
        elif entered:
            told.append((waiting, "review.waiting"))
    elif action in ("reject", "return"):
        told.append((waiting | own, ACTION_KINDS[action]))
    elif action == "reopen":
        told += [(own, ACTION_KINDS[action]), (waiting - own, "review.waiting")]
    elif action == "lock":
        told.append((own, ACTION_KINDS[action]))
    link = scorecard_link(review.period, employee.code)
    return notify_many(
        session,
        [
            Notice(
                frozenset(users - {by.id}),
                kind,
                review.period,
                employee.id,
                {key: value for key, value in params.items() if value is not None},
                link,
            )
            for users, kind in told
        ],
        now,
    )


def announce_dispute(
    session: Session, dispute: Dispute, action: str, *, by: User, routed_actor: str, item_label, now: dt.datetime
) -> int:
    """Tell who should know that `by` raised, withdrew, accepted or rejected `dispute`.
    `routed_actor` is the step actor the dispute is routed to (manager or role:hr)."""
    employee = session.get(Employee, dispute.employee_id)
    # disputes.employee_id is a foreign key, and an employee with a scorecard cannot be deleted
    assert employee is not None, f"dispute {dispute.id}: its employee is in the database"
    params = {
        "employee": employee.name,
        "employee_code": employee.code,
        "period": dispute.period,
        "item": item_label,
        "by": by.login,
        "reason": dispute.reason,
        "resolution": dispute.resolution,
    }
    correction = dispute.correction or {}
    for key in ("total_before", "total_after"):
        if correction.get(key) is not None:
            params[key] = f"{correction[key]:.1f}"
    if action in ("raise", "withdraw"):
        users = Audience.load(session, Directory.load(session), now.date()).waiting(routed_actor, employee.id)
        kind, link = ("dispute.raised" if action == "raise" else "dispute.withdrawn"), DISPUTES_LINK
    else:
        users = Audience.load(session, Directory.load(session), now.date()).employee(employee.id)
        kind, link = (
            ("dispute.accepted" if action == "accept" else "dispute.rejected"),
            scorecard_link(dispute.period, employee.code),
        )
    return notify_many(
        session,
        [
            Notice(
                frozenset(users - {by.id}),
                kind,
                dispute.period,
                employee.id,
                {key: value for key, value in params.items() if value is not None},
                link,
            )
        ],
        now,
    )


def announce_feedback(
    session: Session, review: Review, requests: list, *, by: User, form_label, managers: set[int], now: dt.datetime
) -> int:
    """Tell each colleague asked for feedback (a request each, linked to its own page), or — when
    the employee proposed them — the employee's manager, who decides whether to ask."""
    employee = session.get(Employee, review.employee_id)
    # reviews.employee_id is a foreign key, and an employee with a scorecard cannot be deleted
    assert employee is not None, f"review {review.id}: its employee is in the database"
    base = {
        "employee": employee.name,
        "employee_code": employee.code,
        "period": review.period,
        "form": form_label,
        "by": by.login,
    }
    if by.employee_id == review.employee_id:
        peers = ", ".join(
            session.scalars(
                sa.select(User.login).where(User.id.in_([r.peer_id for r in requests])).order_by(User.login)
            )
        )
        notices = [
            Notice(
                frozenset(managers - {by.id}),
                "feedback.proposed",
                review.period,
                employee.id,
                {**base, "peers": peers},
                scorecard_link(review.period, employee.code),
            )
        ]
    else:
        notices = [
            Notice(
                frozenset({request.peer_id}),
                "feedback.requested",
                review.period,
                employee.id,
                {**base, **({"due_on": request.due_on.isoformat()} if request.due_on else {})},
                f"/feedback/{request.id}",
            )
            for request in requests
        ]
    return notify_many(session, notices, now)


def announce_recomputed(
    session: Session, directory: Directory, sent_back: Iterable[tuple[Review, dict, Employee, str]], now: dt.datetime
) -> int:
    """Tell each employee whose approved scorecard a rerun sent back (with what changed), and the
    actors of the step it is now at, in one insert: (review, the step entered, employee, comment)."""
    audience = Audience.load(session, directory, now.date())
    notices = []
    for review, step, employee, comment in sent_back:
        params = {**review_params(employee.code, employee.name, review.period, step, now), "comment": comment}
        link = scorecard_link(review.period, employee.code)
        own = audience.employee(employee.id)
        notices += [
            Notice(frozenset(own), "review.recomputed", review.period, employee.id, params, link),
            Notice(
                frozenset(audience.waiting(step["actor"], employee.id) - own),
                "review.waiting",
                review.period,
                employee.id,
                params,
                link,
            ),
        ]
    return notify_many(session, notices, now)


@dataclass(frozen=True)
class FormOffer:
    """Forms a review's scorecard gained while the review is under way (`form_offers`)."""

    review: Review
    employee: Employee
    #: the step the review is at now
    step: dict | None
    #: the step it went back from to have a form filled, if it did
    left: dict | None
    #: (form label, the step actor who fills it) of each form filled at the current step
    to_fill: list[tuple[dict | str, str]]
    #: the labels of the peer feedback forms gained
    peer: list[dict | str]


def announce_forms_added(session: Session, directory: Directory, offers: Iterable[FormOffer], now: dt.datetime) -> int:
    """Tell those who fill each gained form now, and whoever asks colleagues for a gained peer
    feedback form, in one insert."""
    notices = []
    for offer in offers:
        employee, review = offer.employee, offer.review
        params = review_params(employee.code, employee.name, review.period, offer.step, review.step_started_at)
        if offer.left is not None:
            params["from_step"] = offer.left.get("label") or offer.left["name"]
        link = scorecard_link(review.period, employee.code)
        for form, actor in offer.to_fill:
            notices.append(
                Notice(
                    frozenset(directory.principals(actor, employee.id)),
                    "form.added",
                    review.period,
                    employee.id,
                    {**params, "form": form},
                    link,
                )
            )
        askers = directory.principals("manager", employee.id) or directory.principals("role:hr", employee.id)
        for form in offer.peer:
            notices.append(
                Notice(
                    frozenset(askers), "feedback.form_added", review.period, employee.id, {**params, "form": form}, link
                )
            )
    return notify_many(session, notices, now)
