"""The PostgreSQL half of the database tests is skipped off CI, and fails under CI, when unreachable."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ONE_DATABASE_TEST = "tests/formula/test_sql.py::test_a_name_without_a_column_is_a_clear_error"
UNREACHABLE = "postgresql+psycopg://postgres@127.0.0.1:1/postgres"


def _run_with_unreachable_postgres(ci: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PERFRULES_TEST_POSTGRES_URL": UNREACHABLE, "CI": ci}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", "-n", "0", ONE_DATABASE_TEST],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("ci, outcome", [("false", "1 passed, 1 skipped"), ("true", "1 passed, 1 error")])
def test_unreachable_postgres(ci, outcome):
    completed = _run_with_unreachable_postgres(ci)
    assert outcome in completed.stdout, completed.stdout
    assert f"PostgreSQL is not reachable at {UNREACHABLE}" in completed.stdout
