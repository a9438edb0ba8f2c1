"""The draft configuration, one document at a time, as the designer edits it: list, read, create,
replace, check and remove documents of every kind, and publish (the whole draft, or templates
with the draft documents they depend on). Documents are JSON in the export's shape; problems
answer 422 with paths inside the document (`sections[0].weight`), or another document's path
(`templates.rep.sections[0].items[0].kpi`) for what the change would break there.

Who may do what is `config.permissions`, as in the designer: admin and HR everything, a manager
the templates of their own part of the organisation, anyone else nothing. The token is checked
before the body is read; a body is one JSON object of at most `bodies.LARGEST_BODY` (a target
set for a large company is one document)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import g, request, url_for
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, ValidationError, fields, validate
from sqlalchemy.orm import Session
from werkzeug.exceptions import BadRequest

from ...config import drafts
from ...config.permissions import reach_of
from ...config.schemas import KINDS
from ...config.store import in_schema_order, working_config
from ...config.validation import Config
from ...config.versions import latest_version
from ...plugins import load_plugins
from ...problems import ConfigError, flatten_messages, format_path
from .. import bodies
from ..auth import token_required
from ..db import get_session
from .common import SECURITY, abort

blp = Blueprint(
    "drafts",
    __name__,
    url_prefix="/api/v1/config",
    description="The draft configuration, document by document, and publishing it",
)

KIND_PARAMETER = {
    "in": "path",
    "name": "kind",
    "required": True,
    "description": "the kind of document (an unknown kind answers 404)",
    "schema": {"type": "string", "enum": list(drafts.SECTIONS)},
}
SLUG_PARAMETER = {
    "in": "path",
    "name": "slug",
    "required": True,
    "description": "the document's code",
    "schema": {"type": "string", "pattern": drafts.SLUG_PATTERN},
}
#: the request body of a create or a replace: the document of the kind in the address
DOCUMENT_BODY = {
    "required": True,
    "description": f"The document, as the export has it (at most {bodies.words(bodies.LARGEST_BODY)}): one of these "
    "shapes, the one of the kind in the address. On a replace, `slug` may be left out.",
    "content": {"application/json": {"schema": {"oneOf": list(KINDS.values())}}},
}
PROBLEMS = "Problems, each with its path inside the document (or another document's); nothing was changed"


class DryRunArgs(Schema):
    dry_run = fields.Bool(
        load_default=False,
        metadata={
            "description": "check only: every check the call makes, nothing saved; answers 200 with "
            "`errors: []`, or 422 with the problems, as the call itself would"
        },
    )


class PublishIn(Schema):
    message = fields.Str(required=True, metadata={"description": "what changed, for the version's history"})
    templates = fields.List(
        fields.Str(),
        load_default=None,
        validate=validate.Length(min=1, error="name at least one template, or leave templates out"),
        metadata={
            "description": "publish only these templates, with the draft documents they use that are new "
            "or changed; left out: the whole draft"
        },
    )


class ChangeOut(Schema):
    kind = fields.Str()
    slug = fields.Str()
    change = fields.Str(metadata={"description": "new, changed or removed"})


class AlsoChangesOut(Schema):
    kind = fields.Str()
    slug = fields.Str()
    templates = fields.List(fields.Str(), metadata={"description": "published templates that use it"})


class PublishedOut(Schema):
    version = fields.Int()
    content_hash = fields.Str()
    message = fields.Str()
    documents = fields.List(fields.Nested(ChangeOut), metadata={"description": "what this version changes"})
    also_changes = fields.List(
        fields.Nested(AlsoChangesOut),
        metadata={"description": "published documents changed for the templates named, that other templates use"},
    )


# --- the request and the service's answers ----------------------------------------------------


def _json_object(what: str) -> dict:
    """The request's body, one JSON object (`what` it should be, for the refusal)."""
    if not request.is_json:
        abort(415, message="send JSON, with Content-Type: application/json")
    try:
        data = request.get_json()
    except BadRequest:
        abort(400, message="the body is not valid JSON")
    if not isinstance(data, dict):
        message = f"the body must be a JSON object: {what}"
        abort(422, message=message, errors=[{"path": "", "message": message}])
    return data


def _problems(exc: ConfigError, outcome: str):
    abort(
        422,
        message=f"{len(exc.problems)} problem(s); {outcome}",
        errors=[{"path": problem.path, "message": problem.message} for problem in exc.problems],
    )


@contextmanager
def _service(session: Session, outcome: str = "nothing was saved") -> Iterator[None]:
    """The configuration service's refusals as HTTP errors, and nothing of the request kept."""
    try:
        yield
    except drafts.NotFound as exc:
        session.rollback()
        abort(404, message=str(exc))
    except drafts.Forbidden as exc:
        session.rollback()
        abort(403, message=str(exc))
    except ConfigError as exc:
        session.rollback()
        _problems(exc, outcome)


def _section(kind: str) -> str:
    """The configuration section of a kind; 404 for an unknown kind (before any body is read)."""
    try:
        return drafts.section_of(kind)
    except drafts.NotFound as exc:
        abort(404, message=str(exc))


def _stored(session: Session, kind: str, slug: str) -> dict:
    section = _section(kind)
    return in_schema_order(section, working_config(session)[section][slug])


def _save(kind: str, slug: str, document: dict, *, new: bool, dry_run: bool):
    """Create or replace a document (or only check it): the stored document, or the problems."""
    session = get_session()
    reach = reach_of(session, g.user)
    functions = load_plugins().functions
    with _service(session):
        if dry_run:
            problems = drafts.check_document(session, reach, kind, slug, document, functions, new=new)
            if problems:
                raise ConfigError(problems)
            return {"errors": []}, 200
        drafts.save_document(session, reach, g.user.login, kind, slug, document, functions, new=new)
        stored = _stored(session, kind, slug)
    session.commit()
    if new:
        return stored, 201, {"Location": url_for("drafts.Document", kind=kind, slug=slug)}
    return stored, 200


# --- documents ----------------------------------------------------------------------------------


@blp.route("/draft/<kind>", parameters=[KIND_PARAMETER])
class Documents(MethodView):
    @token_required()
    @blp.doc(security=SECURITY)
    @blp.response(200, description="The documents of the kind you may read, by slug, in the export's shape")
    @blp.alt_response(403, description="you may not work with this kind")
    @blp.alt_response(404, description="no such kind")
    def get(self, kind):
        """The draft's documents of a kind."""
        session, section = get_session(), _section(kind)
        with _service(session):
            documents = drafts.list_documents(session, reach_of(session, g.user), kind)
        return [in_schema_order(section, document) for document in documents.values()]

    @token_required(max_body=bodies.LARGEST_BODY)
    @blp.doc(security=SECURITY, requestBody=DOCUMENT_BODY)
    @blp.arguments(DryRunArgs, location="query")
    @blp.response(201, description="The document as stored (defaults filled in); Location names it")
    @blp.alt_response(403, description="you may not create documents of this kind (or of this scope)")
    @blp.alt_response(404, description="no such kind")
    @blp.alt_response(422, description=f"{PROBLEMS}; a slug taken already is one, at path `slug`")
    @blp.alt_response(415, description="A body not sent as application/json")
    def post(self, args, kind):
        """Create a document in the draft (publish to use it)."""
        _section(kind)
        document = _json_object(f"the new {kind} document, with its slug")
        slug = document.get("slug")
        return _save(kind, "" if slug is None else str(slug), document, new=True, dry_run=args["dry_run"])


@blp.route("/draft/<kind>/<slug>", parameters=[KIND_PARAMETER, SLUG_PARAMETER])
class Document(MethodView):
    @token_required()
    @blp.doc(security=SECURITY)
    @blp.response(200, description="The document, in the export's shape")
    @blp.alt_response(403, description="you may not read it")
    @blp.alt_response(404, description="no such kind, or no such document in the draft")
    def get(self, kind, slug):
        """One document of the draft."""
        session = get_session()
        with _service(session):
            document = drafts.read_document(session, reach_of(session, g.user), kind, slug)
        return in_schema_order(_section(kind), document)

    @token_required(max_body=bodies.LARGEST_BODY)
    @blp.doc(security=SECURITY, requestBody=DOCUMENT_BODY)
    @blp.arguments(DryRunArgs, location="query")
    @blp.response(200, description="The document as stored")
    @blp.alt_response(403, description="you may not change it (or give it this scope)")
    @blp.alt_response(404, description="no such kind, or no such document in the draft")
    @blp.alt_response(422, description=f"{PROBLEMS}; a slug in the body other than the address's is one")
    @blp.alt_response(415, description="A body not sent as application/json")
    def put(self, args, kind, slug):
        """Replace a document of the draft with the one sent (what it leaves out takes its default)."""
        _section(kind)
        document = _json_object(f"the whole {kind} document")
        if "slug" in document and document["slug"] != slug:
            message = f"the slug is '{slug}' in the address: leave it out of the body, or send the same"
            abort(422, message=message, errors=[{"path": "slug", "message": message}])
        return _save(kind, slug, document, new=False, dry_run=args["dry_run"])

    @token_required()
    @blp.doc(security=SECURITY)
    @blp.response(204)
    @blp.alt_response(403, description="you may not remove it")
    @blp.alt_response(404, description="no such kind, or no such document in the draft")
    @blp.alt_response(422, description="What needs it, each at its path; nothing was removed")
    def delete(self, kind, slug):
        """Remove a document from the draft, if no other document needs it."""
        session = get_session()
        with _service(session, "nothing was removed"):
            drafts.delete_document(
                session, reach_of(session, g.user), g.user.login, kind, slug, load_plugins().functions
            )
        session.commit()


# --- publishing --------------------------------------------------------------------------------


def _changes(before: Config, after: Config) -> list[dict]:
    """What the whole draft, published, changes from the version before it."""
    found = []
    for section in KINDS:
        old, new = before.get(section, {}), after.get(section, {})
        for slug in sorted(set(old) | set(new)):
            if old.get(slug) != new.get(slug):
                change = "new" if slug not in old else "removed" if slug not in new else "changed"
                found.append({"kind": drafts.KIND_OF_SECTION[section], "slug": slug, "change": change})
    return found


@blp.route("/publish")
class Publish(MethodView):
    @token_required()
    @blp.doc(
        security=SECURITY,
        requestBody={"required": True, "content": {"application/json": {"schema": PublishIn}}},
    )
    @blp.response(201, PublishedOut)
    @blp.alt_response(403, description="only HR and administrators publish")
    @blp.alt_response(404, description="a template named is not in the draft")
    @blp.alt_response(422, description="What blocks it (or: nothing to publish), each at its path")
    def post(self):
        """Publish the draft as the next version: all of it, or only the templates named with the
        draft documents they use that are new or changed (nothing else of the draft goes live)."""
        body = _json_object("{message, templates}")
        try:
            payload = PublishIn().load(body)
        except ValidationError as exc:
            errors = [{"path": format_path(path), "message": text} for path, text in flatten_messages(exc.messages)]
            abort(422, message="; ".join(f"{e['path']}: {e['message']}" for e in errors), errors=errors)
        session = get_session()
        reach, functions = reach_of(session, g.user), load_plugins().functions
        with _service(session, "nothing was published"):
            if payload["templates"] is None:
                latest = latest_version(session)
                version = drafts.publish_draft(session, reach, g.user.login, payload["message"], functions)
                documents, also = _changes(latest.snapshot if latest else {}, version.snapshot), []
            else:
                version, planned = drafts.publish_templates(
                    session, reach, g.user.login, payload["templates"], payload["message"], functions
                )
                documents = [
                    {"kind": drafts.KIND_OF_SECTION[section], "slug": slug, "change": change}
                    for section, slug, change in planned.documents
                ]
                also = [
                    {"kind": drafts.KIND_OF_SECTION[section], "slug": slug, "templates": templates}
                    for (section, slug), templates in planned.also_changes.items()
                ]
            result = {
                "version": version.number,
                "content_hash": version.content_hash,
                "message": version.message,
                "documents": documents,
                "also_changes": also,
            }
        session.commit()
        return result, 201
