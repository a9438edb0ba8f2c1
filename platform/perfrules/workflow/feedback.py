"""Peer feedback (同事评价 / 360): colleagues asked for their view of an employee's period.

A template's manual item may name a form with `filled_by: peer`. While the review is in_review
(at any step), the employee's manager, HR or an administrator asks one or more colleagues for it
— users linked to an employee, never the employee, nor their manager (whose say is the manager
rating), each colleague once — with a due date if they like. The employee may propose
colleagues: a proposal reaches nobody until the manager (or HR) asks that colleague, and either
of them may drop it.

Each colleague asked answers on their own feedback page, which shows the colleague's name, the
period and the form, nothing of the scorecard: a draft, then submitted (and submitted again while
the review is open), or declined with a reason. The due date is a reminder: answers are taken
until the review is approved. Submitting scores the manual item — the mean of the submitted
answers' points, each worked out as for every form (`forms.points`) — and scores the employee
again (not a locked scorecard). Peer feedback never holds up a step; with no answers the item
has no value, and the template's `missing` rule applies.

An anonymous form (the default) scores the item only once ANONYMITY_MINIMUM colleagues have
submitted: below that the item has no value — a value peer feedback wrote earlier is removed —
so that neither the points nor the scorecard's total give away one colleague's score. A named
form (`anonymous: false`) scores from the first answer. Once a dispute on one of the form's
items is accepted with a corrected value, that correction stands: the form takes no more answers
(nor declines, nor new colleagues), and says so.

Answering and declining lock the review's row first (`FOR UPDATE` on PostgreSQL; SQLite's
writers are serialised by BEGIN IMMEDIATE), so two colleagues submitting at once each count the
other's answer; two people asking the same colleague at once meet the unique key, and the
second is refused like any duplicate.

Who sees what: each answer, with who gave it, to the employee's manager, HR, administrators and
auditors. The employee, and anyone else who may see the scorecard, sees how many colleagues were
asked and answered, the item's points, the mean of each rating and the written answers: without
names when the form is anonymous (the default; `anonymous: false` shows them), and only once
ANONYMITY_MINIMUM colleagues have answered, so that no answer can be traced to one person.

The employee proposing colleagues is offered those of their own department and the departments
below it, and a login they may not propose is refused with one message that says nothing of the
account ("… cannot be proposed"); those who ask get the detailed reasons.

This module holds the rules and the asking; `feedback_answers` the colleague's side (answering,
declining), `feedback_views` what the scorecard shows of it.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..audit import record_change
from ..org.access import department_subtree
from ..org.models import Employee, User
from .corrections import settled_items
from .feedback_models import FeedbackRequest
from .forms import FormNeed, forms_for, label_text, points
from .models import Review
from .notices import announce_feedback
from .steps import WorkflowError, utc_now

#: who may ask for peer feedback on anyone's scorecard, besides the employee's manager
ASKERS = ("admin", "hr")
#: who sees each answer and who gave it, besides the employee's manager
READERS = ("admin", "hr", "auditor")
#: an anonymous form's answers are shown beyond its readers, and score the item, once this many
#: colleagues answered
ANONYMITY_MINIMUM = 2
#: the states of a request its colleague still has to answer
OPEN_STATES = ("requested", "draft")
#: the most colleagues suggested when asking (the field takes any login)
SUGGESTIONS = 500


def peer_forms(session: Session, review: Review) -> list[FormNeed]:
    """The review's template's forms filled by peers."""
    return [need for need in forms_for(session, review) if need.filled_by == "peer"]


def peer_form(session: Session, review: Review, form_slug: str) -> FormNeed:
    need = next((n for n in peer_forms(session, review) if n.slug == form_slug), None)
    if need is None:
        raise WorkflowError(f"this scorecard has no peer feedback form '{form_slug}'")
    return need


def _managers(session: Session, review: Review) -> set[int]:
    """The users the flow's `manager` actor names for the review's employee (as `actors` says),
    in one query rather than the whole directory."""
    manager = sa.select(Employee.manager_id).where(Employee.id == review.employee_id).scalar_subquery()
    return set(
        session.scalars(
            sa.select(User.id).where(User.active, User.employee_id == manager, User.employee_id != review.employee_id)
        )
    )


def may_ask(session: Session, review: Review, user: User) -> bool:
    """Whether `user` may ask colleagues for feedback on the review's scorecard now."""
    if review.state != "in_review" or user.employee_id == review.employee_id:
        return False
    return user.has_role(*ASKERS) or user.id in _managers(session, review)


def may_propose(review: Review, user: User) -> bool:
    """Whether `user` may propose colleagues: the employee, while their review is open."""
    return review.state == "in_review" and user.employee_id == review.employee_id


def sees_answers(session: Session, review: Review, user: User) -> bool:
    """Whether `user` sees each answer and who gave it."""
    if user.employee_id == review.employee_id:
        return False
    return user.has_role(*READERS) or user.id in _managers(session, review)


def requests_of(session: Session, review: Review, form_slug: str, lock: bool = False) -> list[FeedbackRequest]:
    """The form's requests about the review's employee; `lock`: locked until the transaction
    ends and refreshed with their committed state."""
    query = (
        sa.select(FeedbackRequest)
        .where(
            FeedbackRequest.period == review.period,
            FeedbackRequest.employee_id == review.employee_id,
            FeedbackRequest.form == form_slug,
        )
        .order_by(FeedbackRequest.id)
    )
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    return list(session.scalars(query))


def counts(definition: dict, answered: int) -> bool:
    """Whether `answered` submitted answers score the form's items: a named form's from the
    first, an anonymous one's from ANONYMITY_MINIMUM on."""
    return definition.get("anonymous") is False or answered >= ANONYMITY_MINIMUM


def settled_for(session: Session, review: Review, need: FormNeed) -> dict[str, int]:
    """The form's items whose value an accepted dispute corrected: item → dispute id."""
    return settled_items(session, review.period, review.employee_id, need.items)


def settled_text(settled: dict[str, int], form: str) -> str:
    return (
        f"the {form} is closed: "
        + ", ".join(f"dispute {dispute} corrected '{item}'" for item, dispute in settled.items())
        + ", and that correction stands"
    )


def _problems(
    session: Session, review: Review, user: User, form_slug: str, form: str, wanted: list[str], proposing: bool
) -> tuple[list[str], dict[str, User], dict[int, FeedbackRequest], set[int]]:
    """What keeps each colleague from being asked (proposed), and what was found: the users by
    login, the form's requests by colleague (locked), the employee's managers. Someone proposing
    reads one message that says nothing of the account — whether it exists, is linked, is the
    manager or was asked by someone else — except of their own login and their own proposals."""
    peers = {u.login: u for u in session.scalars(sa.select(User).where(User.login.in_(wanted), User.active))}
    existing = {r.peer_id: r for r in requests_of(session, review, form_slug, lock=True)}
    managers = _managers(session, review)
    problems = []
    for login in wanted:
        peer = peers.get(login)
        earlier = existing.get(peer.id) if peer is not None else None
        if peer is not None and peer.employee_id is not None and peer.employee_id == review.employee_id:
            problems.append(f"{login}: nobody gives peer feedback on their own scorecard")
        elif proposing and earlier is not None and earlier.proposed_by == user.id:
            problems.append(
                f"{login} has already been {'proposed' if earlier.state == 'proposed' else 'asked'} for the {form}"
            )
        elif proposing:
            if peer is None or peer.employee_id is None or peer.id in managers or earlier is not None:
                problems.append(f"{login} cannot be proposed")
        elif peer is None:
            problems.append(f"there is no active user '{login}'")
        elif peer.employee_id is None:
            problems.append(f"{login} is not linked to an employee: only colleagues give peer feedback")
        elif peer.id in managers:
            problems.append(f"{login} is the employee's manager: their say is the manager's rating")
        elif peer.id == user.id:
            problems.append(f"{login}: ask a colleague, not yourself")
        elif earlier is not None and earlier.state != "proposed":
            problems.append(f"{login} has already been asked for the {form}")
    return problems, peers, existing, managers


def ask(
    session: Session,
    review: Review,
    user: User,
    form_slug: str,
    logins: list[str],
    due_on: dt.date | None = None,
    today: dt.date | None = None,
) -> list[FeedbackRequest]:
    """Ask colleagues (by login) for feedback on the review's scorecard through a peer form —
    or, when `user` is the employee, propose them. Asking a proposed colleague confirms the
    proposal. WorkflowError naming each colleague who may not be asked, and nothing changes.
    Not committed."""
    need = peer_form(session, review, form_slug)
    proposing = user.employee_id == review.employee_id
    if review.state != "in_review":
        raise WorkflowError(f"feedback is asked for only while the scorecard is under review (it is {review.state})")
    if not proposing and not may_ask(session, review, user):
        raise WorkflowError(
            f"{user.login} may not ask for feedback on this scorecard: the employee's manager, "
            "HR or an administrator does"
        )
    if proposing and due_on is not None:
        raise WorkflowError("the one who asks sets the due date: propose colleagues without one")
    if due_on is not None and due_on < (today or dt.date.today()):
        raise WorkflowError(f"the due date {due_on.isoformat()} has passed")
    wanted = list(dict.fromkeys(login.strip() for login in logins if login and login.strip()))
    if not wanted:
        raise WorkflowError("name at least one colleague")
    form = label_text(need.label, form_slug)
    settled = settled_for(session, review, need)
    if settled:
        raise WorkflowError(settled_text(settled, form) + ": nobody more is asked")
    problems, peers, existing, managers = _problems(session, review, user, form_slug, form, wanted, proposing)
    if problems:
        raise WorkflowError("; ".join(problems))
    now, asked = utc_now(), []
    try:
        # two people asking the same colleague at the same moment: the unique key decides, and
        # the second is refused as a duplicate (the savepoint keeps the transaction usable)
        with session.begin_nested():
            for login in wanted:
                request = existing.get(peers[login].id)
                if request is None:
                    request = FeedbackRequest(
                        period=review.period,
                        employee_id=review.employee_id,
                        form=form_slug,
                        peer_id=peers[login].id,
                        state="proposed",
                        values={},
                    )
                    session.add(request)
                if proposing:
                    request.proposed_by = user.id
                else:
                    request.state, request.requested_by, request.requested_at = "requested", user.id, now
                    request.due_on = due_on
                request.updated_at = now
                asked.append(request)
    except sa.exc.IntegrityError:
        problems = _problems(session, review, user, form_slug, form, wanted, proposing)[0]
        raise WorkflowError(
            "; ".join(problems)
            or "these colleagues were asked by someone else at the same moment: look again, then ask"
        ) from None
    record_change(
        session,
        actor=user.login,
        action="feedback.propose" if proposing else "feedback.ask",
        kind="feedback_requests",
        key=f"{review.period}:{review.employee_id}:{form_slug}",
        after={"peers": wanted, "due_on": due_on.isoformat() if due_on else None},
    )
    announce_feedback(session, review, asked, by=user, form_label=need.label or form_slug, managers=managers, now=now)
    return asked


def drop(session: Session, review: Review, request: FeedbackRequest, user: User) -> None:
    """Drop a proposed colleague: the employee who proposed them, or one who may ask, while the
    review is open. A colleague already asked stays asked. Not committed."""
    if not ((request.proposed_by == user.id and may_propose(review, user)) or may_ask(session, review, user)):
        raise WorkflowError(f"{user.login} may not drop this proposal now")
    if request.state != "proposed":
        raise WorkflowError("only a proposal can be dropped: this colleague has been asked already")
    peer = session.get(User, request.peer_id)
    # feedback_requests.peer_id is a foreign key: a user cannot be deleted while asked for feedback
    assert peer is not None, f"feedback request {request.id}: its colleague is in the database"
    session.delete(request)
    session.flush()
    record_change(
        session,
        actor=user.login,
        action="feedback.drop",
        kind="feedback_requests",
        key=f"{review.period}:{review.employee_id}:{request.form}",
        before={"peers": [peer.login]},
    )


def mean_points(definition: dict, answers: list[dict]) -> tuple[float | None, int]:
    scores = [score for score in (points(definition, values) for values in answers) if score is not None]
    return (sum(scores) / len(scores) if scores else None), len(scores)


def suggestions(session: Session, review: Review, user: User) -> list[tuple[str, str]]:
    """Colleagues `user` might ask, as (login, name): users linked to an employee, neither the
    employee nor their manager, those of the employee's department first. To the employee
    proposing, only those of their own department and the departments below it: the list is no
    directory of everyone's account."""
    department, manager = session.execute(
        sa.select(Employee.department_id, Employee.manager_id).where(Employee.id == review.employee_id)
    ).one()
    scope = []
    if user.employee_id == review.employee_id:
        scope = [Employee.department_id.in_(sorted(department_subtree(session, department)))]
    rows = session.execute(
        sa.select(User.login, Employee.name)
        .join(Employee, Employee.id == User.employee_id)
        .where(
            User.active,
            Employee.id != review.employee_id,
            *([Employee.id != manager] if manager is not None else []),
            *scope,
        )
        .order_by((Employee.department_id != department), Employee.name, User.login)
        .limit(SUGGESTIONS)
    )
    return [(login, name) for login, name in rows]
