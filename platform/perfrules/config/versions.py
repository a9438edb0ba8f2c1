"""Published versions: immutable snapshots of the whole configuration, and what changed between them."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..audit import record_change
from ..db.base import LARGEST_INTEGER
from ..formula import FunctionRegistry
from ..problems import ConfigError, Problem, format_path
from .models import ConfigVersion
from .store import working_config
from .validation import Config, check_config

DRAFT = "draft"


def content_hash(config: Config) -> str:
    canonical = json.dumps(config, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _non_empty(config: Config) -> Config:
    return {kind: documents for kind, documents in config.items() if documents}


def publish(
    session: Session, message: str, functions: FunctionRegistry, actor: str, snapshot: Config | None = None
) -> ConfigVersion:
    """Freeze the working configuration (or `snapshot`, a whole configuration) as the next version."""
    if not message.strip():
        raise ConfigError([Problem("", "a version needs a message saying what changed")])
    snapshot = _non_empty(working_config(session) if snapshot is None else snapshot)
    problems = check_config(snapshot, functions)
    if problems:
        raise ConfigError(problems)
    digest = content_hash(snapshot)
    latest = latest_version(session)
    if latest is not None and latest.content_hash == digest:
        raise ConfigError([Problem("", f"nothing to publish: the draft is identical to version {latest.number}")])
    version = ConfigVersion(
        number=(latest.number + 1) if latest else 1,
        content_hash=digest,
        message=message.strip(),
        snapshot=snapshot,
        created_at=dt.datetime.now(dt.UTC),
        created_by=actor,
    )
    session.add(version)
    record_change(
        session,
        actor=actor,
        action="config.publish",
        kind="version",
        key=str(version.number),
        after={"content_hash": digest, "message": version.message},
    )
    return version


def draft_is_published(session: Session) -> bool:
    latest = latest_version(session)
    return latest is not None and latest.content_hash == content_hash(_non_empty(working_config(session)))


def latest_version(session: Session) -> ConfigVersion | None:
    return session.scalars(sa.select(ConfigVersion).order_by(ConfigVersion.number.desc()).limit(1)).first()


def list_versions(session: Session) -> list[ConfigVersion]:
    return list(session.scalars(sa.select(ConfigVersion).order_by(ConfigVersion.number)))


@dataclass(frozen=True)
class ResolvedConfig:
    """A configuration picked by reference: a published version, or the draft (no number)."""

    name: str
    config: Config
    number: int | None = None
    content_hash: str | None = None


def resolve(session: Session, reference: str) -> ResolvedConfig:
    """A version number, 'latest' or 'draft' → that configuration."""
    if reference == DRAFT:
        config = _non_empty(working_config(session))
        return ResolvedConfig("draft", config, None, content_hash(config))
    if reference == "latest":
        version = latest_version(session)
        if version is None:
            raise ConfigError([Problem("", "nothing is published yet: run `perfrules config publish`")])
    else:
        try:
            number = int(reference.lstrip("vV"))
        except ValueError:
            raise ConfigError([Problem("", f"'{reference}' is not a version: use a number, latest or draft")]) from None
        version = (
            session.scalars(sa.select(ConfigVersion).where(ConfigVersion.number == number)).first()
            if abs(number) <= LARGEST_INTEGER
            else None
        )
    if version is None:
        raise ConfigError([Problem("", f"there is no version {reference}")])
    return ResolvedConfig(f"version {version.number}", version.snapshot, version.number, version.content_hash)


def diff_configs(old: Config, new: Config) -> list[str]:
    """Readable lines: documents added (+), removed (-) and changed (~) with each changed value."""
    lines = []
    for kind in sorted(set(old) | set(new)):
        before, after = old.get(kind, {}), new.get(kind, {})
        for slug in sorted(set(before) | set(after)):
            if slug not in before:
                lines.append(f"+ {kind}.{slug}")
            elif slug not in after:
                lines.append(f"- {kind}.{slug}")
            elif before[slug] != after[slug]:
                lines.append(f"~ {kind}.{slug}")
                lines.extend(f"    {change}" for change in _value_changes(before[slug], after[slug]))
    return lines


def _value_changes(old, new, path: tuple = ()) -> list[str]:
    if isinstance(old, dict) and isinstance(new, dict):
        changes = []
        for key in list(old) + [k for k in new if k not in old]:
            if key not in new:
                changes.append(f"{format_path(path + (key,))}: {_show(old[key])} → (removed)")
            elif key not in old:
                changes.append(f"{format_path(path + (key,))}: (none) → {_show(new[key])}")
            elif old[key] != new[key]:
                changes.extend(_value_changes(old[key], new[key], path + (key,)))
        return changes
    if isinstance(old, list) and isinstance(new, list):
        changes = []
        for index in range(max(len(old), len(new))):
            if index >= len(new):
                changes.append(f"{format_path(path + (index,))}: {_show(old[index])} → (removed)")
            elif index >= len(old):
                changes.append(f"{format_path(path + (index,))}: (none) → {_show(new[index])}")
            elif old[index] != new[index]:
                changes.extend(_value_changes(old[index], new[index], path + (index,)))
        return changes
    return [f"{format_path(path)}: {_show(old)} → {_show(new)}"]


def _show(value) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 80 else text[:77] + "..."
