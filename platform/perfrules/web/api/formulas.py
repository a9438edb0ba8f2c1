"""Formulas while they are written: check one against the names its place allows (errors with
their character offsets and a "did you mean" suggestion), list those names and the functions,
and preview a KPI for one employee and period on the draft configuration with the edited
formula in place — nothing is written.

Contexts, as the configuration uses formulas:

| context     | names                                                     | gives             |
|-------------|-----------------------------------------------------------|-------------------|
| `kpi`       | metrics, `target.x`, `prev.x`, `kpi.x` (not itself), `employee.x` | a number  |
| `filter`    | the fields of one dataset                                 | a true/false condition |
| `scoring`   | `value`, `target`                                         | a number          |
| `condition` | `total`, `grade`, `company_rank`, `department_rank`, `employee.x` | a true/false condition |
"""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa
from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, ValidationError, fields, validate

from ...config.schemas import MISSING_POLICIES, Scoring
from ...config.store import working_config
from ...config.validation import (
    Config,
    _cycles,
    dataset_catalogue,
    kpi_names,
    scorecard_catalogue,
    strip_none,
)
from ...db import begin_reading
from ...engine.metrics import describe_metric
from ...engine.periods import PeriodError, period_from_text
from ...engine.preview import PreviewError, preview_kpi
from ...formula import BOOLEAN, NUMBER, SPECIAL_FORMS, Catalogue, FormulaError, compile_formula
from ...formula import tree as t
from ...org.access import visibility
from ...org.models import Employee
from ...plugins import load_plugins
from ...problems import flatten_messages, format_path
from ..auth import token_required
from ..db import get_session
from ..i18n import label as in_language
from .common import SECURITY, abort, only_for

blp = Blueprint(
    "formulas",
    __name__,
    url_prefix="/api/v1/formulas",
    description="Formulas: check while typing, the names and functions available, preview a KPI",
)

FORMULA_ROLES = ("admin", "hr", "manager")
CONTEXTS = ("kpi", "filter", "scoring", "condition")
EXPECT = {"kpi": NUMBER, "filter": BOOLEAN, "scoring": NUMBER, "condition": BOOLEAN}
MAX_TEXT = 20_000  # the formula language's own limit (2,000) is reported as an error with its place

_SUGGESTION = re.compile(r"did you mean '(.+)'\?")
_KEYWORD = re.compile(r"'(if|and|or)' is a keyword here")

#: the forms of the language that read like functions, described as the registry describes functions
FORM_SUMMARIES = {
    "if": {
        "en": "then when the condition is true, otherwise when it is false",
        "zh": "条件为真时取 then,为假时取 otherwise",
    },
    "and": {"en": "true when every argument is true", "zh": "所有参数都为真时为真"},
    "or": {"en": "true when any argument is true", "zh": "任一参数为真时为真"},
    "not": {"en": "the opposite of a condition", "zh": "条件取反"},
    "coalesce": {
        "en": "the first argument that is not missing: COALESCE(satisfaction, 3)",
        "zh": "第一个不为空的参数:COALESCE(satisfaction, 3)",
    },
}
BUILTIN_LABELS = {
    "employee.tenure_months": {"zh": "司龄(月)", "en": "Tenure (months)"},
    "value": {"zh": "KPI 的值", "en": "The KPI's value"},
    "target": {"zh": "KPI 的目标", "en": "The KPI's target"},
    "total": {"zh": "总分", "en": "Total"},
    "grade": {"zh": "等级", "en": "Grade"},
    "company_rank": {"zh": "公司排名", "en": "Rank in the company"},
    "department_rank": {"zh": "部门排名", "en": "Rank in the department"},
}


class ContextError(Exception):
    """What was asked does not name a place formulas are written (unknown dataset)."""

    def __init__(self, path: str, message: str):
        super().__init__(message)
        self.path, self.message = path, message


# --- names by context ---------------------------------------------------------------------------


def context_catalogue(config: Config, context: str, dataset: str | None = None, kpi: str | None = None) -> Catalogue:
    """The names a formula may use in `context`, exactly as configuration validation allows them;
    a KPI being edited (`kpi`) cannot use its own value."""
    if context == "kpi":
        names = kpi_names(config)
        return Catalogue([info for info in names if info.name != f"kpi.{kpi}"]) if kpi else names
    if context == "filter":
        if not dataset:
            raise ContextError("dataset", "a filter needs the dataset it filters")
        document = config.get("datasets", {}).get(dataset)
        if document is None:
            raise ContextError("dataset", f"unknown dataset '{dataset}'")
        return dataset_catalogue(document)
    if context == "scoring":
        return Catalogue({"value": NUMBER, "target": NUMBER})
    return scorecard_catalogue(config)


def _prefixed(label: dict | None, zh: str, en: str) -> dict:
    label = label or {}
    return {
        "zh": f"{zh}{label.get('zh') or label.get('en') or ''}",
        "en": f"{en}{label.get('en') or label.get('zh') or ''}",
    }


def catalogue_entries(config: Config, context: str, dataset: str | None = None, kpi: str | None = None) -> list[dict]:
    """Every name of the context with its kind, type and label (and what a metric counts)."""
    catalogue = context_catalogue(config, context, dataset, kpi)
    metrics, kpis = config.get("metrics", {}), config.get("kpis", {})
    attributes = config.get("employee_attributes", {})
    fields_by_name = {f["name"]: f for f in config.get("datasets", {}).get(dataset or "", {}).get("fields", [])}
    entries = []
    for info in catalogue:
        name = info.name
        entry: dict[str, Any] = {"name": name, "type": info.type.value, "description": None}
        prefix, _, rest = name.partition(".")
        if context == "filter":
            field_def = fields_by_name.get(name, {})
            entry.update(kind="field", label=field_def.get("label"))
            if field_def.get("options"):
                entry["options"] = [option["value"] for option in field_def["options"]]
        elif name in BUILTIN_LABELS:
            entry.update(kind="employee" if prefix == "employee" else context, label=BUILTIN_LABELS[name])
        elif prefix == "employee":
            entry.update(kind="employee", label=attributes.get(rest, {}).get("label"))
        elif prefix == "target" and rest:
            source = metrics.get(rest) or kpis.get(rest) or {}
            entry.update(kind="target", label=_prefixed(source.get("label"), "目标:", "Target: "))
        elif prefix == "prev" and rest:
            source = metrics.get(rest) or kpis.get(rest) or {}
            entry.update(kind="prev", label=_prefixed(source.get("label"), "上期:", "Previous period: "))
        elif prefix == "kpi" and rest:
            entry.update(
                kind="kpi", label=kpis.get(rest, {}).get("label"), description=kpis.get(rest, {}).get("formula")
            )
        else:
            metric = metrics.get(name)
            entry.update(
                kind="metric",
                label=metric.get("label") if metric else None,
                description=describe_metric(metric) if metric else None,
            )
        entry["text"] = in_language(entry["label"]) if entry.get("label") else name
        entries.append(entry)
    order = {"metric": 0, "target": 1, "prev": 2, "kpi": 3, "employee": 4}
    entries.sort(key=lambda e: (order.get(e["kind"], 5), e["name"]))
    return entries


def function_entries(functions) -> list[dict]:
    entries = [
        {
            "name": name.upper(),
            "kind": "form",
            "signature": signature,
            "summary": FORM_SUMMARIES.get(name, {}),
            "text": in_language(FORM_SUMMARIES.get(name)),
            "min_args": low,
            "max_args": high,
        }
        for name, (signature, low, high) in SPECIAL_FORMS.items()
    ]
    entries += [
        {
            "name": f.display_name,
            "kind": "function",
            "signature": f.signature or f"{f.display_name}(…)",
            "summary": dict(f.summary),
            "text": in_language(f.summary) if f.summary else "",
            "min_args": f.min_args,
            "max_args": f.max_args,
        }
        for f in sorted(functions, key=lambda f: f.name)
    ]
    return entries


# --- checking -----------------------------------------------------------------------------------


def error_entry(exc: FormulaError, kpi: str | None = None) -> dict:
    """A formula error for the editor: the message, the span as character offsets, and the text
    that would fix it when there is one."""
    message, start, end = exc.message, exc.start, exc.end
    suggestion = None
    found = _SUGGESTION.search(message)
    keyword = _KEYWORD.match(message)
    if kpi and message.startswith(f"unknown name 'kpi.{kpi}'"):
        message = f"a KPI cannot use its own value (kpi.{kpi})"
    elif found:
        suggestion = found.group(1)
    elif keyword:
        suggestion = keyword.group(1).upper()
        end = start + len(keyword.group(1))
    elif exc.text[start:end] == "=" and "'=='" in message:
        suggestion = "=="
    shown = FormulaError(message, exc.text, start, end)
    return {**shown.to_dict(), "suggestion": suggestion}


def _name_span(root: t.Node, name: str) -> tuple[int, int]:
    stack = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, t.Name) and node.name == name:
            return node.span
        stack.extend(reversed(t.children(node)))
    return root.span


def _cycle_error(config: Config, functions, slug: str, compiled) -> FormulaError | None:
    """Using kpi.x where x (directly or not) uses this KPI would make a cycle."""
    uses = [name[4:] for name in compiled.names if name.startswith("kpi.")]
    if not uses:
        return None
    catalogue = kpi_names(config)
    dependencies = {slug: uses}
    for other, document in config.get("kpis", {}).items():
        if other == slug:
            continue
        try:
            names = compile_formula(document["formula"], catalogue, functions=functions).names
        except FormulaError:
            continue
        dependencies[other] = [name[4:] for name in names if name.startswith("kpi.")]
    for _, cycle in _cycles(dependencies):
        if slug in cycle[:-1]:
            at = cycle.index(slug)
            path = cycle[at:-1] + cycle[:at] + [slug]
            return FormulaError(
                "KPIs depend on each other in a cycle: " + " → ".join(f"kpi.{k}" for k in path),
                compiled.text,
                *_name_span(compiled.root, f"kpi.{path[1]}"),
            )
    return None


def check_formula(
    config: Config, functions, text: str, context: str, *, dataset: str | None = None, kpi: str | None = None
) -> dict:
    """{ok, type, names, functions, errors} for a formula in its context."""
    catalogue = context_catalogue(config, context, dataset, kpi)
    try:
        compiled = compile_formula(text, catalogue, functions=functions, expect=EXPECT[context])
        problem = _cycle_error(config, functions, kpi, compiled) if context == "kpi" and kpi else None
    except FormulaError as exc:
        return {"ok": False, "type": None, "names": [], "functions": [], "errors": [error_entry(exc, kpi)]}
    if problem is not None:
        return {
            "ok": False,
            "type": compiled.type.value,
            "names": list(compiled.names),
            "functions": [name.upper() for name in compiled.functions],
            "errors": [error_entry(problem, kpi)],
        }
    return {
        "ok": True,
        "type": compiled.type.value,
        "names": list(compiled.names),
        "functions": [name.upper() for name in compiled.functions],
        "errors": [],
    }


# --- the endpoints ------------------------------------------------------------------------------


class CheckIn(Schema):
    formula = fields.Str(required=True, validate=validate.Length(max=MAX_TEXT))
    context = fields.Str(required=True, validate=validate.OneOf(CONTEXTS))
    dataset = fields.Str(load_default=None, metadata={"description": "the dataset a filter filters"})
    kpi = fields.Str(load_default=None, metadata={"description": "the KPI being edited: it cannot use itself"})


class CatalogueArgs(Schema):
    context = fields.Str(required=True, validate=validate.OneOf(CONTEXTS))
    dataset = fields.Str(load_default=None)
    kpi = fields.Str(load_default=None)


class PreviewIn(Schema):
    formula = fields.Str(
        load_default=None,
        validate=validate.Length(max=MAX_TEXT),
        metadata={"description": "the edited formula; without it, the KPI's formula in the draft"},
    )
    kpi = fields.Str(load_default=None, metadata={"description": "the KPI's slug (new or in the draft)"})
    scoring = fields.Dict(load_default=None, metadata={"description": "the edited scoring rule; without it, the KPI's"})
    missing = fields.Str(load_default=None, validate=validate.OneOf(MISSING_POLICIES))
    employee = fields.Str(required=True, metadata={"description": "an employee code"})
    period = fields.Str(required=True, metadata={"description": "2026-10, 2026-Q4 … or last-month"})


def _reading():
    """The request's session as a reader: checks and previews never hold SQLite's write lock."""
    session = get_session()
    session.rollback()
    return begin_reading(session)


def _context_error(exc: ContextError, location: str = "json"):
    abort(422, message=exc.message, errors=[{"path": f"{location}.{exc.path}", "message": exc.message}])


@blp.route("/check")
class Check(MethodView):
    @token_required(*FORMULA_ROLES)
    @blp.alt_response(403, description=only_for(*FORMULA_ROLES))
    @blp.doc(security=SECURITY)
    @blp.arguments(CheckIn)
    @blp.response(
        200,
        description="{ok, type, names, functions, errors: [{message, start, end, line, column, "
        "excerpt, suggestion}]}; start and end are character offsets, end exclusive",
    )
    def post(self, payload):
        """Check a formula against the names its context allows, in the draft configuration."""
        config = working_config(_reading())
        try:
            return check_formula(
                config,
                load_plugins().functions,
                payload["formula"],
                payload["context"],
                dataset=payload["dataset"],
                kpi=payload["kpi"],
            )
        except ContextError as exc:
            _context_error(exc)


@blp.route("/catalogue")
class CatalogueView(MethodView):
    @token_required(*FORMULA_ROLES)
    @blp.alt_response(403, description=only_for(*FORMULA_ROLES))
    @blp.doc(security=SECURITY)
    @blp.arguments(CatalogueArgs, location="query")
    @blp.response(
        200,
        description="{context, names: [{name, kind, type, label, text, description}], "
        "functions: [{name, kind, signature, summary, text}]}",
    )
    def get(self, args):
        """The names a formula may use in a context, and the functions it may call."""
        config = working_config(_reading())
        try:
            names = catalogue_entries(config, args["context"], args["dataset"], args["kpi"])
        except ContextError as exc:
            _context_error(exc, "query")
        return {"context": args["context"], "names": names, "functions": function_entries(load_plugins().functions)}


def _scoring_problems(scoring: dict, functions) -> list[dict]:
    try:
        loaded = Scoring().load(scoring)
    except ValidationError as exc:
        return [
            {"path": format_path(("json", "scoring") + path), "message": message}
            for path, message in flatten_messages(exc.messages)
        ]
    if loaded["type"] == "formula":
        result = check_formula({}, functions, loaded["formula"], "scoring")
        return [{"path": "json.scoring.formula", **error} for error in result["errors"]]
    return []


@blp.route("/preview")
class Preview(MethodView):
    @token_required(*FORMULA_ROLES)
    @blp.alt_response(403, description=only_for(*FORMULA_ROLES))
    @blp.doc(security=SECURITY)
    @blp.arguments(PreviewIn)
    @blp.response(
        200,
        description="{kpi, employee, name, department, period, formula, value, target, "
        "target_source, inputs, metrics, score, scoring, policy, excluded, error, notes, warnings, "
        "no_data, suggestions: [{employee, name, department, records}]}; no_data says why the employee "
        "has no data for the KPI (null: they have), and suggestions name up to 3 people you may see who have",
    )
    @blp.alt_response(404, description="no such employee, or not one you may see")
    @blp.alt_response(422, description="the formula or the scoring rule has problems, with their paths")
    def post(self, payload):
        """A KPI for one employee and period, on the draft with the edited formula and scoring rule
        in place; nothing is written. Only for employees you may see."""
        session = _reading()
        functions = load_plugins().functions
        try:
            period = period_from_text(payload["period"])
        except PeriodError as exc:
            abort(422, message=str(exc), errors=[{"path": "json.period", "message": str(exc)}])
        employee = session.execute(
            sa.select(Employee.id, Employee.department_id).where(Employee.code == payload["employee"])
        ).first()
        seen = visibility(g.user)
        if employee is None or not seen.allows(session, employee.department_id, employee.id):
            abort(404, message=f"no employee {payload['employee']} that you may see")

        config = {kind: dict(documents) for kind, documents in working_config(session).items()}
        slug, formula = payload["kpi"], payload["formula"]
        existing = config["kpis"].get(slug) if slug else None
        if formula is None and existing is None:
            if slug:
                abort(404, message=f"unknown KPI '{slug}'")
            abort(
                422,
                message="give a formula or a KPI",
                errors=[{"path": "json.formula", "message": "give a formula or a KPI"}],
            )
        slug = slug or "preview"
        problems = []
        if formula is not None:
            checked = check_formula(config, functions, formula, "kpi", kpi=slug)
            problems += [{"path": "json.formula", **error} for error in checked["errors"]]
        scoring = payload["scoring"] if payload["scoring"] is not None else (existing or {}).get("scoring")
        if scoring is None:
            problems.append({"path": "json.scoring", "message": "a new KPI needs a scoring rule to be scored"})
        else:
            problems += _scoring_problems(scoring, functions)
        if problems:
            abort(422, message=f"{len(problems)} problem(s)", errors=problems)
        document = dict(existing or {"slug": slug, "label": {"zh": slug, "en": slug}})
        document["formula"] = formula if formula is not None else document["formula"]
        document["scoring"] = strip_none(Scoring().dump(Scoring().load(scoring)))
        if payload["missing"]:
            document["missing"] = payload["missing"]
        config["kpis"][slug] = document
        try:
            result = preview_kpi(session, config, functions, slug, payload["employee"], period, seen)
        except PreviewError as exc:
            abort(404, message=str(exc))
        return result.to_dict()
