"""Previews of a metric and a template while they are edited: the document as the editor holds
it, worked out for one employee and period on the draft configuration with the document in
place — nothing is written — and the people to preview, found by a search.

The document is checked as saving it would check it (its shape, then how it fits the draft), and
its problems come back as 422 with their paths inside it (`json.document.filter`); a problem it
would cause in another document keeps that document's path. Only its slug and label may be left
out: a preview needs neither (they default to `preview` and the slug).

When the employee has no data for what is previewed, `no_data` says why and `suggestions` names
up to three people the user may see who have: a link to preview them instead.
"""

from __future__ import annotations

import json
from typing import Any, NoReturn

import sqlalchemy as sa
from flask import g
from flask.views import MethodView
from flask_babel import gettext
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from ...config.permissions import CONFIG_ROLES
from ...config.sources import SourceDocument
from ...config.store import validate_documents, working_config
from ...config.validation import Config
from ...db import begin_reading
from ...engine.periods import Period, PeriodError, period_from_text
from ...engine.preview import PreviewError
from ...engine.preview_documents import preview_metric, preview_template
from ...org.access import Visibility, visibility
from ...org.models import Department, Employee
from ...plugins import load_plugins
from ...problems import ConfigError
from ..auth import token_required
from ..bodies import DOCUMENT_BODY
from ..db import get_session
from ..i18n import label_language
from .common import SECURITY, abort, only_for

blp = Blueprint(
    "previews",
    __name__,
    url_prefix="/api/v1/formulas",
    description="Previews of a metric and a template being edited, for one employee and period; the people to preview",
)

PREVIEW_ROLES = ("admin", "hr", "manager")
#: the largest document a preview takes, as JSON characters (the seed's largest template is ~3,000)
MAX_DOCUMENT = 100_000
PLACEHOLDER_SLUG = "preview"
SEARCH_LIMIT = 20


class PreviewDocumentIn(Schema):
    document = fields.Dict(
        required=True, metadata={"description": "the document as the editor holds it, in the export's shape"}
    )
    employee = fields.Str(required=True, validate=validate.Length(min=1, max=64), metadata={"description": "code"})
    period = fields.Str(
        required=True,
        validate=validate.Length(min=1, max=32),
        metadata={"description": "2026-10, 2026-Q4 … or last-month"},
    )


class EmployeeSearchArgs(Schema):
    q = fields.Str(
        load_default="", validate=validate.Length(max=100), metadata={"description": "part of a code or name"}
    )


def _reading():
    """The request's session as a reader: previews never hold SQLite's write lock."""
    session = get_session()
    session.rollback()
    return begin_reading(session)


def _unprocessable(problems: list[dict[str, str]]) -> NoReturn:
    abort(422, message=f"{len(problems)} problem(s)", errors=problems)


def _path(section: str, path: str) -> str:
    """`metrics[0].filter` (the previewed document) → `json.document.filter`; another
    document's path stays as it is."""
    own = f"{section}[0]"
    if path == own:
        return "json.document"
    if path.startswith(own + "."):
        return "json.document." + path[len(own) + 1 :]
    if path.startswith(own + "["):
        return "json.document" + path[len(own) :]
    return path


def _subject(session, payload: dict[str, Any]) -> tuple[Visibility, Period]:
    """Who may be seen, and the period; 422 for a period that is not one, 404 for an employee the
    user may not see (or who does not exist)."""
    try:
        period = period_from_text(payload["period"])
    except PeriodError as exc:
        _unprocessable([{"path": "json.period", "message": str(exc)}])
    employee = session.execute(
        sa.select(Employee.id, Employee.department_id).where(Employee.code == payload["employee"])
    ).first()
    seen = visibility(g.user)
    if employee is None or not seen.allows(session, employee.department_id, employee.id):
        abort(404, message=f"no employee {payload['employee']} that you may see")
    return seen, period


def _with_document(session, section: str, document: dict[str, Any]) -> tuple[Config, str]:
    """The draft with `document` in place (checked as saving it would be), and its slug."""
    if len(json.dumps(document, ensure_ascii=False, default=str)) > MAX_DOCUMENT:
        _unprocessable(
            [{"path": "json.document", "message": f"too large for a preview (over {MAX_DOCUMENT:,} characters)"}]
        )
    data = dict(document)
    slug = data.get("slug") or PLACEHOLDER_SLUG
    data["slug"] = slug
    given = data.get("label")
    label: dict[str, Any] = given if isinstance(given, dict) else {}
    if not (label.get("zh") and label.get("en")):  # a name is not needed to preview
        data["label"] = {
            "zh": label.get("zh") or label.get("en") or str(slug),
            "en": label.get("en") or label.get("zh") or str(slug),
        }
    try:
        config = validate_documents(
            [SourceDocument(section, 0, data)], working_config(session), load_plugins().functions
        )
    except ConfigError as exc:
        _unprocessable([{"path": _path(section, problem.path), "message": problem.message} for problem in exc.problems])
    return config, slug


@blp.route("/preview-metric")
class MetricPreviewView(MethodView):
    @token_required(*CONFIG_ROLES, max_body=DOCUMENT_BODY)
    @blp.alt_response(403, description=only_for(*CONFIG_ROLES))
    @blp.doc(security=SECURITY)
    @blp.arguments(PreviewDocumentIn)
    @blp.response(
        200,
        description="{metric, employee, name, department, period, description, counted, value, records, "
        "start, end, scope, no_data, suggestions: [{employee, name, department, records}]}: the value, "
        "the records counted (filter, window and scope), what was counted in words",
    )
    @blp.alt_response(404, description="no such employee, or not one you may see")
    @blp.alt_response(422, description="the document, the employee or the period has problems, with their paths")
    def post(self, payload):
        """A metric as edited, for one employee and period, on the draft; nothing is written. Admin
        and HR only: a metric's filter and scope reach records of people a manager may not see."""
        session = _reading()
        seen, period = _subject(session, payload)
        config, slug = _with_document(session, "metrics", payload["document"])
        try:
            result = preview_metric(session, config, load_plugins().functions, slug, payload["employee"], period, seen)
        except PreviewError as exc:
            abort(404, message=str(exc))
        return result.to_dict()


@blp.route("/preview-template")
class TemplatePreviewView(MethodView):
    @token_required(*PREVIEW_ROLES, max_body=DOCUMENT_BODY)
    @blp.alt_response(403, description=only_for(*PREVIEW_ROLES))
    @blp.doc(security=SECURITY)
    @blp.arguments(PreviewDocumentIn)
    @blp.response(
        200,
        description="{template, employee, name, department, period, total, grade, error, items: [{key, kind, "
        "label, section, value, score, weight, points, sentence, notes, inputs, target, …}], applies, "
        "assigned, notes, warnings, no_data, suggestions}: the template scored for the employee whether or not "
        "it applies to them (`applies`, and `assigned`: the template they are on instead); items in words in "
        "the user's language",
    )
    @blp.alt_response(404, description="no such employee, or not one you may see")
    @blp.alt_response(422, description="the document, the employee or the period has problems, with their paths")
    def post(self, payload):
        """A template as edited, scored for one employee and period on the draft; nothing is written."""
        session = _reading()
        seen, period = _subject(session, payload)
        config, slug = _with_document(session, "templates", payload["document"])
        try:
            result = preview_template(
                session,
                config,
                load_plugins().functions,
                slug,
                payload["employee"],
                period,
                seen,
                label_language(),
                gettext,
            )
        except PreviewError as exc:
            abort(404, message=str(exc))
        return result.to_dict()


@blp.route("/preview-employees")
class PreviewEmployees(MethodView):
    @token_required(*PREVIEW_ROLES)
    @blp.alt_response(403, description=only_for(*PREVIEW_ROLES))
    @blp.doc(security=SECURITY)
    @blp.arguments(EmployeeSearchArgs, location="query")
    @blp.response(200, description="{employees: [{employee, name, department}]}: up to 20, by code")
    def get(self, args):
        """Active employees you may see whose code or name holds `q`: the people a preview can be for."""
        session = _reading()
        seen = visibility(g.user)
        query = (
            sa.select(Employee.code, Employee.name, Department.code)
            .join(Department, Department.id == Employee.department_id)
            .where(Employee.active.is_(True), seen.condition(Employee.department_id, Employee.id))
            .order_by(Employee.code)
            .limit(SEARCH_LIMIT)
        )
        words = args["q"].strip()
        if words:
            query = query.where(
                sa.or_(Employee.code.icontains(words, autoescape=True), Employee.name.icontains(words, autoescape=True))
            )
        return {
            "employees": [
                {"employee": code, "name": name, "department": department}
                for code, name, department in session.execute(query)
            ]
        }
