"""The REST API fuzzed with schemathesis: every operation of the OpenAPI document, on each database,
asked with requests generated from what the document says it takes.

- With a token (an administrator's, who may do everything, and an employee's, refused most of
  it): no 5xx, and every answer is one the document describes: its status, content type,
  headers and body.
- Without credentials: every operation answers 401, with nothing in the body but the error.

Few cases per operation, the same ones every run (derandomized, no example database), so that the
file costs seconds: this is a net for what the hand-written tests in test_api.py do not think of."""

from __future__ import annotations

import json
import time
import traceback
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from ..helpers import run_cli, starting_state
from .test_api import api, api_users  # noqa: F401  (the API tests' users, tokens and starting state)

pytestmark = pytest.mark.database

#: a value for each path parameter that names something in `evaluated_company`, so that some
#: cases get past the lookup to the operation itself (the rest of each case is generated); the
#: company has no forms, so `form` is only a value that keeps to the route
EXISTING = {
    "kind": "templates",
    "slug": "rep",
    "period": "2026-10",
    "employee": "R1",
    "form": "self_review",
    "run_id": 1,
}

#: cases per operation and kind of request (see `requests`) for each token holder: the
#: administrator reaches every operation's work, the employee mostly its refusals
EXAMPLES = {"admin": 3, "rep1": 2}

#: what an answer to a token holder is checked for
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]

#: cases generated from the document alone: schemathesis would also read the app's source for
#: literals to try, which costs more than it adds here (EXISTING names what exists)
GENERATION = schemathesis.Config.from_dict({"analysis": {"constants": {"enabled": False}}})


def fuzzing(max_examples: int):
    """Hypothesis settings for `max_examples` cases of one operation, the same every run."""
    return settings(
        max_examples=max_examples,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )


def pagination_header_conformance(ctx, response, case) -> None:
    """X-Pagination is documented as JSON (OpenAPI's `content`), which schemathesis does not read:
    its fields must be the documented ones, each a number."""
    values = response.headers.get("x-pagination")
    if values is None:
        return
    documented = case.operation.schema.raw_schema["components"]["schemas"]["PaginationMetadata"]["properties"]
    metadata = json.loads(values[0])
    assert set(metadata) <= set(documented), f"X-Pagination has undocumented fields: {values[0]}"
    assert all(isinstance(value, int) for value in metadata.values()), f"X-Pagination: {values[0]}"


def _evaluate(folder: Path) -> None:
    assert run_cli("run", "2026-10").exit_code == 0


@pytest.fixture
@starting_state(_evaluate, parent="api_users")
def evaluated_company(api_users):
    """The API tests' company and users, evaluated for 2026-10 (run 1); the test's folder."""
    return api_users


@pytest.fixture
def documented(api, evaluated_company):
    """The app's OpenAPI document, loaded by schemathesis from the app; waits, after the test,
    for the runs it started (a run still writing would outlive the test's database)."""
    yield schemathesis.openapi.from_wsgi(
        "/api/openapi.json", api.application, headers=api.tokens["admin"], config=GENERATION
    )
    deadline = time.monotonic() + 30
    while api.get("/api/v1/runs?status=running", headers=api.tokens["admin"]).json:
        assert time.monotonic() < deadline, "runs still going 30 s after the test"
        time.sleep(0.05)


def operations(schema) -> list:
    found = [result.ok() for result in schema.get_all_operations()]
    assert len(found) >= 50
    return found


def existing_path_parameters(operation) -> dict:
    return {name: value for name, value in EXISTING.items() if f"{{{name}}}" in operation.path}


def requests(operation, *, breaking: bool) -> list:
    """Strategies for requests to `operation`: ones the document allows; the same with EXISTING
    path parameters; with `breaking`, ones that break the document somewhere (a value of the
    wrong type, a required field left out, a body that is not JSON …), which must be refused
    with a documented error."""
    found = [operation.as_strategy()]
    if existing := existing_path_parameters(operation):
        found.append(operation.as_strategy(path_parameters=existing))
    if breaking:
        found.append(operation.as_strategy(generation_mode=GenerationMode.NEGATIVE))
    return found


def fuzz(strategy, max_examples: int, check) -> str | None:
    """`check(case)` for `max_examples` cases drawn from `strategy`: what failed (a check, or the
    app raising, which a deployed app answers with a 500), with the case; None when nothing did."""

    @fuzzing(max_examples)
    @given(case=strategy)
    def each(case):
        check(case)

    try:
        each()
    except (Exception, BaseExceptionGroup) as exc:
        return "".join(traceback.format_exception_only(exc))
    return None


@pytest.mark.parametrize("login", EXAMPLES)
def test_every_answer_to_a_token_holder_is_documented(api, documented, login):
    def answered_as_documented(case) -> None:
        case.call_and_validate(
            headers=api.tokens[login], checks=CHECKS, additional_checks=[pagination_header_conformance]
        )

    found = []
    for operation in operations(documented):
        for strategy in requests(operation, breaking=login == "admin"):
            if problem := fuzz(strategy, EXAMPLES[login], answered_as_documented):
                found.append(f"{operation.label}: {problem}")
    assert not found, "\n\n".join(found)


def refused(case) -> None:
    response = case.call()
    assert response.status_code == 401, f"{case.operation.label}: {response.status_code} {response.text}"
    assert set(response.json()) == {"code", "status", "message"}, f"{case.operation.label}: {response.text}"
    case.validate_response(response, checks=[content_type_conformance, response_schema_conformance])


def test_without_credentials_every_operation_answers_401_and_nothing_else(documented):
    found = []
    for operation in operations(documented):
        # a generated string path parameter could leave the operation's route (`a/b`)
        strategy = operation.as_strategy(path_parameters=existing_path_parameters(operation))
        if problem := fuzz(strategy, 2, refused):
            found.append(f"{operation.label}: {problem}")
    assert not found, "\n\n".join(found)
