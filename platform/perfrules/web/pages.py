"""Pages. Until the engine and the console arrive, the home page says plainly what is there."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, g, render_template, request

from ..config.models import ConfigEntry, ConfigVersion
from ..config.schemas import KINDS
from ..data.models import Record
from ..org.models import Department, Employee, Role, User
from .auth import login_required
from .db import get_session

bp = Blueprint("pages", __name__)


def _language() -> str:
    return request.accept_languages.best_match(["zh", "en"], default="zh")


@bp.app_template_filter("label")
def label_filter(value: dict | None) -> str:
    if not isinstance(value, dict):
        return "" if value is None else str(value)
    return value.get(_language()) or value.get("zh") or value.get("en") or ""


@bp.route("/")
@login_required()
def home():
    session = get_session()
    count = lambda model: session.scalar(sa.select(sa.func.count()).select_from(model))  # noqa: E731
    organisation = {"departments": count(Department), "roles": count(Role),
                    "employees": count(Employee), "users": count(User)}
    records = dict(session.execute(sa.select(Record.dataset, sa.func.count()).group_by(Record.dataset)).all())
    datasets = {slug: document for slug, document in session.execute(
        sa.select(ConfigEntry.slug, ConfigEntry.document).where(ConfigEntry.kind == "datasets")
        .order_by(ConfigEntry.slug))}
    configuration = dict(session.execute(
        sa.select(ConfigEntry.kind, sa.func.count()).group_by(ConfigEntry.kind)).all())
    latest = session.scalars(sa.select(ConfigVersion).order_by(ConfigVersion.number.desc()).limit(1)).first()
    return render_template("home.html", user=g.user, organisation=organisation, records=records,
                           datasets=datasets, configuration=configuration, kinds=list(KINDS),
                           latest=latest, language=_language())
