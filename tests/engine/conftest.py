"""The scenario company, loaded through the CLI as an administrator would."""

from __future__ import annotations

import pytest

from ..helpers import run_cli, write
from . import scenario


@pytest.fixture
def company(cli_env, tmp_path):
    assert run_cli("org", "import", write(tmp_path, "org.yaml", scenario.ORG)).exit_code == 0
    loaded = run_cli("config", "load", write(tmp_path, "config.yaml", scenario.CONFIG))
    assert loaded.exit_code == 0, loaded.output
    assert run_cli("config", "publish", "-m", "scenario").exit_code == 0
    imported = run_cli("data", "import", "deals", write(tmp_path, "deals.csv", scenario.DEALS))
    assert imported.exit_code == 0, imported.output
    rated = run_cli("ratings", "import", write(tmp_path, "ratings.csv", scenario.RATINGS))
    assert rated.exit_code == 0, rated.output
    return tmp_path
