"""Configuration: the published versions, and any configuration exported as YAML or JSON; a
target set saved into the draft (targets can come from YAML, CSV or here)."""

from __future__ import annotations

from flask import Response, g
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from ...config.sources import SourceDocument
from ...config.store import apply_documents, clone_template, export_yaml, in_schema_order
from ...config.versions import list_versions, resolve
from ...plugins import load_plugins
from ...problems import ConfigError
from ..auth import token_required
from ..bodies import LARGEST_BODY
from ..db import get_session
from .common import SECURITY, Timestamp, abort, only_for

blp = Blueprint(
    "config", __name__, url_prefix="/api/v1/config", description="Configuration as code: versions, exports, target sets"
)


class ExportArgs(Schema):
    version = fields.Str(load_default="latest", metadata={"description": "a version number, latest, or draft"})
    format = fields.Str(load_default="yaml", validate=validate.OneOf(("yaml", "json")))


class VersionOut(Schema):
    number = fields.Int()
    content_hash = fields.Str()
    message = fields.Str()
    created_at = Timestamp()
    created_by = fields.Str()


class CloneIn(Schema):
    slug = fields.Str(
        required=True,
        validate=validate.Regexp(r"^[a-z][a-z0-9_]{0,63}$"),
        metadata={"description": "the new template's code"},
    )
    departments = fields.List(fields.Str(), load_default=None, metadata={"description": "the new scope (and below)"})
    roles = fields.List(fields.Str(), load_default=None)
    label = fields.Dict(load_default=None, metadata={"description": '{"zh": "…", "en": "…"}'})


class TargetSetIn(Schema):
    label = fields.Dict(required=True, metadata={"description": '{"zh": "…", "en": "…"}'})
    entries = fields.List(
        fields.Dict(),
        required=True,
        metadata={
            "description": "name, period, employee | department | role, value, "
            "and optionally split, weight_attribute, month_shares, decimals"
        },
    )


def config_problems(exc: ConfigError):
    abort(
        422,
        message=f"{len(exc.problems)} problem(s); nothing was saved",
        errors=[{"path": problem.path, "message": problem.message} for problem in exc.problems],
    )


@blp.route("/versions")
class Versions(MethodView):
    @blp.doc(security=SECURITY)
    @blp.response(200, VersionOut(many=True))
    @blp.alt_response(403, description=only_for("admin", "hr", "auditor"))
    @token_required("admin", "hr", "auditor")
    def get(self):
        """The published versions, oldest first."""
        return list_versions(get_session())


@blp.route("")
class Export(MethodView):
    @token_required("admin", "hr", "auditor")
    @blp.alt_response(403, description=only_for("admin", "hr", "auditor"))
    @blp.doc(security=SECURITY)
    @blp.arguments(ExportArgs, location="query")
    @blp.response(200, description="The configuration, {section: [document, …]}, as YAML or JSON")
    @blp.alt_response(404, description="No such version (or nothing published yet, for latest)")
    def get(self, args):
        """Export a published version or the draft, in the format `perfrules config load` reads."""
        try:
            chosen = resolve(get_session(), args["version"])
        except ConfigError as exc:
            abort(404, message="; ".join(problem.message for problem in exc.problems))
        if args["format"] == "json":
            return {
                kind: [in_schema_order(kind, chosen.config[kind][slug]) for slug in sorted(chosen.config[kind])]
                for kind in chosen.config
                if chosen.config[kind]
            }
        return Response(
            export_yaml(chosen.config), mimetype="application/yaml", headers={"X-Perfrules-Configuration": chosen.name}
        )


@blp.route("/templates/<slug>/clone")
class CloneTemplate(MethodView):
    @token_required("admin", "hr")
    @blp.alt_response(403, description=only_for("admin", "hr"))
    @blp.doc(security=SECURITY)
    @blp.arguments(CloneIn)
    @blp.response(201, description="the clone, in the draft")
    @blp.alt_response(422, description="Problems with their paths; nothing was saved")
    def post(self, payload, slug):
        """Clone a draft template for other departments or roles: a new code and scope, everything
        else copied (publish to use it)."""
        session = get_session()
        try:
            clone = clone_template(
                session,
                slug,
                payload["slug"],
                load_plugins().functions,
                g.user.login,
                departments=payload["departments"],
                roles=payload["roles"],
                label=payload["label"],
            )
        except ConfigError as exc:
            session.rollback()
            config_problems(exc)
        session.commit()
        return clone, 201


@blp.route("/targets/<slug>")
class Targets(MethodView):
    @token_required("admin", "hr", max_body=LARGEST_BODY)
    @blp.alt_response(403, description=only_for("admin", "hr"))
    @blp.doc(security=SECURITY)
    @blp.arguments(TargetSetIn)
    @blp.response(200, description="what was saved: added, changed or unchanged")
    @blp.alt_response(422, description="Problems with their paths; nothing was saved")
    def put(self, payload, slug):
        """Save a target set into the draft configuration (publish to use it in runs)."""
        session = get_session()
        document = SourceDocument(kind="targets", index=0, data={"slug": slug, **payload})
        try:
            summary = apply_documents(session, [document], load_plugins().functions, g.user.login)
        except ConfigError as exc:
            session.rollback()
            config_problems(exc)
        session.commit()
        return {"added": summary.added, "changed": summary.changed, "unchanged": summary.unchanged}
