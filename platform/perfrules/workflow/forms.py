"""Appraisal forms (表单) filled in for a scorecard under review.

A template's manual item names the form that collects it (`manual: rating, form: manager_rating`).
The form's `filled_by` says who fills it for an employee's scorecard — `employee`: the employee
(at the self-review step, the flow's `employee` step), `manager`: their manager (at the flow's
`manager` step) — and only while the review is at that step. Nobody fills a manager form for
their own scorecard. `peer` forms are filled by the colleagues asked for them, each their own
answers, at any step and never blocking one (`feedback.py`): they appear here with nobody to
fill them at a step.

A response is saved as a draft or submitted. Submitting checks every field (and that the
required ones are there), then turns the form's ratings into the manual item's points: the
weighted mean of the rating fields, each normalised to 0–100 by (value − min) / (max − min) × 100,
weighted by the field's `weight` (1 when it has none). The points are written as the item's
`ManualValue` and the employee is scored again (a locked scorecard is not). The step that needs
the form cannot be approved until it is submitted.

The forms are those of the template and version the scorecard is scored by now (`steps.scored_by`):
a rerun after a publish moves the scorecard to the new version, and a form the template gained
is offered from then on (`form_offers`); the step each form is filled at is the review's flow's.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..audit import record_change
from ..engine.models import ManualValue, Scorecard
from ..engine.rescore import rescore_employee
from ..formula import FunctionRegistry
from ..org.models import User
from ..plugins import load_plugins
from .actors import Directory
from .corrections import settled_items
from .models import FormResponse, Review
from .steps import WorkflowError, flow_of, scored_by, version_config

#: the step actor at which each kind of form is filled in
STEP_ACTOR = {"employee": "employee", "manager": "manager"}


class FormError(WorkflowError):
    """The values do not fit the form: `errors` maps each field to what is wrong with it."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(f"{name}: {message}" for name, message in errors.items()))


@dataclass
class FormNeed:
    """One form a review's scorecard uses: its definition, the manual items it fills, who fills
    it, and the response so far."""

    slug: str
    definition: dict
    items: list[str]
    filled_by: str
    users: set[int]
    response: FormResponse | None = None
    #: the current step is the one this form is filled at
    at_its_step: bool = field(default=False)

    @property
    def label(self) -> dict:
        return self.definition.get("label") or {}

    @property
    def submitted(self) -> bool:
        return self.response is not None and self.response.state == "submitted"

    def may_fill(self, user: User) -> bool:
        return self.at_its_step and user.id in self.users


def label_text(label: dict, slug: str) -> str:
    return (label or {}).get("en") or (label or {}).get("zh") or slug


def template_forms(snapshot: dict, template: str) -> dict[str, list[str]]:
    """The forms the template uses in the configuration `snapshot` (its items with `form:`), in
    the template's order: form slug → the manual items it fills."""
    definitions = snapshot.get("forms", {})
    items: dict[str, list[str]] = {}
    for section in snapshot.get("templates", {}).get(template, {}).get("sections", []):
        for item in section.get("items", []):
            if item.get("manual") and item.get("form") in definitions:
                items.setdefault(item["form"], []).append(item["manual"])
    return items


def forms_for(session: Session, review: Review) -> list[FormNeed]:
    """The forms the review's scorecard uses (its template's items with `form:`, in the version
    it is scored by), in the template's order."""
    number, template = scored_by(session, review)
    snapshot = version_config(session, number)
    definitions = snapshot.get("forms", {})
    items = template_forms(snapshot, template)
    if not items:
        return []
    directory = Directory.load(session)
    current = next((s for s in flow_of(session, review) if s["name"] == review.step), None)
    responses = {
        r.form: r
        for r in session.scalars(
            sa.select(FormResponse).where(
                FormResponse.period == review.period,
                FormResponse.employee_id == review.employee_id,
                FormResponse.form.in_(list(items)),
            )
        )
    }
    needs = []
    for slug, manual_items in items.items():
        definition = definitions[slug]
        filled_by = definition["filled_by"]
        actor = STEP_ACTOR.get(filled_by)
        users = directory.principals(actor, review.employee_id) if actor else set()
        at_step = (
            review.state == "in_review" and current is not None and actor is not None and current["actor"] == actor
        )
        needs.append(FormNeed(slug, definition, manual_items, filled_by, users, responses.get(slug), at_step))
    return needs


def unsubmitted_form(session: Session, review: Review) -> str | None:
    """Why the review's current step may not be approved yet: a form filled at this step that
    is not submitted ("submit the Manager rating first"), or None."""
    for need in forms_for(session, review):
        if need.at_its_step and need.users and not need.submitted:
            return f"submit the {label_text(need.label, need.slug)} first"
    return None


def _number(raw) -> float:
    if isinstance(raw, bool):
        raise ValueError
    value = float(raw.strip() if isinstance(raw, str) else raw)
    if not math.isfinite(value):
        raise ValueError
    return value


def clean_values(definition: dict, values: dict, submit: bool) -> dict:
    """The values checked against the form's fields and converted (ratings and numbers to
    numbers, empty answers left out); FormError naming each field that is wrong."""
    if not isinstance(values, dict):
        raise FormError({"values": "must be an object of field names to answers"})
    known = {f["name"]: f for f in definition.get("fields", [])}
    errors: dict[str, str] = {}
    for name in values:
        if name not in known:
            errors[str(name)] = "not a field of this form"
    cleaned: dict = {}
    for name, spec in known.items():
        raw = values.get(name)
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            if submit and spec.get("required", True):
                errors[name] = "required"
            continue
        kind, low, high = spec["type"], spec.get("min"), spec.get("max")
        if kind in ("rating", "number"):
            try:
                value = _number(raw)
            except (TypeError, ValueError):
                errors[name] = f"{raw!r} is not a number"
                continue
            if (low is not None and value < low) or (high is not None and value > high):
                errors[name] = (
                    f"{value:g} is outside {low:g}–{high:g}"
                    if low is not None and high is not None
                    else (
                        f"{value:g} is below {low:g}"
                        if low is not None and value < low
                        else f"{value:g} is above {high:g}"
                    )
                )
                continue
            cleaned[name] = int(value) if value.is_integer() else value
        elif kind == "choice":
            options = [o["value"] for o in spec.get("options") or []]
            if str(raw) not in options:
                errors[name] = f"{raw!r} is not one of {', '.join(options)}"
                continue
            cleaned[name] = str(raw)
        else:
            if not isinstance(raw, str):
                errors[name] = "must be text"
                continue
            cleaned[name] = raw.strip()
    if errors:
        raise FormError(errors)
    return cleaned


def points(definition: dict, values: dict) -> float | None:
    """The weighted mean of the answered rating fields, each normalised to 0–100."""
    total = weights = 0.0
    for spec in definition.get("fields", []):
        if spec["type"] != "rating" or values.get(spec["name"]) is None:
            continue
        weight = spec.get("weight") or 1.0
        total += weight * (values[spec["name"]] - spec["min"]) / (spec["max"] - spec["min"]) * 100
        weights += weight
    return None if not weights else total / weights


def save_response(
    session: Session,
    review: Review,
    user: User,
    form_slug: str,
    values: dict,
    submit: bool,
    functions: FunctionRegistry | None = None,
) -> FormResponse:
    """Save `user`'s answers to a form of the review's scorecard, as a draft or submitted.
    WorkflowError when it is not theirs to fill now, FormError when an answer does not fit.
    Submitting writes the manual items' points and scores the employee again. Not committed."""
    need = next((n for n in forms_for(session, review) if n.slug == form_slug), None)
    if need is None:
        raise WorkflowError(f"this scorecard has no form '{form_slug}'")
    if need.filled_by == "peer":
        raise WorkflowError(
            f"the {label_text(need.label, form_slug)} is filled by the colleagues asked for it, "
            "each through their own feedback request"
        )
    if user.employee_id == review.employee_id and need.filled_by != "employee":
        raise WorkflowError(f"{user.login} may not fill the {label_text(need.label, form_slug)} of their own scorecard")
    if not need.may_fill(user):
        raise WorkflowError(
            f"{user.login} may not fill the {label_text(need.label, form_slug)} now (the scorecard is "
            f"{review.state}" + (f" at step {review.step}" if review.step else "") + ")"
        )
    if not submit and need.submitted:
        raise WorkflowError(
            f"the {label_text(need.label, form_slug)} is already submitted: submit it again to change it"
        )
    cleaned = clean_values(need.definition, values, submit)
    now = dt.datetime.now(dt.UTC)
    response = need.response
    before = None if response is None else {"state": response.state, "values": response.values}
    if response is None:
        response = FormResponse(
            period=review.period,
            employee_id=review.employee_id,
            form=form_slug,
            filled_by=user.id,
            values=cleaned,
            state="draft",
            updated_at=now,
        )
        session.add(response)
    response.filled_by, response.values, response.updated_at = user.id, cleaned, now
    after: dict = {"state": "submitted" if submit else "draft", "values": cleaned}
    if submit:
        response.state, response.submitted_at = "submitted", now
        score = points(need.definition, cleaned)
        # an accepted dispute's corrected value stands: the form's ratings no longer change it
        settled = settled_items(session, review.period, review.employee_id, need.items)
        scored = [item for item in need.items if item not in settled]
        if settled:
            after["kept"] = {item: f"corrected by dispute {dispute_id}" for item, dispute_id in settled.items()}
        if score is not None and scored:
            earlier = write_points(session, review, scored, score, f"form {form_slug} ({user.login})", now)
            before = {**(before or {}), "points": earlier}
            after["points"] = dict.fromkeys(scored, score)
    else:
        response.state = "draft"
    session.flush()
    record_change(
        session,
        actor=user.login,
        action="form.submit" if submit else "form.save",
        kind="form_responses",
        key=f"{review.period}:{review.employee_id}:{form_slug}",
        before=before,
        after=after,
    )
    if submit and "points" in after:
        rescore(session, review, functions)
    return response


def write_points(
    session: Session, review: Review, items: list[str], score: float, source: str, now: dt.datetime
) -> dict[str, float]:
    """Write `score` as the value of each manual item of the review's employee and period; the
    values the items had before (for the audit log)."""
    existing = {
        m.item: m
        for m in session.scalars(
            sa.select(ManualValue).where(
                ManualValue.period == review.period,
                ManualValue.employee_id == review.employee_id,
                ManualValue.item.in_(items),
            )
        )
    }
    earlier = {item: m.value for item, m in existing.items()}
    for item in items:
        if item in existing:
            existing[item].value, existing[item].source, existing[item].updated_at = score, source, now
        else:
            session.add(
                ManualValue(
                    period=review.period,
                    employee_id=review.employee_id,
                    item=item,
                    value=score,
                    source=source,
                    updated_at=now,
                )
            )
    return earlier


def rescore(session: Session, review: Review, functions: FunctionRegistry | None = None) -> Scorecard | None:
    """Score the review's employee again with their scorecard's version (not a locked one)."""
    card = session.scalar(
        sa.select(Scorecard).where(Scorecard.period == review.period, Scorecard.employee_id == review.employee_id)
    )
    if card is None or card.locked or card.version_number is None:
        return None
    return rescore_employee(
        session,
        review.period,
        review.employee_id,
        version_config(session, card.version_number),
        functions if functions is not None else load_plugins().functions,
    )
