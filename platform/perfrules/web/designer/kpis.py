"""KPIs in the designer (admin and HR): the list, and the KPI editor with its formula editor,
the scoring (linear, bands or a formula) and a preview for an employee of the latest run's
period, saved into the draft."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from ...config import drafts
from ...config.permissions import reach_of
from ...config.schemas import DIRECTIONS, MISSING_POLICIES
from ...config.store import working_config
from ...engine.models import EvaluationRun
from ...plugins import load_plugins
from ...problems import ConfigError
from ..auth import login_required
from ..db import get_session
from .blueprint import CONFIG_ROLES, bp
from .display import code_names
from .form_reading import (
    Document,
    Form,
    errors_getter,
    form_number,
    form_text,
    problems_by_path,
    put_given,
    row_indices,
)
from .registry import document_from_form, register

SCORING_TYPES = ("linear", "bands", "formula")
LINEAR_KEYS = ("value_from", "value_to", "points_from", "points_to", "floor", "cap")


def kpi_from_form(form: Form, slug: str) -> Document:
    """The KPI document the editor's fields describe; of the scoring, only the chosen type's fields."""
    document: Document = {
        "slug": slug,
        "label": {"zh": form_text(form, "label_zh"), "en": form_text(form, "label_en")},
        "formula": form_text(form, "formula"),
    }
    for key in ("description", "format"):
        put_given(document, key, form_text(form, key))
    unit = {"zh": form_text(form, "unit_zh"), "en": form_text(form, "unit_en")}
    if unit["zh"] and unit["en"] and unit["zh"] != unit["en"]:
        document["unit"] = unit
    elif unit["zh"] or unit["en"]:  # the same in both languages: one text
        document["unit"] = unit["zh"] or unit["en"]
    document["direction"] = form_text(form, "direction") or "higher"
    document["missing"] = form_text(form, "missing") or "zero"
    kind = form_text(form, "scoring_type") or "linear"
    scoring: Document = {"type": kind}
    if kind == "linear":
        for key in LINEAR_KEYS:
            put_given(scoring, key, form_number(form, key))
    elif kind == "bands":
        scoring["bands"] = []
        for k in row_indices(form, "b-", "-min"):
            band: Document = {}
            put_given(band, "min", form_number(form, f"b-{k}-min"))
            put_given(band, "points", form_number(form, f"b-{k}-points"))
            if band:
                scoring["bands"].append(band)
        put_given(scoring, "otherwise", form_number(form, "otherwise"))
    else:
        put_given(scoring, "formula", form_text(form, "scoring_formula"))
    document["scoring"] = scoring
    return document


register(
    "kpis", kpi_from_form, ("label", "description", "formula", "unit", "format", "direction", "missing", "scoring")
)


@bp.route("/kpis")
@login_required(*CONFIG_ROLES)
def kpis():
    session = get_session()
    config = working_config(session)
    scoring_names = {"linear": _("linear"), "bands": _("bands"), "formula": _("formula")}
    return render_template(
        "designer/kpis.html", kpis=sorted(config.get("kpis", {}).items()), scoring_names=scoring_names, **code_names()
    )


def _latest_period(session: Session) -> str:
    """The period of the latest successful run: what a preview starts with."""
    period = session.scalar(
        sa.select(EvaluationRun.period)
        .where(EvaluationRun.status == "succeeded")
        .order_by(EvaluationRun.id.desc())
        .limit(1)
    )
    return period or ""


def _render_kpi(
    session: Session,
    config: dict,
    slug: str,
    kpi: Document,
    by_path: dict[str, list[str]] | None = None,
    listed: list[tuple[str, str]] | None = None,
    status: int = 200,
    *,
    new: bool = False,
) -> tuple[str, int]:
    period = _latest_period(session)
    used_by = [
        template_slug
        for template_slug, template in sorted(config.get("templates", {}).items())
        if any(item.get("kpi") == slug for section in template["sections"] for item in section["items"])
    ]
    return render_template(
        "designer/edit_kpi.html",
        slug=slug,
        new=new,
        kpi=kpi,
        errors=errors_getter(by_path or {}),
        problems=listed or [],
        directions=DIRECTIONS,
        policies=MISSING_POLICIES,
        scoring_types=SCORING_TYPES,
        linear_keys=LINEAR_KEYS,
        period=period,
        used_by=used_by,
        **code_names(),
    ), status


def _save_kpi(session: Session, config: dict, slug: str, stored: Document | None, *, new: bool):
    document = document_from_form("kpis", request.form, slug, stored)
    reach = reach_of(session, g.user)
    try:
        summary = drafts.save_document(
            session, reach, g.user.login, "kpis", slug, document, load_plugins().functions, new=new
        )
    except ConfigError as exc:
        session.rollback()
        by_path, listed = problems_by_path(exc)
        return _render_kpi(session, config, slug, document, by_path, listed, 422, new=new)
    session.commit()
    flash(_("Saved into the draft.") if summary.changed or summary.added else _("Nothing changed."), "success")
    return redirect(url_for("designer.edit_kpi", slug=slug))


@bp.route("/kpis/new", methods=["GET", "POST"])
@login_required(*CONFIG_ROLES)
def new_kpi():
    session = get_session()
    config = working_config(session)
    if request.method == "GET":
        blank: Document = {
            "label": {},
            "formula": "",
            "direction": "higher",
            "missing": "zero",
            "scoring": {"type": "linear", "value_from": 0.0, "value_to": 1.0, "points_from": 0.0, "points_to": 100.0},
        }
        return _render_kpi(session, config, "", blank, new=True)
    return _save_kpi(session, config, form_text(request.form, "slug"), None, new=True)


@bp.route("/kpis/<slug>", methods=["GET", "POST"])
@login_required(*CONFIG_ROLES)
def edit_kpi(slug: str):
    session = get_session()
    config = working_config(session)
    stored = config.get("kpis", {}).get(slug)
    if stored is None:
        abort(404)
    if request.method == "GET":
        return _render_kpi(session, config, slug, stored)
    return _save_kpi(session, config, slug, stored, new=False)
