"""The API's description: the interactive page at /api/ (Swagger UI from the package's own static
files), and the OpenAPI document at /api/openapi.json, both only for signed-in users and token
holders."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from ..auth import login_required, requesting_user
from .common import abort

docs = Blueprint("api_docs", __name__, url_prefix="/api")


@docs.route("/")
@login_required()
def interactive():
    """Swagger UI, served from the package's own static files."""
    return render_template("api_docs.html")


def document_for_users_only() -> None:
    """The OpenAPI document maps every endpoint: only for signed-in users and token holders."""
    if request.endpoint == "api-docs.openapi_json" and requesting_user() is None:
        abort(401, message="sign in, or send a valid API token, to read the API's description")
