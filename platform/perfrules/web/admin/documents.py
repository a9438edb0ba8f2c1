"""Configuration documents as the console edits them: one document as YAML text, the schema's
fields as help, a short summary per kind, and side-by-side views of two versions of a document.
No Flask in here."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from marshmallow import Schema, fields, validate

from ...config.schemas import KINDS, SLUG
from ...config.sources import SourceDocument, _line_map, dump_yaml
from ...config.store import in_schema_order
from ...problems import ConfigError, Problem
from ...yamltext import YamlRefused, read_yaml

#: the longest document the editor takes, and the most values it may expand to through YAML
#: aliases (a few lines of nested aliases can otherwise stand for billions of values)
MAX_TEXT = 2 * 2**20
MAX_NODES = 200_000


def document_yaml(kind: str, document: dict) -> str:
    return dump_yaml(in_schema_order(kind, document))


def parse_document(kind: str, text: str) -> SourceDocument:
    """One document of `kind` from YAML text (a mapping with slug, label …), remembering lines."""
    try:
        data, node = read_yaml(text, max_bytes=MAX_TEXT, max_nodes=MAX_NODES)
    except YamlRefused as exc:
        raise ConfigError([Problem("", f"the document is {exc.message}", None, exc.line)]) from None
    if node is None or not isinstance(data, dict):  # an empty text composes to no node at all
        raise ConfigError(
            [
                Problem(
                    "",
                    "write one document: a mapping with slug, label and the other fields listed beside the editor",
                    None,
                    1,
                )
            ]
        )
    return SourceDocument(kind, 0, data, None, _line_map(node))


# --- the schema's fields, as help ----------------------------------------------------------------


@dataclass(frozen=True)
class FieldHelp:
    path: str
    type: str
    required: bool
    default: str | None
    allowed: tuple[str, ...]
    depth: int


def _type_name(field: fields.Field) -> str:
    if isinstance(field, fields.Nested):
        return "mapping"
    if isinstance(field, fields.List):
        return (
            "list"
            if isinstance(field.inner, fields.Nested) and not _is_label(field.inner)
            else f"list of {_type_name(field.inner)}"
        )
    if isinstance(field, fields.Dict):
        return "mapping"
    if isinstance(field, fields.Boolean):
        return "true/false"
    if isinstance(field, fields.Integer):
        return "whole number"
    if isinstance(field, fields.Number):
        return "number"
    return "text"


def _allowed(field: fields.Field) -> tuple[str, ...]:
    found: list[str] = []
    for validator in field.validators:
        if isinstance(validator, validate.OneOf):
            found.extend(str(choice) for choice in validator.choices)
        elif isinstance(validator, validate.Range):
            low = (
                ""
                if validator.min is None
                else (f"> {validator.min:g}" if not validator.min_inclusive else f"≥ {validator.min:g}")
            )
            high = "" if validator.max is None else f"≤ {validator.max:g}"
            found.append(" and ".join(part for part in (low, high) if part))
        elif validator is SLUG:
            found.append("a-z 0-9 _, starting with a letter")
        elif isinstance(validator, validate.Regexp) and validator.error:
            found.append(str(validator.error))
    if isinstance(field, fields.List):
        found.extend(_allowed(field.inner))
    return tuple(found)


def _default(field: fields.Field) -> str | None:
    default = field.load_default
    if default is None or default is fields.missing_ or callable(default):
        return None
    return str(default).lower() if isinstance(default, bool) else str(default)


def _is_label(field: fields.Field) -> bool:
    return isinstance(field, fields.Nested) and set(field.schema.fields) == {"zh", "en"}


def schema_help(kind: str) -> list[FieldHelp]:
    """Every field a document of `kind` may have, nested ones right after the field holding them."""
    rows: list[FieldHelp] = []

    def walk(schema: Schema, prefix: str, depth: int) -> None:  # schemas nest three levels at most
        for name, field in schema.fields.items():
            path = prefix + (field.data_key or name)
            rows.append(
                FieldHelp(
                    path,
                    "{zh: …, en: …}" if _is_label(field) else _type_name(field),
                    bool(field.required),
                    _default(field),
                    _allowed(field),
                    depth,
                )
            )
            inner = field.inner if isinstance(field, fields.List) else field
            if isinstance(inner, fields.Nested) and not _is_label(inner):
                walk(inner.schema, path + ("[]." if isinstance(field, fields.List) else "."), depth + 1)

    walk(KINDS[kind](), "", 0)
    return rows


# --- a line about each document, for the lists ----------------------------------------------------


def _short(text: str, limit: int = 90) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def summary(kind: str, document: dict) -> str:
    if kind == "datasets":
        names = [f["name"] for f in document.get("fields", [])]
        return _short(f"{len(names)} fields: {', '.join(names)}")
    if kind == "employee_attributes":
        return document.get("type", "")
    if kind == "forms":
        return f"{document.get('filled_by', '')} · {len(document.get('fields', []))} fields"
    if kind == "metrics":
        what = f"{document.get('aggregate')}({document.get('field') or ''}) of {document.get('dataset')}"
        if document.get("filter"):
            what += f" where {document['filter']}"
        window = document.get("window", "period")
        return _short(
            what
            + ("" if window == "period" else f" · {window}")
            + ("" if document.get("scope", "self") == "self" else f" · {document['scope']}")
        )
    if kind == "kpis":
        return _short(f"{document.get('formula', '')} · {document.get('scoring', {}).get('type', '')}")
    if kind == "targets":
        return f"{len(document.get('entries', []))} entries"
    if kind == "approval_flows":
        return _short(" → ".join(step.get("name", "") for step in document.get("steps", [])))
    if kind == "templates":
        applies = document.get("applies_to", {})
        scope = ", ".join(applies.get("departments", []) + applies.get("roles", [])) or "everyone"
        return _short(
            f"{scope} · {len(document.get('sections', []))} sections"
            + (f" · {', '.join(document['cycles'])}" if document.get("cycles") else "")
        )
    if kind == "schedules":
        return _short(
            f"{document.get('cycle')} · {document.get('cron')} {document.get('timezone', '')} · "
            f"{', '.join(document.get('templates', []))}"
        )
    if kind == "plans":
        return _short(" · ".join(f"{c.get('slug')} ({c.get('frequency')})" for c in document.get("components", [])))
    return ""


# --- new documents -------------------------------------------------------------------------------


def skeleton(kind: str, config: dict) -> dict:
    """A small valid-looking document to start from, using what the draft already has."""
    first = lambda section, fallback: next(iter(sorted(config.get(section, {}))), fallback)  # noqa: E731
    label = {"zh": "新建", "en": "New"}
    if kind == "datasets":
        return {
            "slug": "new_dataset",
            "label": label,
            "owner_field": "owner",
            "date_field": "occurred_on",
            "fields": [
                {"name": "owner", "label": {"zh": "负责人", "en": "Owner"}, "type": "employee", "required": True},
                {"name": "occurred_on", "label": {"zh": "日期", "en": "Date"}, "type": "date", "required": True},
                {"name": "amount", "label": {"zh": "金额", "en": "Amount"}, "type": "decimal"},
            ],
        }
    if kind == "employee_attributes":
        return {"slug": "new_attribute", "label": label, "type": "number"}
    if kind == "forms":
        return {
            "slug": "new_form",
            "label": label,
            "filled_by": "manager",
            "fields": [
                {"name": "rating", "label": {"zh": "评分", "en": "Rating"}, "type": "rating", "min": 1, "max": 5}
            ],
        }
    if kind == "metrics":
        return {"slug": "new_metric", "label": label, "dataset": first("datasets", "deals"), "aggregate": "count"}
    if kind == "kpis":
        return {
            "slug": "new_kpi",
            "label": label,
            "formula": first("metrics", "0"),
            "scoring": {
                "type": "linear",
                "value_from": 0,
                "value_to": 1,
                "points_from": 0,
                "points_to": 100,
                "floor": 0,
                "cap": 100,
            },
        }
    if kind == "targets":
        return {"slug": "new_targets", "label": label, "entries": []}
    if kind == "approval_flows":
        return {
            "slug": "new_flow",
            "label": label,
            "steps": [
                {"name": "manager_review", "label": {"zh": "上级评分", "en": "Manager review"}, "actor": "manager"}
            ],
        }
    if kind == "templates":
        return {
            "slug": "new_template",
            "label": label,
            "applies_to": {"departments": [], "roles": []},
            "sections": [
                {
                    "name": "results",
                    "label": {"zh": "业绩", "en": "Results"},
                    "weight": 100,
                    "items": [{"kpi": first("kpis", "kpi_slug"), "weight": 100}],
                }
            ],
            "grades": [
                {"grade": "A", "min": 85, "label": {"zh": "优秀", "en": "Excellent"}},
                {"grade": "B", "min": 60, "label": {"zh": "合格", "en": "Acceptable"}},
                {"grade": "C", "min": 0, "label": {"zh": "待改进", "en": "Needs improvement"}},
            ],
        }
    if kind == "schedules":
        return {
            "slug": "new_schedule",
            "label": label,
            "templates": [first("templates", "template_slug")],
            "cycle": "monthly",
            "cron": "0 2 3 * *",
            "timezone": "Asia/Shanghai",
            "evaluate": "previous",
            "enabled": False,
        }
    if kind == "plans":
        return {
            "slug": "new_plan",
            "label": label,
            "currency": "CNY",
            "assign": [{"departments": [], "roles": []}],
            "components": [
                {
                    "slug": "commission",
                    "label": {"zh": "提成", "en": "Commission"},
                    "frequency": "monthly",
                    "base": {"records": first("datasets", "dataset_slug"), "amount": "amount"},
                    "rule": {"kind": "flat", "percent": 3},
                }
            ],
        }
    raise KeyError(kind)


# --- two versions of a document side by side ------------------------------------------------------


@dataclass(frozen=True)
class DiffRow:
    old_number: int | None
    old_text: str | None
    new_number: int | None
    new_text: str | None
    tag: str  # equal, replace, delete, insert; or fold: `old_number` unchanged lines left out


#: unchanged lines kept around each change; longer unchanged runs are folded
CONTEXT = 4


def side_by_side(old_text: str, new_text: str, context: int = CONTEXT) -> list[DiffRow]:
    """The two texts line by line, aligned, with what changed marked and long unchanged runs
    folded (a short document is shown whole)."""
    old, new = old_text.splitlines(), new_text.splitlines()
    opcodes = difflib.SequenceMatcher(a=old, b=new, autojunk=False).get_opcodes()
    rows: list[DiffRow] = []
    for index, (tag, i1, i2, j1, j2) in enumerate(opcodes):
        if tag == "equal":
            pairs = list(zip(range(i1, i2), range(j1, j2)))
            keep_head = context if index > 0 else 0
            keep_tail = context if index < len(opcodes) - 1 else 0
            if len(opcodes) > 1 and len(pairs) > keep_head + keep_tail + 2 * context:
                rows.extend(DiffRow(i + 1, old[i], j + 1, new[j], tag) for i, j in pairs[:keep_head])
                rows.append(DiffRow(len(pairs) - keep_head - keep_tail, None, None, None, "fold"))
                rows.extend(DiffRow(i + 1, old[i], j + 1, new[j], tag) for i, j in pairs[len(pairs) - keep_tail :])
            else:
                rows.extend(DiffRow(i + 1, old[i], j + 1, new[j], tag) for i, j in pairs)
            continue
        for offset in range(max(i2 - i1, j2 - j1)):
            i, j = i1 + offset, j1 + offset
            rows.append(
                DiffRow(
                    i + 1 if i < i2 else None,
                    old[i] if i < i2 else None,
                    j + 1 if j < j2 else None,
                    new[j] if j < j2 else None,
                    tag if tag != "replace" else ("replace" if i < i2 and j < j2 else "delete" if i < i2 else "insert"),
                )
            )
    return rows
