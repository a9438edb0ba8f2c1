"""The home page: what waits for the user, what is there, and where to go next."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask import Blueprint, g, render_template

from ..config.models import ConfigEntry, ConfigVersion
from ..config.schemas import KINDS
from ..data.models import Record
from ..engine.models import EvaluationRun, Scorecard
from ..org.models import Department, Employee, Role, User
from ..workflow.deadlines import review_deadlines
from ..workflow.dispute_models import Dispute
from ..workflow.disputes import disputes_for
from ..workflow.engine import pending_for
from ..workflow.feedback_answers import asked_of
from ..workflow.models import Review
from .auth import login_required
from .db import get_session

bp = Blueprint("pages", __name__)


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
    # the most urgent first: by deadline, then those without one, oldest first
    no_deadline = dt.datetime.max.replace(tzinfo=dt.UTC)
    waiting.sort(key=lambda row: (deadlines[row[0].id].due_at if row[0].id in deadlines else no_deadline, row[0].id))
    disputes = session.execute(
        sa.select(Dispute, Employee.code)
        .join(Employee, Employee.id == Dispute.employee_id)
        .where(Dispute.id.in_([d.id for d in disputes_for(session, g.user)]))
        .order_by(Dispute.raised_at)
    ).all()
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
        waiting_feedback=asked_of(session, g.user, waiting_only=True),
    )
