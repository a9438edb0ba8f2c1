"""Datasets in the designer (admin and HR): the list, and a dataset's fields edited as rows
(choice options nested), saved into the draft. A field that metrics read cannot be removed or
renamed until those metrics no longer use it."""

from __future__ import annotations

import contextlib

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from ...config import drafts
from ...config.permissions import reach_of
from ...config.schemas import FIELD_TYPES
from ...config.store import working_config
from ...config.validation import dataset_catalogue
from ...formula import BOOLEAN, FormulaError, FunctionRegistry, compile_formula
from ...plugins import load_plugins
from ...problems import ConfigError, Problem
from ..auth import login_required
from ..db import get_session
from .blueprint import CONFIG_ROLES, bp
from .display import latest_snapshot
from .form_reading import (
    Document,
    Form,
    errors_getter,
    form_checked,
    form_text,
    problems_by_path,
    put_given,
    row_indices,
)
from .registry import document_from_form, register


def dataset_from_form(form: Form, slug: str) -> Document:
    """The dataset document the dataset editor's fields describe. Options are kept for choice
    fields only (a field whose type was changed away from choice keeps none)."""
    document: Document = {"slug": slug, "label": {"zh": form_text(form, "label_zh"), "en": form_text(form, "label_en")}}
    put_given(document, "description", form_text(form, "description"))
    document["owner_field"] = form_text(form, "owner_field")
    document["date_field"] = form_text(form, "date_field")
    fields: list[Document] = []
    for i in row_indices(form, "f-", "-name"):
        at = f"f-{i}-"
        field: Document = {
            "name": form_text(form, at + "name"),
            "label": {"zh": form_text(form, at + "label_zh"), "en": form_text(form, at + "label_en")},
            "type": form_text(form, at + "type") or "text",
            "required": form_checked(form, at + "required"),
            "unique": form_checked(form, at + "unique"),
        }
        if field["type"] == "choice":
            options: list[Document] = []
            for k in row_indices(form, f"f-{i}-op-", "-value"):
                op = f"{at}op-{k}-"
                option: Document = {
                    "value": form_text(form, op + "value"),
                    "label": {"zh": form_text(form, op + "label_zh"), "en": form_text(form, op + "label_en")},
                }
                if option["value"] or option["label"]["zh"] or option["label"]["en"]:  # a blank row is no option
                    options.append(option)
            field["options"] = options
        fields.append(field)
    document["fields"] = fields
    return document


register("datasets", dataset_from_form, ("label", "description", "owner_field", "date_field", "fields"))


def field_uses(config: dict, slug: str, dataset: Document | None) -> dict[str, list[str]]:
    """{field name: [metrics that read it]} for the metrics of a dataset (as a field to aggregate
    or a name in their filter)."""
    uses: dict[str, list[str]] = {}
    if not dataset:
        return uses
    catalogue = dataset_catalogue(dataset)
    functions: FunctionRegistry | None = None  # loaded only for a metric with a filter
    for metric_slug, metric in sorted(config.get("metrics", {}).items()):
        if metric.get("dataset") != slug:
            continue
        names: set[str] = {metric["field"]} if metric.get("field") else set()
        if metric.get("filter"):
            if functions is None:
                functions = load_plugins().functions
            with contextlib.suppress(FormulaError):
                names |= set(compile_formula(metric["filter"], catalogue, functions=functions, expect=BOOLEAN).names)
        for name in sorted(names):
            uses.setdefault(name, []).append(metric_slug)
    return uses


def removed_in_use(config: dict, slug: str, document: Document) -> list[Problem]:
    """Fields the editor removed (or renamed) that metrics still use, naming those metrics."""
    stored = config.get("datasets", {}).get(slug)
    kept = {field.get("name") for field in document.get("fields", [])}
    return [
        Problem(
            "fields",
            _(
                "The field %(field)s cannot be removed: metric %(metrics)s uses it. Change or remove the metric first.",
                field=name,
                metrics=", ".join(metrics),
            ),
        )
        for name, metrics in field_uses(config, slug, stored).items()
        if name not in kept
    ]


def dataset_type_names() -> dict[str, str]:
    return {
        "text": _("text"),
        "integer": _("whole number"),
        "decimal": _("decimal number"),
        "date": _("date"),
        "datetime": _("date and time"),
        "boolean": _("yes / no"),
        "choice": _("choice"),
        "employee": _("employee"),
    }


@bp.route("/datasets")
@login_required(*CONFIG_ROLES)
def datasets():
    session = get_session()
    config = working_config(session)
    number, snapshot = latest_snapshot(session)
    published = snapshot.get("datasets", {})
    rows = [
        {
            "slug": slug,
            "label": dataset.get("label"),
            "owner_field": dataset.get("owner_field"),
            "date_field": dataset.get("date_field"),
            "fields": len(dataset.get("fields", [])),
            "changed": "new" if slug not in published else published[slug] != dataset,
        }
        for slug, dataset in sorted(config.get("datasets", {}).items())
    ]
    return render_template("designer/datasets.html", rows=rows, version=number)


def _render_dataset(
    session: Session,
    config: dict,
    slug: str,
    dataset: Document,
    by_path: dict[str, list[str]] | None = None,
    listed: list[tuple[str, str]] | None = None,
    status: int = 200,
    *,
    new: bool = False,
) -> tuple[str, int]:
    number, snapshot = latest_snapshot(session)
    stored = config.get("datasets", {}).get(slug) if not new else None
    changed = stored is not None and snapshot.get("datasets", {}).get(slug) != stored
    return render_template(
        "designer/edit_dataset.html",
        slug=slug,
        dataset=dataset,
        new=new,
        errors=errors_getter(by_path or {}),
        problems=listed or [],
        version=number,
        changed=changed,
        published=stored is not None and slug in snapshot.get("datasets", {}),
        field_types=FIELD_TYPES,
        type_names=dataset_type_names(),
        used_by=field_uses(config, slug, stored),
    ), status


def _save_dataset(session: Session, config: dict, slug: str, *, new: bool) -> ResponseReturnValue:
    stored = None if new else config.get("datasets", {}).get(slug)
    document = document_from_form("datasets", request.form, slug, stored)
    reach = reach_of(session, g.user)
    functions = load_plugins().functions
    try:
        own = removed_in_use(config, slug, document) if stored else []
        if own:  # said in the editor's words, with the service's other problems at once
            found = drafts.check_document(session, reach, "datasets", slug, document, functions, config=config)
            raise ConfigError(own + found)
        summary = drafts.save_document(session, reach, g.user.login, "datasets", slug, document, functions, new=new)
    except ConfigError as exc:
        session.rollback()
        by_path, listed = problems_by_path(exc)
        return _render_dataset(session, config, slug, document, by_path, listed, 422, new=new)
    session.commit()
    flash(_("Saved into the draft.") if summary.changed or summary.added else _("Nothing changed."), "success")
    return redirect(url_for("designer.edit_dataset", slug=slug))


@bp.route("/datasets/new", methods=["GET", "POST"])
@login_required(*CONFIG_ROLES)
def new_dataset():
    session = get_session()
    config = working_config(session)
    if request.method == "GET":
        blank = {
            "label": {},
            "owner_field": "owner",
            "date_field": "date",
            "fields": [
                {"name": "owner", "label": {"zh": "负责人", "en": "Owner"}, "type": "employee", "required": True},
                {"name": "date", "label": {"zh": "日期", "en": "Date"}, "type": "date", "required": True},
            ],
        }
        return _render_dataset(session, config, "", blank, new=True)
    return _save_dataset(session, config, form_text(request.form, "slug"), new=True)


@bp.route("/datasets/<slug>", methods=["GET", "POST"])
@login_required(*CONFIG_ROLES)
def edit_dataset(slug: str):
    session = get_session()
    config = working_config(session)
    stored = config.get("datasets", {}).get(slug)
    if stored is None:
        abort(404)
    if request.method == "GET":
        return _render_dataset(session, config, slug, stored)
    return _save_dataset(session, config, slug, new=False)
