"""Target sets (目标) in the designer (admin and HR): the list, a new set, and a set's entries
edited as a grid — one row per entry, a block pasted from Excel becoming rows, each row told in
plain words and problems shown at their cell — saved into the draft through `config.drafts`.

Saving a set unchanged leaves it as stored: the grid shows every key an entry can have, numbers
come back as the numbers they were, and what the page does not show is kept (`registry`).
"""

from __future__ import annotations

import sqlalchemy as sa
from babel.dates import get_month_names
from flask import abort, flash, g, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from ...config import drafts
from ...config.permissions import Reach, reach_of
from ...config.schemas import SPLITS
from ...config.store import working_config
from ...org.models import Department, Employee, Role
from ...plugins import load_plugins
from ...problems import ConfigError
from ..auth import login_required
from ..db import get_session
from ..i18n import label
from .blueprint import CONFIG_ROLES, bp
from .display import latest_snapshot
from .form_reading import Document, Form, errors_getter, form_text, problems_by_path
from .reach import department_tree
from .registry import document_from_form, register
from .target_grid import MONTHS, Lookup, grid_row, read_pasted, target_set_from_form
from .target_words import TargetWords

KIND = "targets"
#: employees a search offers at most
EMPLOYEE_MATCHES = 20
#: bytes of a pasted block (under the server's limit on one posted field, Flask's MAX_FORM_MEMORY_SIZE)
MAX_PASTE = 450_000

register(KIND, target_set_from_form, ("label", "entries"))


def _reach() -> tuple[Session, Reach]:
    session = get_session()
    reach = reach_of(session, g.user)
    if not reach.may_open(drafts.section_of(KIND)):
        abort(403)
    return session, reach


def _names(config: dict) -> list[tuple[str, str, str]]:
    """The metrics and KPIs a target can be for: (slug, words, metric | kpi)."""
    return [
        (slug, label(document.get("label")) or slug, kind)
        for kind, section in (("metric", "metrics"), ("kpi", "kpis"))
        for slug, document in sorted(config.get(section, {}).items())
    ]


@bp.route("/targets")
@login_required(*CONFIG_ROLES)
def target_sets():
    session, reach = _reach()
    config = working_config(session)
    number, snapshot = latest_snapshot(session)
    published = snapshot.get("targets", {})
    words = {slug: text for slug, text, _kind in _names(config)}
    rows = [
        {
            "slug": slug,
            "label": document.get("label"),
            "entries": len(document.get("entries", [])),
            "names": sorted({words.get(entry["name"], entry["name"]) for entry in document.get("entries", [])}),
            "periods": sorted({entry["period"] for entry in document.get("entries", [])}),
            "changed": "new" if slug not in published else published[slug] != document,
        }
        for slug, document in drafts.list_documents(session, reach, KIND, config).items()
    ]
    return render_template("designer/targets.html", rows=rows, version=number)


def _render(
    session: Session,
    slug: str,
    document: Document,
    *,
    new: bool,
    by_path: dict[str, list[str]] | None = None,
    listed: list[tuple[str, str]] | None = None,
    status: int = 200,
) -> tuple[str, int]:
    config = working_config(session)
    number, snapshot = latest_snapshot(session)
    stored = None if new else config[KIND].get(slug)
    entries = [entry if isinstance(entry, dict) else {} for entry in document.get("entries") or []]
    words = TargetWords(session, config, entries)
    attributes = config.get("employee_attributes", {})
    return render_template(
        "designer/edit_targets.html",
        slug=slug,
        max_paste_bytes=MAX_PASTE,
        document=document,
        new=new,
        rows=[
            {"cells": grid_row(entry), "description": words.describe(entry), "total": words.split_total(entry)}
            for entry in entries
        ],
        errors=errors_getter(by_path or {}),
        problems=listed or [],
        names=_names(config),
        departments=department_tree(session),
        roles=[
            (code, label(role_label))
            for code, role_label in session.execute(sa.select(Role.code, Role.label).order_by(Role.code))
        ],
        attributes=[(key, label(a.get("label"))) for key, a in sorted(attributes.items()) if a.get("type") == "number"],
        splits=SPLITS,
        months=MONTHS,
        month_names=[get_month_names("abbreviated", locale=get_locale())[month] for month in MONTHS],
        version=number,
        published=stored is not None and slug in snapshot.get(KIND, {}),
        changed=stored is not None and snapshot.get(KIND, {}).get(slug) != stored,
    ), status


def _save(session: Session, reach: Reach, slug: str, stored: Document | None, *, new: bool) -> ResponseReturnValue:
    document = document_from_form(KIND, request.form, slug, stored)
    try:
        summary = drafts.save_document(
            session, reach, g.user.login, KIND, slug, document, load_plugins().functions, new=new
        )
    except ConfigError as exc:
        session.rollback()
        by_path, listed = problems_by_path(exc)
        return _render(session, slug, document, new=new, by_path=by_path, listed=listed, status=422)
    session.commit()
    flash(_("Saved into the draft.") if summary.changed or summary.added else _("Nothing changed."), "success")
    return redirect(url_for("designer.edit_target_set", slug=slug))


@bp.route("/targets/new", methods=["GET", "POST"])
@login_required(*CONFIG_ROLES)
def new_target_set():
    session, reach = _reach()
    if request.method == "GET":
        return _render(session, "", {"label": {}, "entries": [{}]}, new=True)
    return _save(session, reach, form_text(request.form, "slug"), None, new=True)


def _stored(session: Session, reach: Reach, slug: str) -> Document:
    try:
        return drafts.read_document(session, reach, KIND, slug)
    except drafts.NotFound:
        abort(404)
    except drafts.Forbidden:
        abort(403)


@bp.route("/targets/<slug>", methods=["GET", "POST"])
@login_required(*CONFIG_ROLES)
def edit_target_set(slug: str):
    session, reach = _reach()
    stored = _stored(session, reach, slug)
    if request.method == "GET":
        return _render(session, slug, stored, new=False)
    return _save(session, reach, slug, stored, new=False)


# --- what the grid asks while people work (paths with "-": no slug can be one) ----------------


@bp.route("/targets/check-rows", methods=["POST"])
@bp.route("/targets/<slug>/check-rows", methods=["POST"])
@login_required(*CONFIG_ROLES)
def check_target_rows(slug: str | None = None):
    """What saving the posted grid would meet ({path, message}, paths inside the set), and each
    row's words and split total — nothing is saved."""
    session, reach = _reach()
    new = slug is None
    stored = None if new else _stored(session, reach, slug or "")
    slug = form_text(request.form, "slug") if new else slug
    document = document_from_form(KIND, request.form, slug or "", stored)
    config = working_config(session)
    problems = drafts.check_document(
        session, reach, KIND, slug or "", document, load_plugins().functions, new=new, config=config
    )
    if new and not slug:  # the code is not typed yet: not a problem to show while the rest is filled in
        problems = [problem for problem in problems if problem.path != "slug"]
    words = TargetWords(session, config, document["entries"])
    return jsonify(
        problems=[{"path": problem.path, "message": problem.message} for problem in problems],
        rows=[{"description": words.describe(e), "total": words.split_total(e)} for e in document["entries"]],
    )


def _lookup(session: Session, config: dict) -> Lookup:
    lookup = Lookup()
    for slug, text, kind in reversed(_names(config)):  # a metric's label wins over a KPI's
        document = config["metrics" if kind == "metric" else "kpis"][slug]
        for word in (*(document.get("label") or {}).values(), text, slug):
            lookup.names[str(word).strip().lower()] = slug
    for model, table in ((Department, lookup.departments), (Role, lookup.roles)):
        for code, words in session.execute(sa.select(model.code, model.label)):
            table.update({str(word).strip().lower(): code for word in (words or {}).values()})
    names = sa.select(Employee.name).group_by(Employee.name).having(sa.func.count() == 1).scalar_subquery()
    for code, name in session.execute(sa.select(Employee.code, Employee.name).where(Employee.name.in_(names))):
        lookup.employees[name.strip().lower()] = code
    return lookup


@bp.route("/targets/paste-rows", methods=["POST"])
@login_required(*CONFIG_ROLES)
def paste_target_rows():
    """The grid rows a block pasted from Excel gives (field `text`), with each row's problems by
    column and the block's own; nothing is saved."""
    session = _reach()[0]
    text = request.form.get("text") or ""
    if len(text.encode()) > MAX_PASTE:
        return jsonify(rows=[], problems=[_("The block is too long: paste it in parts.")]), 413
    config = working_config(session)
    pasted = read_pasted(text, _lookup(session, config))
    entries = [target_set_from_form(_row_form(row.cells), "pasted")["entries"][0] for row in pasted.rows]
    words = TargetWords(session, config, entries)
    return jsonify(
        header=pasted.header,
        columns=pasted.columns,
        problems=pasted.problems,
        rows=[
            {
                "cells": row.cells,
                "problems": [{"column": column, "message": message} for column, message in row.problems],
                "description": words.describe(entry),
                "total": words.split_total(entry),
            }
            for row, entry in zip(pasted.rows, entries)
        ],
    )


def _row_form(cells: dict) -> Form:
    """A pasted row as the grid would post it (row 0), to read it exactly as saving does."""
    form: Form = MultiDict({f"e-0-{key}": value for key, value in cells.items() if key != "month_shares"})
    form["e-0-_row"] = "1"
    for month, share in zip(MONTHS, cells.get("month_shares") or []):
        form[f"e-0-m-{month}"] = share
    return form


@bp.route("/targets/find-employees")
@login_required(*CONFIG_ROLES)
def find_employees():
    """Active employees whose code starts with, or whose name contains, `q`: at most
    EMPLOYEE_MATCHES, as [{code, name, department}]."""
    session = _reach()[0]
    query = (request.args.get("q") or "").strip()
    if not query:
        return jsonify(employees=[])
    pattern = query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    rows = session.execute(
        sa.select(Employee.code, Employee.name, Department.label)
        .join(Department, Department.id == Employee.department_id)
        .where(
            Employee.active.is_(True),
            sa.or_(
                Employee.code.ilike(f"{pattern}%", escape="\\"),
                Employee.name.ilike(f"%{pattern}%", escape="\\"),
            ),
        )
        .order_by(Employee.code)
        .limit(EMPLOYEE_MATCHES)
    ).all()
    return jsonify(employees=[{"code": code, "name": name, "department": label(dept)} for code, name, dept in rows])
