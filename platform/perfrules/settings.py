"""Settings from the environment, shared by the web app, the CLI and the scheduler.

PERFRULES_DATABASE_URL    SQLAlchemy URL; default: SQLite in the instance folder
PERFRULES_SECRET_KEY      session signing key; default: a random key kept in the instance folder
PERFRULES_INSTANCE_PATH   folder for the SQLite database, the secret key and uploads; default ./instance
PERFRULES_BASE_URL        the web app's address as people reach it (https://perf.example.com), for
                          links in e-mails and webhooks; default: none, links are paths
PERFRULES_PROXIES         how many reverse proxies (nginx, a load balancer) stand in front of the
                          web app; their X-Forwarded-For and X-Forwarded-Proto headers are then
                          believed, so that sign-in throttling sees each client's own address.
                          Default 0: the headers are ignored (anyone could forge them)
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
    proxies: int = 0

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
        proxies = overrides.get("proxies", os.environ.get("PERFRULES_PROXIES") or 0)
        if not str(proxies).isdigit():
            raise ValueError(f"PERFRULES_PROXIES must be a whole number of proxies (0 or more), not {proxies!r}")
        proxies = int(proxies)
        return cls(
            database_url=database_url,
            secret_key=secret_key,
            instance_path=instance,
            base_url=base_url,
            proxies=proxies,
        )


def _instance_secret(instance: Path) -> str:
    """A random key created once and kept, so sessions survive restarts."""
    path = instance / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()
