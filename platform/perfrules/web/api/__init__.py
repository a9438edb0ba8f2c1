"""The REST API (flask-smorest): one blueprint per resource, OpenAPI at /api/openapi.json and an
interactive page at /api/. Every error is JSON: {"code", "status", "message", "errors"}, where
`errors` lists {"path", "message"} with the path of the field at fault (`json.templates[0]`)."""

from __future__ import annotations

from contextlib import contextmanager

import sqlalchemy as sa
from flask import Blueprint, Flask, render_template, request
from flask_smorest import Api, abort

from ...problems import flatten_messages, format_path
from ...workflow.engine import WorkflowError
from ...workflow.forms import FormError
from ..auth import login_required, requesting_user

SECURITY = [{"token": []}]


@contextmanager
def committed(session):
    """Commit what the block changes in the workflow; a refusal rolls it all back and answers 409
    with the reason, or 422 naming each field for answers that do not fit a form."""
    try:
        yield
    except FormError as exc:
        session.rollback()
        abort(422, message=str(exc), errors={"json": {"values": exc.errors}})
    except WorkflowError as exc:
        session.rollback()
        abort(409, message=str(exc))
    session.commit()


def one_page(session, query, pagination):
    """The page of `query` that `@blp.paginate()`'s parameters ask for, after counting every row
    it matches for the pagination header."""
    pagination.item_count = session.scalar(sa.select(sa.func.count()).select_from(query.order_by(None).subquery()))
    return session.execute(query.offset(pagination.first_item).limit(pagination.page_size))


class PerfrulesApi(Api):
    def handle_http_exception(self, error):
        payload, code, headers = super().handle_http_exception(error)
        errors = payload.get("errors")
        if isinstance(errors, dict):
            payload["errors"] = [
                {"path": format_path(path), "message": message} for path, message in flatten_messages(errors)
            ]
        return payload, code, headers


docs = Blueprint("api_docs", __name__, url_prefix="/api")


@docs.route("/")
@login_required()
def interactive():
    """Swagger UI, served from the package's own static files."""
    return render_template("api_docs.html")


def _document_for_users_only():
    """The OpenAPI document maps every endpoint: only for signed-in users and token holders."""
    if request.endpoint == "api-docs.openapi_json" and requesting_user() is None:
        abort(401, message="sign in, or send a valid API token, to read the API's description")


def init_api(app: Flask) -> Api:
    from .calibration import blp as calibration
    from .config import blp as config
    from .datasets import blp as datasets
    from .delegations import blp as delegations
    from .disputes import blp as disputes
    from .feedback import blp as feedback
    from .formulas import blp as formulas
    from .notifications import blp as notifications
    from .reviews import blp as reviews
    from .runs import blp as runs
    from .scorecards import blp as scorecards

    api = PerfrulesApi(app)
    api.spec.components.security_scheme(
        "token", {"type": "http", "scheme": "bearer", "description": "a token from `perfrules token create`"}
    )
    for blueprint in (
        datasets,
        config,
        runs,
        scorecards,
        reviews,
        formulas,
        calibration,
        disputes,
        feedback,
        notifications,
    ):
        api.register_blueprint(blueprint)
    api.register_blueprint(delegations)
    app.register_blueprint(docs)
    app.before_request(_document_for_users_only)
    app.extensions["perfrules.api"] = api
    return api
