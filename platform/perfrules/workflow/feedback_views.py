"""What a scorecard shows of its peer feedback, to whom: each answer with who gave it to its
readers; to anyone else who may see the scorecard, counts, means and written answers, without
names on an anonymous form, and only from ANONYMITY_MINIMUM answers (see `feedback`)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..org.models import Employee, User
from .feedback import (
    ANONYMITY_MINIMUM,
    counts,
    may_ask,
    may_propose,
    mean_points,
    requests_of,
    sees_answers,
    settled_for,
)
from .forms import FormNeed
from .models import Review


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
    requests = requests_of(session, review, need.slug)
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
    mean, _ = mean_points(need.definition, [r.values for r in submitted])
    anonymous = need.definition.get("anonymous") is not False
    individual = sees_answers(session, review, user)
    settled = bool(settled_for(session, review, need))
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
