"""The REST API (flask-smorest): one blueprint per resource, OpenAPI at /api/openapi.json and an
interactive page at /api/. Every error is JSON: {"code", "status", "message", "errors"}, where
`errors` lists {"path", "message"} with the path of the field at fault (`json.templates[0]`).

This module builds the Api and registers the blueprints; what the resources share is in
common.py, the errors each operation documents in errors.py, the description's pages in docs.py."""

from __future__ import annotations

from flask import Flask
from flask_smorest import Api
from flask_smorest.pagination import PaginationMetadataSchema

from ...problems import flatten_messages, format_path
from . import scoring_curve  # noqa: F401  (puts /scoring-curve on the formulas blueprint)
from .calibration import blp as calibration
from .config import blp as config
from .datasets import blp as datasets
from .delegations import blp as delegations
from .disputes import blp as disputes
from .docs import docs, document_for_users_only
from .drafts import blp as drafts
from .errors import ErrorOut, ErrorResponses
from .feedback import blp as feedback
from .formulas import blp as formulas
from .notifications import blp as notifications
from .pay import blp as pay
from .previews import blp as previews
from .reviews import blp as reviews
from .runs import blp as runs
from .scorecards import blp as scorecards


class PerfrulesApi(Api):
    ERROR_SCHEMA = ErrorOut
    #: each operation lists the statuses it answers (see errors.py), not a catch-all
    DEFAULT_ERROR_RESPONSE_NAME = None

    def _register_pagination_header(self):
        # flask-smorest documents the header with a `schema`, which in OpenAPI means the
        # comma-separated `key,value,…` of a header's simple style; what it sends is JSON.
        header = {
            "description": "Pagination metadata",
            "content": {"application/json": {"schema": PaginationMetadataSchema}},
        }
        self.spec.components.header("PAGINATION", header, lazy=True)

    def handle_http_exception(self, error):
        payload, code, headers = super().handle_http_exception(error)
        # raised by Werkzeug itself (a body over its limit, say), with only its description
        payload.setdefault("message", error.description)
        errors = payload.get("errors")
        if isinstance(errors, dict):
            payload["errors"] = [
                {"path": format_path(path), "message": message} for path, message in flatten_messages(errors)
            ]
        return payload, code, headers


def init_api(app: Flask) -> Api:
    api = PerfrulesApi(app, spec_kwargs={"extra_plugins": [ErrorResponses()]})
    api.spec.components.security_scheme(
        "token", {"type": "http", "scheme": "bearer", "description": "a token from `perfrules token create`"}
    )
    for blueprint in (
        datasets,
        config,
        drafts,
        runs,
        scorecards,
        reviews,
        formulas,
        previews,
        calibration,
        disputes,
        feedback,
        notifications,
        pay,
    ):
        api.register_blueprint(blueprint)
    api.register_blueprint(delegations)
    app.register_blueprint(docs)
    app.before_request(document_for_users_only)
    app.extensions["perfrules.api"] = api
    return api
