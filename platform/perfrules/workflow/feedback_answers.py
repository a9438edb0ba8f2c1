"""Peer feedback as the colleague asked sees it: the requests waiting for them, their answers
(a draft, then submitted, which scores the item), and declining with a reason. The rules are in
`feedback`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..audit import record_change
from ..engine.models import ManualValue, Scorecard
from ..formula import FunctionRegistry
from ..org.models import Employee, User
from .dispute_models import Dispute
from .feedback import (
    OPEN_STATES,
    counts,
    mean_points,
    peer_form,
    settled_for,
)
from .feedback_models import FeedbackRequest
from .forms import FormNeed, clean_values, rescore, template_forms, write_points
from .models import Review
from .steps import WorkflowError, utc_now, version_config


@dataclass
class Asked:
    """A request as its colleague sees it: whose period it is about, and the form to fill."""

    request: FeedbackRequest
    colleague: str
    review: Review
    #: the form as the version the scorecard is scored by defines it ({} when it defines it no more)
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
        sa.select(FeedbackRequest, Employee.name, Review, Scorecard.version_number, Scorecard.template)
        .join(Employee, Employee.id == FeedbackRequest.employee_id)
        .join(
            Review, sa.and_(Review.period == FeedbackRequest.period, Review.employee_id == FeedbackRequest.employee_id)
        )
        .outerjoin(
            Scorecard,
            sa.and_(Scorecard.period == FeedbackRequest.period, Scorecard.employee_id == FeedbackRequest.employee_id),
        )
        .where(FeedbackRequest.peer_id == user.id, FeedbackRequest.state != "proposed", *conditions)
        .order_by(FeedbackRequest.requested_at.desc(), FeedbackRequest.id.desc())
    ).all()
    snapshots: dict[int, dict] = {}
    found, scored = [], {}
    for request, name, review, card_version, card_template in rows:
        # the forms of the version the scorecard is scored by now (as `forms.forms_for` reads them)
        number, template = (
            (card_version, card_template) if card_version is not None else (review.version_number, review.template)
        )
        if number not in snapshots:
            snapshots[number] = version_config(session, number)
        snapshot = snapshots[number]
        found.append(Asked(request, name, review, snapshot.get("forms", {}).get(request.form) or {}))
        scored[request.id] = template_forms(snapshot, template).get(request.form, [])
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
    need = peer_form(session, review, request.form)
    asked.settled = bool(settled_for(session, review, need))
    if asked.settled:  # the colleague learns nothing of the dispute: it is the employee's
        raise WorkflowError(
            "this feedback is closed: the value it would give has been settled, and answers no longer change it"
        )
    return need


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
        mean, count = mean_points(need.definition, answers)
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
