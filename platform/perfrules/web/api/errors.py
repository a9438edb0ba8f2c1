"""The API's errors in its OpenAPI document: every error answers one JSON body (`ErrorOut`), and
every operation lists each status it can answer, with no catch-all `default` response, so that a
client (and the fuzzing tests) can tell a documented refusal from a bug."""

from __future__ import annotations

from http import HTTPStatus

from apispec import APISpec, BasePlugin
from marshmallow import Schema, fields


class FieldProblemOut(Schema):
    path = fields.Str(
        required=True,
        metadata={"description": "the field at fault (`json.templates[0]`, `query.period`); empty for the whole body"},
    )
    message = fields.Str(required=True)


class ErrorOut(Schema):
    code = fields.Int(required=True, metadata={"description": "the HTTP status"})
    status = fields.Str(required=True, metadata={"description": "the status's name"})
    message = fields.Str(required=True, metadata={"description": "what went wrong, in words"})
    errors = fields.List(fields.Nested(FieldProblemOut), metadata={"description": "each problem with its field's path"})


#: the name of the error body's schema among the document's components
ERROR_SCHEMA_NAME = "Error"


def _status_component(status: int) -> str:
    """flask-smorest's response component of an error status (`UNAUTHORIZED`), which it registers
    under the name Python's HTTPStatus gives it (413's changed in Python 3.13)."""
    return HTTPStatus(status).name


class ErrorResponses(BasePlugin):
    """Completes every operation's error responses from what the document says of it: declaring
    the token scheme, it answers 401 without a valid token; reading a body, 400 when the body is
    not JSON and 413 when it is larger than the operation reads; with path parameters, 404 when
    the address names nothing. An error response that names no body
    (`@blp.alt_response(409, description=…)`) gets `ErrorOut`."""

    def init_spec(self, spec: APISpec) -> None:
        spec.components.schema(ERROR_SCHEMA_NAME, schema=ErrorOut)

    def operation_helper(self, path=None, operations=None, **kwargs) -> None:
        for operation in (operations or {}).values():
            responses = operation.setdefault("responses", {})
            documented = {str(status) for status in responses}
            implied = {
                400: "requestBody" in operation,
                401: "security" in operation,
                404: "{" in (path or ""),
                413: "requestBody" in operation,
            }
            for status, applies in implied.items():
                if applies and str(status) not in documented:
                    responses[str(status)] = _status_component(status)
            for status, response in responses.items():
                if (
                    str(status).isdigit()
                    and int(status) >= 400
                    and isinstance(response, dict)
                    and "content" not in response
                ):
                    response["content"] = {"application/json": {"schema": ERROR_SCHEMA_NAME}}
