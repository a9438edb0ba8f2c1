"""Disputes (申诉): an employee contests one item of their approved scorecard, with a reason.

    raise (employee, review approved or locked) ──▶ open ──accept (correction)──▶ accepted
                                                     │ ──reject (reason)──────▶ rejected
                                                     └ ──withdraw (employee)──▶ withdrawn

A dispute is routed when raised: to the employee's manager, or to HR when they have no manager
with a user account, or always to HR when the approval flow says `disputes: {route_to: hr}`.
Its routed principals resolve it (and their delegates, between the delegation's dates); HR and
administrators may resolve any dispute. Nobody resolves a dispute on their own scorecard, not
through a role or a delegation.

Accepting needs a correction. A manual item's is its corrected value (0–100), written as the
item's `ManualValue`; a KPI item scores from the data, so its correction is the resolver's word
that the records have been corrected. Either way the scorecard is unlocked and scored again, and
an approved or locked review is reopened at its first step (a review already in progress stays
where it is). Rejecting leaves the scorecard as it is. Both need a resolution the employee reads.

An accepted correction of a manual item's value stands (`corrections`): the forms and peer
feedback that score the item, and ratings imports, leave it alone, so a colleague submitting
later cannot silently undo it.

Resolving and withdrawing first lock the dispute's row (`FOR UPDATE` on PostgreSQL; SQLite's
writers are serialised by BEGIN IMMEDIATE) and read its state as committed, so of two resolvers
at the same moment, or a withdrawal at the moment of an acceptance, the second is refused as
"already accepted" (or withdrawn …) rather than overwriting the first.

Every change is audited; a refused call raises a `DisputeError` and changes nothing. Raising and
resolving each end in `_record`, the one place a "raised" or "resolved" event happens.
"""

from __future__ import annotations

import datetime as dt
import math

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..audit import record_change
from ..engine.models import ManualValue, Scorecard
from ..engine.scorecards import ItemDefinition, item_definitions
from ..engine.shapes import ItemTrace
from ..formula import FunctionRegistry
from ..formula.checker import did_you_mean
from ..org.models import Employee, User
from .actors import Directory, delegators
from .dispute_models import Dispute
from .engine import reopen_review
from .forms import rescore
from .models import Review
from .notices import announce_dispute
from .steps import PRIVILEGED, WorkflowError, utc_now, version_config

#: a review may be disputed once it has passed every step
DISPUTABLE_STATES = ("approved", "locked")
DECISIONS = ("accept", "reject")


class DisputeError(WorkflowError):
    """Refused: nothing changed."""


class DisputeRefused(DisputeError):
    """Not the user's to do now (who they are, or the state of the review or dispute)."""


class DisputeInvalid(DisputeError):
    """Bad input: `field` names what is wrong (reason, item, correction.value …)."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def _card(session: Session, review: Review) -> Scorecard | None:
    return session.scalar(
        sa.select(Scorecard).where(Scorecard.period == review.period, Scorecard.employee_id == review.employee_id)
    )


def _entry(card: Scorecard | None, item: str) -> ItemTrace | None:
    return next((entry for entry in (card.items or []) if entry.get("key") == item), None) if card else None


def route_of(session: Session, review: Review) -> str:
    """`manager` when the review's flow (in the version the review follows) lets the employee's
    manager resolve disputes and that manager has a user account; `hr` otherwise."""
    flow = version_config(session, review.version_number).get("approval_flows", {}).get(review.flow, {})
    if (flow.get("disputes") or {}).get("route_to", "manager") == "hr":
        return "hr"
    return "manager" if Directory.load(session).principals("manager", review.employee_id) else "hr"


def routed_principals(dispute: Dispute, directory: Directory) -> set[int]:
    """The users a dispute waits for (never the employee's own): the employee's manager as the
    organisation stands now, so a dispute follows a change of manager, or every HR user."""
    return directory.principals("manager" if dispute.routed_to == "manager" else "role:hr", dispute.employee_id)


def resolving_authority(
    dispute: Dispute, user: User, directory: Directory, stood_in_for: set[int]
) -> tuple[bool, int | None]:
    """Whether `user` may resolve the dispute, and for whom when as a delegate. `stood_in_for`:
    whom the user is a delegate for today."""
    if user.employee_id == dispute.employee_id:
        return False, None
    principals = routed_principals(dispute, directory)
    if user.id in principals or user.has_role(*PRIVILEGED):
        return True, None
    stood_in = principals & stood_in_for
    return (True, min(stood_in)) if stood_in else (False, None)


def may_resolve(
    session: Session, dispute: Dispute, user: User, today: dt.date | None = None
) -> tuple[bool, int | None]:
    if dispute.state != "open":
        return False, None
    return resolving_authority(
        dispute, user, Directory.load(session), delegators(session, user.id, today or dt.date.today())
    )


def may_raise(review: Review | None, user: User) -> bool:
    return review is not None and user.employee_id == review.employee_id and review.state in DISPUTABLE_STATES


def _key(session: Session, dispute: Dispute) -> str:
    code = session.scalar(sa.select(Employee.code).where(Employee.id == dispute.employee_id))
    return f"{dispute.period}:{code}:{dispute.item}"


def _state(dispute: Dispute) -> dict:
    return {
        "id": dispute.id,
        "state": dispute.state,
        "item": dispute.item,
        "routed_to": dispute.routed_to,
        "reason": dispute.reason,
        "resolution": dispute.resolution,
        "correction": dispute.correction,
    }


def _record(session: Session, dispute: Dispute, actor: User, action: str, before: dict | None) -> None:
    """The dispute was raised, resolved or withdrawn: the audit row and the notices (the one place
    such an event happens)."""
    record_change(
        session,
        actor=actor.login,
        action=f"dispute.{action}",
        kind="disputes",
        key=_key(session, dispute),
        before=before,
        after={**_state(dispute), "on_behalf_of": dispute.on_behalf_of},
    )
    review = session.get(Review, dispute.review_id)
    # disputes.review_id is a foreign key, and reviews are never deleted
    assert review is not None, f"dispute {dispute.id}: its review is in the database"
    definition = _definition(session, _card(session, review), dispute.item)
    announce_dispute(
        session,
        dispute,
        action,
        by=actor,
        now=utc_now(),
        item_label=(definition["label"] if definition else None) or dispute.item,
        routed_actor="manager" if dispute.routed_to == "manager" else "role:hr",
    )


def raise_dispute(session: Session, review: Review, user: User, item: str, reason: str | None) -> Dispute:
    """`user`, the review's employee, disputes `item` of their approved or locked scorecard.
    Not committed."""
    if user.employee_id != review.employee_id:
        raise DisputeRefused(f"{user.login} may not dispute someone else's scorecard: only its employee may")
    if review.state not in DISPUTABLE_STATES:
        raise DisputeRefused(
            f"the scorecard is {review.state}"
            + (f" at step {review.step}" if review.step else "")
            + ": it may be disputed once it is approved"
        )
    card = _card(session, review)
    item = (item or "").strip()
    names = [entry["key"] for entry in (card.items or [])] if card else []
    if not item:
        raise DisputeInvalid("item", f"name the item you dispute: one of {', '.join(names)}")
    entry = _entry(card, item)
    if entry is None:
        raise DisputeInvalid("item", f"the scorecard has no item '{item}'{did_you_mean(item, names)}")
    reason = (reason or "").strip()
    if not reason:
        raise DisputeInvalid("reason", "say why: a dispute needs a reason")
    if (
        session.scalar(
            sa.select(Dispute.id).where(
                Dispute.period == review.period,
                Dispute.employee_id == review.employee_id,
                Dispute.item == item,
                Dispute.state == "open",
            )
        )
        is not None
    ):
        raise DisputeRefused(f"'{item}' is already disputed: wait for that dispute to be resolved, or withdraw it")
    dispute = Dispute(
        period=review.period,
        employee_id=review.employee_id,
        review_id=review.id,
        item=item,
        points_raised=entry.get("points"),
        review_state=review.state,
        reason=reason,
        raised_by=user.id,
        raised_at=utc_now(),
        state="open",
        routed_to=route_of(session, review),
    )
    try:
        with session.begin_nested():  # the partial unique index settles two requests at the same moment
            session.add(dispute)
    except sa.exc.IntegrityError:
        raise DisputeRefused(
            f"'{item}' is already disputed: wait for that dispute to be resolved, or withdraw it"
        ) from None
    _record(session, dispute, user, "raise", None)
    return dispute


def _value(raw) -> float:
    if isinstance(raw, bool) or raw is None or (isinstance(raw, str) and not raw.strip()):
        raise DisputeInvalid("correction.value", "give the item's corrected value, 0–100")
    try:
        value = float(raw.strip() if isinstance(raw, str) else raw)
    except (TypeError, ValueError):
        raise DisputeInvalid("correction.value", f"{raw!r} is not a number") from None
    if not math.isfinite(value) or not 0 <= value <= 100:
        raise DisputeInvalid("correction.value", f"{value:g} is outside 0–100")
    return value


def _definition(session: Session, card: Scorecard | None, item: str) -> ItemDefinition | None:
    """The item as the scorecard's configuration version defines it: its kind (manual or kpi),
    label …; None without a scorecard or a version, or for an item the version does not have."""
    if card is None or card.version_number is None:
        return None
    return item_definitions(version_config(session, card.version_number), card.template).get(item)


def _clean_correction(kind: str | None, correction: dict | None) -> dict:
    """The correction an acceptance of this kind of item needs, checked."""
    correction = correction or {}
    if not isinstance(correction, dict):
        raise DisputeInvalid("correction", "must be an object")
    expected = {"value"} if kind == "manual" else {"data_corrected"}
    unknown = sorted(set(correction) - expected)
    if unknown:
        what = (
            "manual item's correction is its value" if kind == "manual" else "KPI item's correction is data_corrected"
        )
        raise DisputeInvalid(f"correction.{unknown[0]}", f"'{unknown[0]}' does not apply: a {what}")
    if kind == "manual":
        return {"value": _value(correction.get("value"))}
    if correction.get("data_corrected") is not True:
        raise DisputeInvalid(
            "correction.data_corrected",
            "a KPI item scores from the data: correct the records, then accept with data_corrected",
        )
    return {"data_corrected": True}


def _lock(session: Session, dispute: Dispute) -> Dispute:
    """Lock the dispute's row until the transaction ends and refresh it with its committed
    state: another resolver (or the employee withdrawing) waits here for this one, then sees
    what it did."""
    return session.scalars(
        sa.select(Dispute).where(Dispute.id == dispute.id).with_for_update().execution_options(populate_existing=True)
    ).one()


def resolve_dispute(
    session: Session,
    dispute: Dispute,
    user: User,
    decision: str,
    resolution: str | None,
    correction: dict | None = None,
    functions: FunctionRegistry | None = None,
    today: dt.date | None = None,
) -> Dispute:
    """Accept (with a correction: rescored, reopened) or reject the dispute, as `user`, with a
    resolution the employee reads. Not committed."""
    if decision not in DECISIONS:
        raise DisputeInvalid("decision", f"unknown decision '{decision}'; use accept or reject")
    _lock(session, dispute)
    if dispute.state != "open":
        raise DisputeRefused(f"the dispute is already {dispute.state}")
    allowed, on_behalf_of = may_resolve(session, dispute, user, today)
    if not allowed:
        own = user.employee_id == dispute.employee_id
        raise DisputeRefused(
            f"{user.login} may not resolve a dispute on their own scorecard"
            if own
            else f"{user.login} may not resolve this dispute: it is routed to "
            + ("the employee's manager" if dispute.routed_to == "manager" else "HR")
        )
    resolution = (resolution or "").strip()
    if not resolution:
        raise DisputeInvalid("resolution", f"say why: {decision}ing a dispute needs a resolution")
    # the review's row too, before the scorecard is touched: a colleague's peer feedback locks it
    # first as well, so the two wait for each other in one order (no deadlock), and the answer
    # that comes second sees the accepted correction
    review = session.scalars(
        sa.select(Review)
        .where(Review.id == dispute.review_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    card = _card(session, review)
    before = _state(dispute)
    if decision == "accept":
        definition = _definition(session, card, dispute.item)
        cleaned = _clean_correction(definition["kind"] if definition else None, correction)
        dispute.correction = _correct(
            session, dispute, review, card, user, cleaned, resolution, on_behalf_of, functions
        )
    dispute.state = "accepted" if decision == "accept" else "rejected"
    dispute.resolution, dispute.resolved_by, dispute.on_behalf_of = resolution, user.id, on_behalf_of
    dispute.resolved_at = utc_now()
    session.flush()
    _record(session, dispute, user, decision, before)
    return dispute


def _correct(
    session: Session,
    dispute: Dispute,
    review: Review,
    card: Scorecard | None,
    user: User,
    cleaned: dict,
    resolution: str,
    on_behalf_of: int | None,
    functions: FunctionRegistry | None,
) -> dict:
    """Apply an accepted correction: the manual value, the rescore, the reopening. What changed."""
    applied = dict(cleaned)
    if "value" in cleaned:
        existing = session.scalar(
            sa.select(ManualValue).where(
                ManualValue.period == dispute.period,
                ManualValue.employee_id == dispute.employee_id,
                ManualValue.item == dispute.item,
            )
        )
        applied["previous_value"] = existing.value if existing else None
        source, now = f"dispute {dispute.id} ({user.login})", utc_now()
        if existing is None:
            session.add(
                ManualValue(
                    period=dispute.period,
                    employee_id=dispute.employee_id,
                    item=dispute.item,
                    value=cleaned["value"],
                    source=source,
                    updated_at=now,
                )
            )
        else:
            existing.value, existing.source, existing.updated_at = cleaned["value"], source, now
        session.flush()
    if card is not None:
        entry = _entry(card, dispute.item)
        applied["total_before"], applied["points_before"] = card.total, entry.get("points") if entry else None
        card.locked = False  # so that it may be scored again; the reopening below is the record of it
        rescored = rescore(session, review, functions)
        if rescored is not None:
            applied["total_after"] = rescored.total
            entry = _entry(rescored, dispute.item)
            applied["points_after"] = entry.get("points") if entry else None
    applied["reopened"] = review.state in DISPUTABLE_STATES
    if applied["reopened"]:
        reopen_review(session, review, user, f"dispute {dispute.id} accepted: {resolution}", on_behalf_of, functions)
    return applied


def withdraw_dispute(session: Session, dispute: Dispute, user: User) -> Dispute:
    """The employee takes back their open dispute. Not committed."""
    if user.employee_id != dispute.employee_id:
        raise DisputeRefused(f"{user.login} may not withdraw someone else's dispute")
    _lock(session, dispute)
    if dispute.state != "open":
        raise DisputeRefused(f"the dispute is already {dispute.state}")
    before = _state(dispute)
    dispute.state, dispute.resolved_at = "withdrawn", utc_now()
    session.flush()
    _record(session, dispute, user, "withdraw", before)
    return dispute


def disputes_for(session: Session, user: User, today: dt.date | None = None, limit: int = 200) -> list[Dispute]:
    """The open disputes waiting for `user` — routed to them, or to someone they stand in for —
    oldest first, in a handful of queries."""
    found = session.scalars(
        sa.select(Dispute).where(Dispute.state == "open").order_by(Dispute.raised_at, Dispute.id)
    ).all()
    if not found:
        return []
    directory = Directory.load(session)
    for_whom = {user.id} | delegators(session, user.id, today or dt.date.today())
    return [
        dispute
        for dispute in found
        if user.employee_id != dispute.employee_id and routed_principals(dispute, directory) & for_whom
    ][:limit]
