"""The working configuration in the database: load from YAML, read, export."""

from __future__ import annotations

import copy
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..audit import record_change
from ..formula import FunctionRegistry
from ..problems import ConfigError, Problem
from .models import ConfigEntry
from .schemas import KINDS
from .sources import SourceDocument, dump_yaml, read_documents
from .validation import Config, check_config, normalise, strip_none


@dataclass
class LoadSummary:
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return (
            f"{len(self.added)} added, {len(self.changed)} changed, "
            + (f"{len(self.removed)} removed, " if self.removed else "")
            + f"{len(self.unchanged)} unchanged"
        )


def working_config(session: Session) -> Config:
    """Every document of the working (draft) configuration, {kind: {slug: document}}."""
    config: Config = {kind: {} for kind in KINDS}
    for entry in session.scalars(sa.select(ConfigEntry).order_by(ConfigEntry.kind, ConfigEntry.slug)):
        config.setdefault(entry.kind, {})[entry.slug] = entry.document
    return config


def validate_documents(
    documents: list[SourceDocument], base: Config, functions: FunctionRegistry, problems: list[Problem] | None = None
) -> Config:
    """The configuration `base` would become with `documents` applied; ConfigError if invalid.

    `problems` already found (while reading files) are reported together with the new ones.
    """
    problems = list(problems or [])
    merged: Config = {kind: dict(base.get(kind, {})) for kind in KINDS}
    origins: dict[tuple[str, str], SourceDocument] = {}
    for document in documents:
        normalised, document_problems = normalise(document)
        problems.extend(document_problems)
        if normalised is None:
            continue
        key = (document.kind, normalised["slug"])
        if key in origins:
            first = origins[key]
            problems.append(
                document.problem(
                    ("slug",),
                    f"'{key[1]}' is defined twice (first in "
                    f"{first.file or 'the same input'}, line {first.lines.get(())})",
                )
            )
            continue
        origins[key] = document
        merged[document.kind][normalised["slug"]] = normalised
    if problems:
        raise ConfigError(problems)
    problems = check_config(merged, functions, origins)
    if problems:
        raise ConfigError(problems)
    return merged


def load_paths(session: Session, paths: list[Path], functions: FunctionRegistry, actor: str) -> LoadSummary:
    documents, problems = read_documents(paths)
    return apply_documents(session, documents, functions, actor, problems)


def apply_documents(
    session: Session,
    documents: list[SourceDocument],
    functions: FunctionRegistry,
    actor: str,
    problems: list[Problem] | None = None,
) -> LoadSummary:
    """Validate and store documents in the working configuration: all of them, or none."""
    current = working_config(session)
    merged = validate_documents(documents, current, functions, problems)
    summary = LoadSummary()
    now = dt.datetime.now(dt.UTC)
    existing = {(e.kind, e.slug): e for e in session.scalars(sa.select(ConfigEntry))}
    for document in documents:
        slug = document.data["slug"]
        new = merged[document.kind][slug]
        old = current.get(document.kind, {}).get(slug)
        name = f"{document.kind}.{slug}"
        if old == new:
            summary.unchanged.append(name)
            continue
        entry = existing.get((document.kind, slug))
        if entry is None:
            session.add(ConfigEntry(kind=document.kind, slug=slug, document=new, updated_at=now, updated_by=actor))
            summary.added.append(name)
        else:
            entry.document, entry.updated_at, entry.updated_by = new, now, actor
            summary.changed.append(name)
        record_change(session, actor=actor, action="config.save", kind=document.kind, key=slug, before=old, after=new)
    return summary


def in_schema_order(kind: str, document: dict) -> dict:
    """Keys in the order the schema declares them (PostgreSQL's JSONB keeps its own order)."""
    return strip_none(KINDS[kind]().dump(document))


def export_yaml(config: Config) -> str:
    """The configuration as one YAML document: sections in a fixed order, documents by slug."""
    data = {
        kind: [in_schema_order(kind, config[kind][slug]) for slug in sorted(config[kind])]
        for kind in KINDS
        if config.get(kind)
    }
    return dump_yaml(data) if data else "{}\n"


def clone_template(
    session: Session,
    source: str,
    slug: str,
    functions: FunctionRegistry,
    actor: str,
    *,
    departments: list[str] | None = None,
    roles: list[str] | None = None,
    label: dict | None = None,
) -> dict:
    """Copy a draft template under a new slug and scope (everything else kept) into the draft."""
    templates = working_config(session).get("templates", {})
    if source not in templates:
        raise ConfigError([Problem("templates", f"unknown template '{source}'")])
    if slug in templates:
        raise ConfigError([Problem("templates", f"template '{slug}' already exists")])
    if departments:
        from ..org.models import Department

        known = set(session.scalars(sa.select(Department.code).where(Department.code.in_(departments))))
        unknown = [code for code in departments if code not in known]
        if unknown:
            raise ConfigError([Problem("applies_to.departments", f"unknown department '{code}'") for code in unknown])
    clone = copy.deepcopy(templates[source])
    clone["slug"] = slug
    applies = dict(clone.get("applies_to", {}))
    if departments is not None:
        applies["departments"] = list(departments)
    if roles is not None:
        applies["roles"] = list(roles)
    clone["applies_to"] = applies
    if label is not None:
        clone["label"] = label
    apply_documents(session, [SourceDocument("templates", 0, clone)], functions, actor)
    record_change(
        session,
        actor=actor,
        action="template.clone",
        kind="templates",
        key=slug,
        after={"source": source, "departments": departments, "roles": roles},
    )
    return clone


def remove_document(session: Session, kind: str, slug: str, functions: FunctionRegistry, actor: str) -> dict:
    """Delete one document from the working configuration, if the configuration without it is still
    valid (a KPI a template uses, a dataset a metric reads … cannot go); audited. The removed
    document is returned. ConfigError, and nothing changed, otherwise."""
    if kind not in KINDS:
        raise ConfigError([Problem(kind, f"unknown section; expected one of {', '.join(KINDS)}")])
    entry = session.scalars(sa.select(ConfigEntry).where(ConfigEntry.kind == kind, ConfigEntry.slug == slug)).first()
    if entry is None:
        raise ConfigError([Problem(f"{kind}.{slug}", "there is no such document in the draft")])
    remaining = working_config(session)
    removed = remaining[kind].pop(slug)
    problems = check_config(remaining, functions)
    if problems:
        raise ConfigError(problems)
    session.delete(entry)
    record_change(session, actor=actor, action="config.remove", kind=kind, key=slug, before=removed, after=None)
    session.flush()
    return removed


def replace_working_config(session: Session, config: Config, functions: FunctionRegistry, actor: str) -> LoadSummary:
    """Make the working configuration exactly `config` ({kind: {slug: document}}, a published
    snapshot for instance): documents it lacks are removed, the others saved. Validated as a whole
    first, every change audited; all of it, or nothing (ConfigError)."""
    documents = [
        SourceDocument(kind, index, copy.deepcopy(document))
        for kind in KINDS
        for index, document in enumerate(config.get(kind, {}).values())
    ]
    unknown = sorted(set(config) - set(KINDS))
    if unknown:
        raise ConfigError([Problem(kind, f"unknown section; expected one of {', '.join(KINDS)}") for kind in unknown])
    target = validate_documents(documents, {}, functions)
    current = working_config(session)
    summary = LoadSummary()
    now = dt.datetime.now(dt.UTC)
    for entry in session.scalars(sa.select(ConfigEntry)):
        new, old = target.get(entry.kind, {}).get(entry.slug), current.get(entry.kind, {}).get(entry.slug)
        name = f"{entry.kind}.{entry.slug}"
        if new is None:
            session.delete(entry)
            record_change(
                session, actor=actor, action="config.remove", kind=entry.kind, key=entry.slug, before=old, after=None
            )
            summary.removed.append(name)
        elif new != old:
            entry.document, entry.updated_at, entry.updated_by = new, now, actor
            record_change(
                session, actor=actor, action="config.save", kind=entry.kind, key=entry.slug, before=old, after=new
            )
            summary.changed.append(name)
        else:
            summary.unchanged.append(name)
    for kind, documents_of_kind in target.items():
        for slug, document in documents_of_kind.items():
            if slug not in current.get(kind, {}):
                session.add(ConfigEntry(kind=kind, slug=slug, document=document, updated_at=now, updated_by=actor))
                record_change(
                    session, actor=actor, action="config.save", kind=kind, key=slug, before=None, after=document
                )
                summary.added.append(f"{kind}.{slug}")
    session.flush()
    return summary
