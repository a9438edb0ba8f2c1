"""Settings come from the environment, with SQLite and a kept secret key in the instance folder."""

from __future__ import annotations

import pytest

from perfrules.resources import resource_path
from perfrules.settings import Settings
from perfrules.web import create_app


def test_defaults_live_in_the_instance_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("PERFRULES_DATABASE_URL", raising=False)
    monkeypatch.delenv("PERFRULES_SECRET_KEY", raising=False)
    monkeypatch.setenv("PERFRULES_INSTANCE_PATH", str(tmp_path / "instance"))
    first = Settings.from_env()
    assert first.database_url == f"sqlite:///{tmp_path / 'instance' / 'perfrules.db'}"
    assert len(first.secret_key) >= 48
    assert Settings.from_env().secret_key == first.secret_key, "the key is kept across restarts"
    assert (tmp_path / "instance" / "secret_key").stat().st_mode & 0o077 == 0


def test_environment_and_create_app_overrides(tmp_path, monkeypatch):
    monkeypatch.setenv("PERFRULES_DATABASE_URL", "postgresql+psycopg://example/db")
    monkeypatch.setenv("PERFRULES_SECRET_KEY", "from-the-environment")
    monkeypatch.setenv("PERFRULES_INSTANCE_PATH", str(tmp_path))
    assert Settings.from_env().database_url == "postgresql+psycopg://example/db"
    app = create_app({"database_url": f"sqlite:///{tmp_path / 'x.db'}", "TESTING": True})
    assert app.config["SECRET_KEY"] == "from-the-environment"
    assert app.config["PERFRULES_SETTINGS"].database_url.endswith("x.db")
    assert app.template_folder == str(resource_path("templates"))
    assert (resource_path("templates") / "home.html").exists()
    assert (resource_path("seed_configs") / "config" / "kpis.yaml").exists()


def test_the_number_of_proxies_is_a_whole_number(tmp_path, monkeypatch):
    monkeypatch.setenv("PERFRULES_INSTANCE_PATH", str(tmp_path))
    assert Settings.from_env().proxies == 0  # forwarded headers are not believed unless told
    monkeypatch.setenv("PERFRULES_PROXIES", "2")
    assert Settings.from_env().proxies == 2
    for wrong in ("-1", "one", "1.5"):
        monkeypatch.setenv("PERFRULES_PROXIES", wrong)
        with pytest.raises(ValueError, match="PERFRULES_PROXIES must be a whole number"):
            Settings.from_env()
