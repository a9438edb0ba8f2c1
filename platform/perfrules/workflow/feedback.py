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
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..audit import record_change
from ..engine.models import ManualValue
from ..formula import FunctionRegistry
from ..org.access import department_subtree
from ..org.models import Employee, User
from .corrections import settled_items
from .dispute_models import Dispute
from .feedback_models import FeedbackRequest
from .forms import FormNeed, clean_values, forms_for, label_text, points, rescore, write_points
from .models import Review
from .notices import announce_feedback
from .steps import WorkflowError, utc_now, version_config

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


def _peer_form(session: Session, review: Review, form_slug: str) -> FormNeed:
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


def _requests(session: Session, review: Review, form_slug: str, lock: bool = False) -> list[FeedbackRequest]:
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


def _settled(session: Session, review: Review, need: FormNeed) -> dict[str, int]:
    """The form's items whose value an accepted dispute corrected: item → dispute id."""
    return settled_items(session, review.period, review.employee_id, need.items)


def _settled_text(settled: dict[str, int], form: str) -> str:
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
    existing = {r.peer_id: r for r in _requests(session, review, form_slug, lock=True)}
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
    need = _peer_form(session, review, form_slug)
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
    settled = _settled(session, review, need)
    if settled:
        raise WorkflowError(_settled_text(settled, form) + ": nobody more is asked")
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


# --- the colleague asked -------------------------------------------------------------------------


@dataclass
class Asked:
    """A request as its colleague sees it: whose period it is about, and the form to fill."""

    request: FeedbackRequest
    colleague: str
    review: Review
    #: the form as the review's configuration version defines it ({} when it defines it no more)
    definition: dict
    #: an accepted dispute corrected the value of an item this form scores: answers are closed
    settled: bool = False

    @property
    def label(self) -> dict:
        return self.definition.get("label") or {}

    @property
    def may_answer(self) -> bool:
        return (
            self.review.state == "in_review"
            and self.request.state != "declined"
            and bool(self.definition)
            and not self.settled
        )

    @property
    def waiting(self) -> bool:
        """Still to be answered."""
        return self.may_answer and self.request.state in OPEN_STATES

    def overdue(self, today: dt.date | None = None) -> bool:
        due = self.request.due_on
        return self.waiting and due is not None and due < (today or dt.date.today())


def _asked(session: Session, user: User, *conditions) -> list[Asked]:
    rows = session.execute(
        sa.select(FeedbackRequest, Employee.name, Review)
        .join(Employee, Employee.id == FeedbackRequest.employee_id)
        .join(
            Review, sa.and_(Review.period == FeedbackRequest.period, Review.employee_id == FeedbackRequest.employee_id)
        )
        .where(FeedbackRequest.peer_id == user.id, FeedbackRequest.state != "proposed", *conditions)
        .order_by(FeedbackRequest.requested_at.desc(), FeedbackRequest.id.desc())
    ).all()
    snapshots: dict[int, dict] = {}
    found, scored = [], {}
    for request, name, review in rows:
        if review.version_number not in snapshots:
            snapshots[review.version_number] = version_config(session, review.version_number)
        snapshot = snapshots[review.version_number]
        found.append(Asked(request, name, review, snapshot.get("forms", {}).get(request.form) or {}))
        scored[request.id] = _form_items(snapshot, review.template, request.form)
    if found:  # the forms whose items an accepted dispute corrected, in one query
        corrected = {
            (period, employee_id, item)
            for period, employee_id, item, correction in session.execute(
                sa.select(Dispute.period, Dispute.employee_id, Dispute.item, Dispute.correction).where(
                    Dispute.state == "accepted",
                    Dispute.employee_id.in_(sorted({a.request.employee_id for a in found})),
                    Dispute.period.in_(sorted({a.request.period for a in found})),
                )
            )
            if "value" in (correction or {})
        }
        for a in found:
            a.settled = any(
                (a.request.period, a.request.employee_id, item) in corrected for item in scored[a.request.id]
            )
    return found


def _form_items(snapshot: dict, template: str, form: str) -> list[str]:
    """The manual items of the template (in the snapshot) that the form scores."""
    return [
        item["manual"]
        for section in snapshot.get("templates", {}).get(template, {}).get("sections", [])
        for item in section.get("items", [])
        if item.get("manual") and item.get("form") == form
    ]


def asked_of(session: Session, user: User, waiting_only: bool = False) -> list[Asked]:
    """The feedback asked of `user` (never a mere proposal): those still to answer first, the
    soonest due first, then the rest, the latest first."""
    found = _asked(session, user)
    if waiting_only:
        found = [a for a in found if a.waiting]
    return sorted(found, key=lambda a: (not a.waiting, (a.request.due_on or dt.date.max) if a.waiting else dt.date.max))


def one_asked(session: Session, user: User, request_id: int) -> Asked | None:
    """The request, if it was asked of `user`: nobody else learns that it exists."""
    return next(iter(_asked(session, user, FeedbackRequest.id == request_id)), None)


def _answerable(session: Session, asked: Asked, user: User) -> FormNeed:
    """The peer form the colleague may answer (or decline) now, once the review's row is locked
    and the review and the request read as committed: a colleague submitting at the same moment
    waits here for this one. WorkflowError saying why not."""
    request, review = asked.request, asked.review
    if request.peer_id != user.id or request.state == "proposed":
        raise WorkflowError(f"{user.login} was not asked for this feedback")
    session.scalars(
        sa.select(Review).where(Review.id == review.id).with_for_update().execution_options(populate_existing=True)
    ).one()
    session.refresh(request)
    if review.state != "in_review":
        raise WorkflowError(f"feedback on this scorecard is closed: it is {review.state}")
    if request.state == "declined":
        raise WorkflowError("you declined this request")
    if not asked.definition:
        raise WorkflowError("this scorecard no longer asks for this feedback")
    need = _peer_form(session, review, request.form)
    asked.settled = bool(_settled(session, review, need))
    if asked.settled:  # the colleague learns nothing of the dispute: it is the employee's
        raise WorkflowError(
            "this feedback is closed: the value it would give has been settled, and answers no longer change it"
        )
    return need


def _mean_points(definition: dict, answers: list[dict]) -> tuple[float | None, int]:
    scores = [score for score in (points(definition, values) for values in answers) if score is not None]
    return (sum(scores) / len(scores) if scores else None), len(scores)


def _submitted(session: Session, review: Review, form_slug: str) -> list[dict]:
    """The submitted answers to the form about the review's employee, as committed (and as this
    transaction changed them)."""
    return list(
        session.scalars(
            sa.select(FeedbackRequest.values)
            .where(
                FeedbackRequest.period == review.period,
                FeedbackRequest.employee_id == review.employee_id,
                FeedbackRequest.form == form_slug,
                FeedbackRequest.state == "submitted",
            )
            .order_by(FeedbackRequest.id)
        )
    )


def _remove_points(session: Session, review: Review, need: FormNeed) -> dict[str, float]:
    """Remove the values peer feedback through this form wrote for its items (never another
    source's: an import, a dispute's correction); the values removed."""
    written = list(
        session.scalars(
            sa.select(ManualValue).where(
                ManualValue.period == review.period,
                ManualValue.employee_id == review.employee_id,
                ManualValue.item.in_(need.items),
                ManualValue.source.startswith(f"peer feedback {need.slug} (", autoescape=True),
            )
        )
    )
    for value in written:
        session.delete(value)
    return {value.item: value.value for value in written}


def answer(
    session: Session, asked: Asked, user: User, values: dict, submit: bool, functions: FunctionRegistry | None = None
) -> FeedbackRequest:
    """Save the colleague's answers as a draft, or submit them: submitting scores the form's
    manual items with the mean of every submitted answer, and the employee again. WorkflowError
    when it is not theirs to answer now, FormError when an answer does not fit. Not committed."""
    need = _answerable(session, asked, user)
    request, review = asked.request, asked.review
    if not submit and request.state == "submitted":
        raise WorkflowError("your feedback is already submitted: submit it again to change it")
    cleaned = clean_values(need.definition, values, submit)
    now = utc_now()
    before: dict = {"state": request.state, "values": request.values}
    request.values, request.state, request.updated_at = cleaned, "submitted" if submit else "draft", now
    if submit:
        request.submitted_at = now
    session.flush()
    after: dict = {"state": request.state, "values": cleaned}
    scored = False
    if submit:
        answers = _submitted(session, review, request.form)
        mean, count = _mean_points(need.definition, answers)
        if mean is not None and counts(need.definition, len(answers)):
            # the source names no one: it is shown wherever the item's value is
            source = f"peer feedback {request.form} ({count} answers)"
            before["points"] = write_points(session, review, need.items, mean, source, now)
            after["points"] = dict.fromkeys(need.items, mean)
            scored = True
        else:  # too few answers to keep anyone's anonymous: the item has no value yet
            removed = _remove_points(session, review, need)
            if removed:
                before["points"], after["points"] = removed, dict.fromkeys(removed)
                scored = True
        session.flush()
    record_change(
        session,
        actor=user.login,
        action="feedback.submit" if submit else "feedback.save",
        kind="feedback_requests",
        key=f"{review.period}:{review.employee_id}:{request.form}",
        before=before,
        after=after,
    )
    if scored:
        rescore(session, review, functions)
    return request


def decline(session: Session, asked: Asked, user: User, reason: str | None) -> FeedbackRequest:
    """Decline the request, with a reason; a draft is discarded. Not committed."""
    _answerable(session, asked, user)
    request, review = asked.request, asked.review
    reason = (reason or "").strip() or None
    if reason is None:
        raise WorkflowError("say why: declining needs a reason")
    if request.state == "submitted":
        raise WorkflowError("your feedback is submitted and counts: it can be changed, not declined")
    before = {"state": request.state}
    request.state, request.decline_reason, request.values, request.updated_at = "declined", reason, {}, utc_now()
    session.flush()
    record_change(
        session,
        actor=user.login,
        action="feedback.decline",
        kind="feedback_requests",
        key=f"{review.period}:{review.employee_id}:{request.form}",
        before=before,
        after={"state": "declined", "reason": reason},
    )
    return request


# --- what the scorecard shows -------------------------------------------------------------------


def summary(definition: dict, answers: list[tuple[dict, str]], named: bool) -> list[dict]:
    """The submitted answers field by field: the mean of each rating and number, how often each
    choice was made, and the written answers — with who wrote them when `named`, else in an
    order that says nothing of who (alphabetical)."""
    fields = []
    for spec in definition.get("fields", []):
        given = [(values[spec["name"]], name) for values, name in answers if values.get(spec["name"]) is not None]
        entry = {"name": spec["name"], "label": spec.get("label") or {}, "type": spec["type"], "count": len(given)}
        if spec["type"] in ("rating", "number"):
            entry.update(
                mean=sum(v for v, _ in given) / len(given) if given else None, min=spec.get("min"), max=spec.get("max")
            )
        elif spec["type"] == "choice":
            entry["options"] = [
                {
                    "value": o["value"],
                    "label": o.get("label") or {},
                    "count": sum(1 for v, _ in given if v == o["value"]),
                }
                for o in spec.get("options") or []
            ]
        else:
            texts = (
                [{"text": v, "by": name} for v, name in given]
                if named
                else [{"text": v, "by": None} for v in sorted(v for v, _ in given)]
            )
            entry["answers"] = texts
        fields.append(entry)
    return fields


def feedback_view(session: Session, review: Review, need: FormNeed, user: User) -> dict:
    """What `user` may see of a peer form's feedback on the review's scorecard, and may do: each
    request and answer to those who see the answers; to anyone else the counts, the points and,
    past the anonymity minimum (or on a named form), the summary; to the employee their own
    proposals too. `points` is what the answers give the item: None until they count (an
    anonymous form's from the anonymity minimum on) and once an accepted dispute `settled` the
    item's value, which closes the form."""
    requests = _requests(session, review, need.slug)
    people = (
        {
            user_id: (login, name)
            for user_id, login, name in session.execute(
                sa.select(User.id, User.login, Employee.name)
                .outerjoin(Employee, Employee.id == User.employee_id)
                .where(User.id.in_([r.peer_id for r in requests]))
            )
        }
        if requests
        else {}
    )
    submitted = [r for r in requests if r.state == "submitted"]
    mean, _ = _mean_points(need.definition, [r.values for r in submitted])
    anonymous = need.definition.get("anonymous") is not False
    individual = sees_answers(session, review, user)
    settled = bool(_settled(session, review, need))
    counting = counts(need.definition, len(submitted)) and not settled
    view = {
        "form": need.slug,
        "label": need.label,
        "anonymous": anonymous,
        "items": need.items,
        "asked": sum(1 for r in requests if r.state != "proposed"),
        "answered": len(submitted),
        "points": mean if counting else None,
        "counts": counting,
        "settled": settled,
        "individual": individual,
        "may_ask": may_ask(session, review, user) and not settled,
        "may_propose": may_propose(review, user) and not settled,
        "anonymity_minimum": ANONYMITY_MINIMUM,
        "summary": None,
    }
    if individual:
        view["requests"] = [
            {
                "id": r.id,
                "peer": people[r.peer_id][0],
                "name": people[r.peer_id][1],
                "state": r.state,
                "proposed": r.proposed_by is not None,
                "due_on": r.due_on,
                "requested_at": r.requested_at,
                "submitted_at": r.submitted_at,
                "decline_reason": r.decline_reason,
                "answers": r.values if r.state == "submitted" else None,
            }
            for r in requests
        ]
    else:
        # the employee follows what they proposed — asked or not, never answered or declined
        view["requests"] = [
            {
                "id": r.id,
                "peer": people[r.peer_id][0],
                "name": people[r.peer_id][1],
                "state": "proposed" if r.state == "proposed" else "asked",
                "proposed": True,
            }
            for r in requests
            if r.proposed_by is not None and r.proposed_by == user.id
        ]
    if individual or not anonymous or len(submitted) >= ANONYMITY_MINIMUM:
        view["summary"] = summary(
            need.definition,
            [(r.values, people[r.peer_id][1] or people[r.peer_id][0]) for r in submitted],
            named=individual or not anonymous,
        )
    return view


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
