"""The home page: what waits for the user, what is there, and where to go next."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask import Blueprint, g, render_template

from ..config.models import ConfigEntry, ConfigVersion
from ..config.permissions import CONFIG_ROLES
from ..config.schemas import KINDS
from ..config.submissions import submissions
from ..data.models import Record
from ..engine.models import EvaluationRun, Scorecard
from ..engine.scorecards import item_definitions
from ..org.models import Department, Employee, Role, User
from ..workflow.deadlines import flow_steps, review_deadlines
from ..workflow.dispute_models import Dispute
from ..workflow.disputes import disputes_for
from ..workflow.engine import pending_for
from ..workflow.feedback_answers import asked_of
from ..workflow.models import Review
from ..workflow.steps import version_config
from .auth import login_required
from .db import get_session
from .words import step_name

bp = Blueprint("pages", __name__)


def _templates_to_review(session) -> list[dict]:
    """The templates submitted for approval, the oldest first, with their labels in the draft."""
    waiting = sorted(
        (row for row in submissions(session).values() if row.state == "submitted"),
        key=lambda row: (row.submitted_at is None, row.submitted_at, row.slug),
    )
    labels = dict(
        session.execute(
            sa.select(ConfigEntry.slug, ConfigEntry.document).where(
                ConfigEntry.kind == "templates", ConfigEntry.slug.in_([row.slug for row in waiting])
            )
        ).all()
    )
    return [
        {
            "slug": row.slug,
            "label": (labels.get(row.slug) or {}).get("label"),
            "by": row.submitted_by,
            "at": row.submitted_at,
            "comment": row.comment,
        }
        for row in waiting
    ]


def _item_labels(session, disputes: list[Dispute]) -> dict[int, dict | None]:
    """The label of each dispute's item (by dispute id), as its scorecard's version defines it."""
    if not disputes:
        return {}
    cards = {
        (row.period, row.employee_id): (row.version_number, row.template)
        for row in session.execute(
            sa.select(Scorecard.period, Scorecard.employee_id, Scorecard.version_number, Scorecard.template).where(
                Scorecard.employee_id.in_(sorted({d.employee_id for d in disputes})),
                Scorecard.period.in_(sorted({d.period for d in disputes})),
            )
        )
    }
    definitions: dict[tuple[int, str], dict] = {}
    labels = {}
    for dispute in disputes:
        number, template = cards.get((dispute.period, dispute.employee_id), (None, ""))
        if number is not None and (number, template) not in definitions:
            definitions[(number, template)] = item_definitions(version_config(session, number), template)
        labels[dispute.id] = definitions.get((number, template), {}).get(dispute.item, {}).get("label")
    return labels


@bp.route("/")
@login_required()
def home():
    session = get_session()
    count = lambda model: session.scalar(sa.select(sa.func.count()).select_from(model))  # noqa: E731
    organisation = {
        "departments": count(Department),
        "roles": count(Role),
        "employees": count(Employee),
        "users": count(User),
    }
    records = dict(session.execute(sa.select(Record.dataset, sa.func.count()).group_by(Record.dataset)).all())
    datasets = dict(
        session.execute(
            sa.select(ConfigEntry.slug, ConfigEntry.document)
            .where(ConfigEntry.kind == "datasets")
            .order_by(ConfigEntry.slug)
        ).all()
    )
    configuration = dict(session.execute(sa.select(ConfigEntry.kind, sa.func.count()).group_by(ConfigEntry.kind)).all())
    latest = session.scalars(sa.select(ConfigVersion).order_by(ConfigVersion.number.desc()).limit(1)).first()
    last_run = session.scalars(sa.select(EvaluationRun).order_by(EvaluationRun.id.desc()).limit(1)).first()
    waiting = [
        (review, code)
        for review, code in session.execute(
            sa.select(Review, Employee.code)
            .join(Employee, Employee.id == Review.employee_id)
            .where(Review.id.in_([r.id for r in pending_for(session, g.user)]))
        )
    ]
    deadlines = review_deadlines(session, [review for review, _ in waiting])
    steps = flow_steps(session, {(review.version_number, review.flow) for review, _ in waiting})
    step_names = {
        review.id: step_name(steps[(review.version_number, review.flow)].get(review.step or ""), review.step)
        for review, _ in waiting
    }
    # the most urgent first: by deadline, then those without one, oldest first
    no_deadline = dt.datetime.max.replace(tzinfo=dt.UTC)
    waiting.sort(key=lambda row: (deadlines[row[0].id].due_at if row[0].id in deadlines else no_deadline, row[0].id))
    disputes = session.execute(
        sa.select(Dispute, Employee.code)
        .join(Employee, Employee.id == Dispute.employee_id)
        .where(Dispute.id.in_([d.id for d in disputes_for(session, g.user)]))
        .order_by(Dispute.raised_at)
    ).all()
    item_labels = _item_labels(session, [dispute for dispute, _ in disputes])
    own = None
    if g.user.employee_id is not None:
        own = session.execute(
            sa.select(Scorecard.period, Scorecard.total, Scorecard.grade)
            .where(Scorecard.employee_id == g.user.employee_id)
            .order_by(Scorecard.period.desc())
            .limit(1)
        ).first()
    return render_template(
        "home.html",
        step_names=step_names,
        to_review=_templates_to_review(session) if g.user.has_role(*CONFIG_ROLES) else [],
        organisation=organisation,
        records=records,
        datasets=datasets,
        configuration=configuration,
        kinds=list(KINDS),
        latest=latest,
        last_run=last_run,
        own=own,
        sees_all=g.user.has_role("admin", "hr", "auditor"),
        waiting=waiting,
        deadlines=deadlines,
        now=dt.datetime.now(dt.UTC),
        waiting_disputes=disputes,
        item_labels=item_labels,
        waiting_feedback=asked_of(session, g.user, waiting_only=True),
    )
