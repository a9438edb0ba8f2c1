"""The draft configuration as its editors use it — the designer's pages and the REST API alike:
list, read, check, save and remove one document of a kind, and publish (the whole draft, or some
templates with the draft documents they depend on). Who may do what is `permissions.Reach`.

Kinds have the names people and URLs use (`flows`, `attributes`); the configuration's sections
keep theirs (`approval_flows`, `employee_attributes`). Problems come back with paths inside the
document (`sections[0].weight`); a problem another document would have because of the change
keeps that document's path (`metrics.calls.field`).
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from ..formula import NUMBER, Catalogue, FormulaError, FunctionRegistry, compile_formula
from ..problems import ConfigError, Problem
from .models import ConfigVersion
from .permissions import Reach
from .schemas import KINDS
from .sources import SourceDocument
from .store import LoadSummary, apply_documents, remove_document, validate_documents, working_config
from .submissions import mark_edited, record_published, submission_of
from .validation import Config, kpi_names
from .versions import content_hash, latest_version, publish

#: the kinds' names in the designer and the API → the configuration's sections
SECTIONS = {
    "datasets": "datasets",
    "metrics": "metrics",
    "kpis": "kpis",
    "templates": "templates",
    "forms": "forms",
    "flows": "approval_flows",
    "targets": "targets",
    "schedules": "schedules",
    "attributes": "employee_attributes",
    "plans": "plans",
}
KIND_OF_SECTION = {section: kind for kind, section in SECTIONS.items()}
#: one document of a kind, in words
SINGULAR = {
    "datasets": "dataset",
    "metrics": "metric",
    "kpis": "KPI",
    "templates": "template",
    "forms": "form",
    "flows": "approval flow",
    "targets": "target set",
    "schedules": "schedule",
    "attributes": "employee attribute",
    "plans": "incentive plan",
}
assert set(SECTIONS.values()) == set(KINDS), "every section of the configuration has a kind in the designer"


class NotFound(LookupError):
    """No such kind, or no such document in the draft (or one the user may not know of)."""


class Forbidden(PermissionError):
    """The user may not do this."""


def section_of(kind: str) -> str:
    try:
        return SECTIONS[kind]
    except KeyError:
        raise NotFound(f"unknown kind '{kind}'; expected one of {', '.join(SECTIONS)}") from None


SLUG_PATTERN = r"^[a-z][a-z0-9_]{0,63}$"
_OWN_PATH = re.compile(r"^(?P<section>[a-z_]+)\[0\]\.?")


def _own_paths(section: str, problems: list[Problem]) -> list[Problem]:
    """Problems with their paths inside the document being saved (`sections[0].weight`)."""
    found = []
    for problem in problems:
        match = _OWN_PATH.match(problem.path)
        if match and match["section"] == section:
            problem = Problem(problem.path[match.end() :], problem.message, problem.file, problem.line)
        found.append(problem)
    return found


def list_documents(session: Session, reach: Reach, kind: str, config: Config | None = None) -> dict[str, dict]:
    """{slug: document} of a kind, the ones the user may read."""
    section = section_of(kind)
    if not reach.may_open(section):
        raise Forbidden(f"you may not work with {kind}")
    config = working_config(session) if config is None else config
    return {slug: doc for slug, doc in sorted(config[section].items()) if reach.may_read(section, doc)}


def read_document(session: Session, reach: Reach, kind: str, slug: str, config: Config | None = None) -> dict:
    section = section_of(kind)
    config = working_config(session) if config is None else config
    document = config[section].get(slug)
    if document is None:
        raise NotFound(f"there is no {SINGULAR.get(kind, kind)} '{slug}' in the draft")
    if not reach.may_open(section):
        raise Forbidden(f"you may not work with {kind}")
    if not reach.may_read(section, document):  # as if it were not there: its existence is not theirs to know
        raise NotFound(f"there is no {SINGULAR.get(kind, kind)} '{slug}' in the draft")
    return document


def _prepared(
    session: Session, reach: Reach, kind: str, slug: str, document: dict, *, new: bool, config: Config
) -> tuple[str, SourceDocument, list[Problem]]:
    """The document to validate, and the problems the store cannot know of (a slug taken or
    missing, a manager's scope)."""
    section = section_of(kind)
    if not reach.may_open(section):
        raise Forbidden(f"you may not change {kind}")
    stored = config[section].get(slug)
    if not new and stored is None:
        raise NotFound(f"there is no {SINGULAR.get(kind, kind)} '{slug}' in the draft")
    if stored is not None and not new and not reach.may_read(section, stored):
        raise NotFound(f"there is no {SINGULAR[kind]} '{slug}' in the draft")  # not theirs to know of
    if stored is not None and not reach.may_write(section, stored):
        raise Forbidden(f"you may not change {kind} '{slug}'")
    problems: list[Problem] = []
    if new:
        if not slug:
            problems.append(Problem("slug", "give it a code: lowercase letters, digits and _, starting with a letter"))
        elif not re.match(SLUG_PATTERN, slug):
            problems.append(
                Problem("slug", "must be lowercase letters, digits and underscores, starting with a letter")
            )
        elif stored is not None:
            problems.append(Problem("slug", f"A {SINGULAR[kind]} with this code exists already."))
    data = dict(document) if isinstance(document, dict) else {}
    data["slug"] = slug
    if section == "templates" and not reach.may_write(section, data):
        problems.append(Problem("applies_to.departments", "choose departments of your own part of the organisation"))
    return section, SourceDocument(section, 0, data), problems


def check_document(
    session: Session,
    reach: Reach,
    kind: str,
    slug: str,
    document: dict,
    functions: FunctionRegistry,
    *,
    new: bool = False,
    config: Config | None = None,
) -> list[Problem]:
    """What saving `document` would meet, without saving it: [] when it would be saved."""
    config = working_config(session) if config is None else config
    section, source, problems = _prepared(session, reach, kind, slug, document, new=new, config=config)
    try:
        validate_documents([source], config, functions)
    except ConfigError as exc:
        problems.extend(_own_paths(section, exc.problems))
    return problems


def save_document(
    session: Session,
    reach: Reach,
    actor: str,
    kind: str,
    slug: str,
    document: dict,
    functions: FunctionRegistry,
    *,
    new: bool = False,
) -> LoadSummary:
    """Save one document into the draft (validated, audited), or ConfigError with its problems
    and nothing saved. A template edited after it was published or submitted is a draft again."""
    config = working_config(session)
    section, source, problems = _prepared(session, reach, kind, slug, document, new=new, config=config)
    if problems:
        with contextlib.suppress(ConfigError):  # the store's problems too, all at once
            validate_documents([source], config, functions)
            raise ConfigError(problems)
        problems += check_document(session, reach, kind, slug, document, functions, new=new, config=config)
        raise ConfigError(list(dict.fromkeys(problems)))
    try:
        summary = apply_documents(session, [source], functions, actor)
    except ConfigError as exc:
        raise ConfigError(_own_paths(section, exc.problems)) from None
    if section == "templates" and summary.changed:
        mark_edited(session, slug, actor)
    session.flush()
    return summary


def delete_document(
    session: Session, reach: Reach, actor: str, kind: str, slug: str, functions: FunctionRegistry
) -> dict:
    """Remove a document from the draft if nothing else needs it; the removed document."""
    section = section_of(kind)
    read_document(session, reach, kind, slug)
    if not reach.may_write(section, working_config(session)[section][slug]):
        raise Forbidden(f"you may not remove {kind} '{slug}'")
    return remove_document(session, section, slug, functions, actor)


# --- what a template needs, and publishing ---------------------------------------------------


Found = dict[tuple[str, str], None]


def _measures(config: Config, names: list[str], functions: FunctionRegistry, found: Found) -> set[str]:
    """Adds to `found` the KPIs and metrics `names` names, and what their formulas name (KPIs,
    metrics, their datasets, employee attributes); returns every name measured, targets and
    previous values included."""
    catalogue: Catalogue = kpi_names(config)
    measured: set[str] = set()
    pending = list(names)

    def add_kpi(slug: str) -> None:
        if slug in config.get("kpis", {}) and ("kpis", slug) not in found:
            found[("kpis", slug)] = None
            measured.add(slug)
            with contextlib.suppress(FormulaError):
                formula = config["kpis"][slug]["formula"]
                pending.extend(compile_formula(formula, catalogue, functions=functions, expect=NUMBER).names)

    while pending:
        name = pending.pop()
        prefix, _, rest = name.partition(".")
        if prefix == "kpi":
            add_kpi(rest)
        elif prefix == "employee" and rest in config.get("employee_attributes", {}):
            found[("employee_attributes", rest)] = None
        elif prefix in ("target", "prev"):
            measured.add(rest)
        elif not rest:  # a metric or a KPI (a target names either; both may share a code)
            if name in config.get("metrics", {}):
                found[("metrics", name)] = None
                measured.add(name)
                if config["metrics"][name]["dataset"] in config.get("datasets", {}):
                    found[("datasets", config["metrics"][name]["dataset"])] = None
            add_kpi(name)
    return measured


def template_dependencies(config: Config, slug: str, functions: FunctionRegistry) -> list[tuple[str, str]]:
    """[(section, slug)] of the documents template `slug` uses, directly or through others: its
    KPIs and the KPIs, metrics, datasets and employee attributes their formulas name; its forms;
    its approval flow; and the target sets that set targets for its metrics or KPIs."""
    template = config.get("templates", {}).get(slug)
    if template is None:
        return []
    found: Found = {}
    kpis = [f"kpi.{item['kpi']}" for section in template["sections"] for item in section["items"] if item.get("kpi")]
    measured = _measures(config, kpis, functions, found)
    for section in template["sections"]:
        for item in section["items"]:
            if item.get("form") in config.get("forms", {}):
                found[("forms", item["form"])] = None
    if template.get("approval_flow") in config.get("approval_flows", {}):
        found[("approval_flows", template["approval_flow"])] = None
    for target_slug, target_set in config.get("targets", {}).items():
        if any(entry["name"] in measured for entry in target_set["entries"]):
            found[("targets", target_slug)] = None
    order = list(KINDS)
    return sorted(found, key=lambda key: (order.index(key[0]), key[1]))


def _what_target_sets_need(config: Config, found: Found, functions: FunctionRegistry) -> Found:
    """What the target sets in `found` name besides the templates' own measures: a set goes whole
    into a version, so every metric, KPI and weight attribute its entries name must go too."""
    needed: Found = {}
    for section, slug in list(found):
        if section == "targets":
            entries = config["targets"][slug]["entries"]
            _measures(config, [entry["name"] for entry in entries], functions, needed)
            for entry in entries:
                if entry.get("weight_attribute") in config.get("employee_attributes", {}):
                    needed[("employee_attributes", entry["weight_attribute"])] = None
    return needed


@dataclass
class Release:
    """What publishing some templates makes the configuration: the latest version with those
    templates as the draft has them, and the draft documents they depend on that are new or
    changed; nothing else of the draft."""

    snapshot: Config
    #: [(section, slug, "new" | "changed")], the templates first
    documents: list[tuple[str, str, str]] = field(default_factory=list)
    #: {(section, slug): [templates of the latest version that use it]}: they change too
    also_changes: dict[tuple[str, str], list[str]] = field(default_factory=dict)


def release(
    session: Session, templates: list[str], functions: FunctionRegistry, config: Config | None = None
) -> Release:
    config = working_config(session) if config is None else config
    latest = latest_version(session)
    published: Config = latest.snapshot if latest else {}
    snapshot = {kind: dict(documents) for kind, documents in published.items()}
    result = Release(snapshot)
    wanted: dict[tuple[str, str], None] = {}
    for slug in templates:
        if slug not in config.get("templates", {}):
            raise NotFound(f"there is no template '{slug}' in the draft")
        wanted[("templates", slug)] = None
    for slug in templates:
        for key in template_dependencies(config, slug, functions):
            wanted.setdefault(key, None)
    for key in _what_target_sets_need(config, wanted, functions):
        wanted.setdefault(key, None)
    for section, slug in wanted:
        draft = config[section][slug]
        before = published.get(section, {}).get(slug)
        if before == draft:
            continue
        snapshot.setdefault(section, {})[slug] = draft
        result.documents.append((section, slug, "new" if before is None else "changed"))
        if section != "templates" and before is not None:
            users = [
                other
                for other in sorted(published.get("templates", {}))
                if other not in templates and (section, slug) in template_dependencies(published, other, functions)
            ]
            if users:
                result.also_changes[(section, slug)] = users
    return result


def publish_templates(
    session: Session,
    reach: Reach,
    actor: str,
    templates: list[str],
    message: str,
    functions: FunctionRegistry,
) -> tuple[ConfigVersion, Release]:
    """Publish templates with the draft documents they depend on (see `Release`); a template
    submitted by a manager must not have changed since. ConfigError names what blocks it."""
    if not reach.everything:
        raise Forbidden("only HR and administrators publish")
    config = working_config(session)
    for slug in templates:
        row = submission_of(session, slug)
        template = config.get("templates", {}).get(slug)
        if (
            row is not None
            and row.state == "submitted"
            and template is not None
            and row.document_hash != content_hash(template)
        ):
            raise ConfigError(
                [
                    Problem(
                        f"templates.{slug}",
                        f"template '{slug}' changed after it was submitted: "
                        "it must be submitted again before it is published",
                    )
                ]
            )
    planned = release(session, templates, functions, config)
    if not planned.documents:
        raise ConfigError([Problem("", "nothing to publish: these templates and what they use are as published")])
    version = publish(session, message, functions, actor, snapshot=planned.snapshot)
    session.flush()
    for slug in templates:
        record_published(session, slug, actor, version.number)
    return version, planned


def publish_draft(
    session: Session, reach: Reach, actor: str, message: str, functions: FunctionRegistry
) -> ConfigVersion:
    """Publish the whole draft as the next version."""
    if not reach.everything:
        raise Forbidden("only HR and administrators publish")
    version = publish(session, message, functions, actor)
    session.flush()
    for slug in working_config(session).get("templates", {}):
        record_published(session, slug, actor, version.number, only_known=True)
    return version
