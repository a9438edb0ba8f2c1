"""Settings from the environment, shared by the web app, the CLI and the scheduler.

PERFRULES_DATABASE_URL    SQLAlchemy URL; default: SQLite in the instance folder
PERFRULES_SECRET_KEY      session signing key; default: a random key kept in the instance folder
PERFRULES_INSTANCE_PATH   folder for the SQLite database, the secret key and uploads; default ./instance
PERFRULES_BASE_URL        the web app's address as people reach it (https://perf.example.com), for
                          links in e-mails and webhooks; default: none, links are paths
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    database_url: str
    secret_key: str
    instance_path: Path
    base_url: str | None = None

    @classmethod
    def from_env(cls, **overrides) -> Settings:
        instance = Path(
            overrides.get("instance_path") or os.environ.get("PERFRULES_INSTANCE_PATH") or Path.cwd() / "instance"
        ).resolve()
        instance.mkdir(parents=True, exist_ok=True)
        database_url = (
            overrides.get("database_url")
            or os.environ.get("PERFRULES_DATABASE_URL")
            or f"sqlite:///{instance / 'perfrules.db'}"
        )
        secret_key = overrides.get("secret_key") or os.environ.get("PERFRULES_SECRET_KEY") or _instance_secret(instance)
        base_url = (overrides.get("base_url") or os.environ.get("PERFRULES_BASE_URL") or "").strip() or None
        return cls(database_url=database_url, secret_key=secret_key, instance_path=instance, base_url=base_url)


def _instance_secret(instance: Path) -> str:
    """A random key created once and kept, so sessions survive restarts."""
    path = instance / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()
