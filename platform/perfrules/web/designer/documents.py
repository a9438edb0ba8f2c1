"""The kinds whose editors are drawn from a description (`document_forms`): metrics, forms,
schedules, employee attributes and incentive plans — each with its list, "New …" and editor at
/designer/<kind>, /designer/<kind>/new and /designer/<kind>/<slug>, and removal. And, for every
kind, what the editors share: checking the form as people type (/designer/check/<kind>) and the
document a form describes (/designer/document/<kind>), read exactly as saving reads it.

Everything goes through the draft service (`config.drafts`), which also decides who may do it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import abort, flash, g, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from ...config import drafts
from ...config.permissions import reach_of
from ...config.store import working_config
from ...money import DEFAULT_CURRENCY
from ...plugins import load_plugins
from ...problems import ConfigError, Problem
from ..auth import login_required
from ..db import get_session
from .blueprint import CONFIG_ROLES, DESIGNER_ROLES, bp
from .described import MONEY, PERCENT, TIMES, DescribedKind, Field, read_fields
from .display import code_names, latest_snapshot, money_unit
from .document_forms import DESCRIBED
from .form_reading import Document, Form, errors_getter, form_text, problems_by_path
from .registry import READERS, document_from_form, register

DESCRIBED_KINDS = "any(" + ",".join(DESCRIBED) + ")"
EVERY_KIND = "any(" + ",".join(drafts.SECTIONS) + ")"


def _reader(specs: tuple[Field, ...]) -> Callable[[Form, str], Document]:
    def read(form: Form, _slug: str) -> Document:
        return read_fields(specs, form)

    return read


for _kind, _described in DESCRIBED.items():
    register(_kind, _reader(_described.fields), (spec.key for spec in _described.fields))


def choice_lists(config: dict) -> dict[str, list[tuple[str, Any, str]]]:
    """The lists described selects choose from: (value, words, what it belongs to)."""
    cycle_names = code_names()["cycle_names"]
    return {
        "datasets": [(slug, d.get("label"), "") for slug, d in sorted(config.get("datasets", {}).items())],
        "dataset_fields": [
            (field["name"], field.get("label"), slug)
            for slug, dataset in sorted(config.get("datasets", {}).items())
            for field in dataset.get("fields", [])
        ],
        "templates": [(slug, t.get("label"), "") for slug, t in sorted(config.get("templates", {}).items())],
        "metrics": [(slug, m.get("label"), "") for slug, m in sorted(config.get("metrics", {}).items())],
        "cycles": [(code, name, "") for code, name in cycle_names.items()],
    }


def _described_or_404(kind: str) -> DescribedKind:
    described = DESCRIBED.get(kind)
    if described is None:
        abort(404)
    return described


def _reach_for(kind: str):
    session = get_session()
    reach = reach_of(session, g.user)
    if not reach.may_open(drafts.section_of(kind)):
        abort(403)
    return session, reach


@bp.route(f"/<{DESCRIBED_KINDS}:kind>")
@login_required(*CONFIG_ROLES)
def documents(kind: str):
    described = _described_or_404(kind)
    session, reach = _reach_for(kind)
    number, snapshot = latest_snapshot(session)
    section = drafts.section_of(kind)
    published = snapshot.get(section, {})
    rows = [
        {
            "slug": slug,
            "label": document.get("label"),
            "columns": [show(document) for _heading, show in described.columns],
            "changed": "new" if slug not in published else published[slug] != document,
        }
        for slug, document in drafts.list_documents(session, reach, kind).items()
    ]
    return render_template("designer/documents.html", kind=kind, described=described, rows=rows, version=number)


def _render(
    session: Session,
    kind: str,
    slug: str,
    document: Document,
    *,
    new: bool,
    by_path: dict[str, list[str]] | None = None,
    listed: list[tuple[str, str]] | None = None,
    status: int = 200,
) -> tuple[str, int]:
    described = DESCRIBED[kind]
    config = working_config(session)
    number, snapshot = latest_snapshot(session)
    section = drafts.section_of(kind)
    stored = None if new else config[section].get(slug)
    choices = choice_lists(config)
    if described.lists is not None:
        choices.update(described.lists(session, config, document))
    units = {PERCENT: "%", TIMES: "×", MONEY: money_unit(document.get("currency") or DEFAULT_CURRENCY)}
    errors = errors_getter(by_path or {})
    return render_template(
        "designer/edit_document.html",
        kind=kind,
        described=described,
        slug=slug,
        document=document,
        new=new,
        page={"errors": errors, "choices": choices, "units": units},
        problems=listed or [],
        version=number,
        published=stored is not None and slug in snapshot.get(section, {}),
        changed=stored is not None and snapshot.get(section, {}).get(slug) != stored,
    ), status


def _save(session: Session, reach, kind: str, slug: str, stored: Document | None, *, new: bool) -> ResponseReturnValue:
    document = document_from_form(kind, request.form, slug, stored)
    try:
        summary = drafts.save_document(
            session, reach, g.user.login, kind, slug, document, load_plugins().functions, new=new
        )
    except ConfigError as exc:
        session.rollback()
        by_path, listed = problems_by_path(exc)
        return _render(session, kind, slug, document, new=new, by_path=by_path, listed=listed, status=422)
    session.commit()
    flash(_("Saved into the draft.") if summary.changed or summary.added else _("Nothing changed."), "success")
    return redirect(url_for("designer.edit_document", kind=kind, slug=slug))


@bp.route(f"/<{DESCRIBED_KINDS}:kind>/new", methods=["GET", "POST"])
@login_required(*CONFIG_ROLES)
def new_document(kind: str):
    described = _described_or_404(kind)
    session, reach = _reach_for(kind)
    if request.method == "GET":
        return _render(session, kind, "", described.blank(), new=True)
    return _save(session, reach, kind, form_text(request.form, "slug"), None, new=True)


@bp.route(f"/<{DESCRIBED_KINDS}:kind>/<slug>", methods=["GET", "POST"])
@login_required(*CONFIG_ROLES)
def edit_document(kind: str, slug: str):
    _described_or_404(kind)
    session, reach = _reach_for(kind)
    try:
        stored = drafts.read_document(session, reach, kind, slug)
    except drafts.NotFound:
        abort(404)
    if request.method == "GET":
        return _render(session, kind, slug, stored, new=False)
    return _save(session, reach, kind, slug, stored, new=False)


@bp.route(f"/<{DESCRIBED_KINDS}:kind>/<slug>/remove", methods=["POST"])
@login_required(*CONFIG_ROLES)
def remove_document(kind: str, slug: str):
    _described_or_404(kind)
    session, reach = _reach_for(kind)
    try:
        drafts.delete_document(session, reach, g.user.login, kind, slug, load_plugins().functions)
    except drafts.NotFound:
        abort(404)
    except ConfigError as exc:
        session.rollback()
        for path, message in problems_by_path(exc)[1]:
            flash(f"{path}: {message}", "danger")
        return redirect(url_for("designer.edit_document", kind=kind, slug=slug))
    session.commit()
    flash(_("%(slug)s was removed from the draft.", slug=slug), "success")
    return redirect(url_for("designer.documents", kind=kind))


# --- shared by every editor -----------------------------------------------------------------


def _posted_document(kind: str, slug: str | None) -> tuple[Session, Any, Document, bool, str]:
    session = get_session()
    reach = reach_of(session, g.user)
    try:
        section = drafts.section_of(kind)
    except drafts.NotFound:
        abort(404)
    if not reach.may_open(section) or kind not in READERS:
        abort(403 if kind in READERS else 404)
    new = slug is None
    slug = form_text(request.form, "slug") if new else slug
    stored = None if new else working_config(session)[section].get(slug or "")
    if not new and stored is None:
        abort(404)
    if stored is not None and not reach.may_read(section, stored):
        abort(403)
    return session, reach, document_from_form(kind, request.form, slug or "", stored), new, slug or ""


@bp.route(f"/check/<{EVERY_KIND}:kind>", methods=["POST"])
@bp.route(f"/check/<{EVERY_KIND}:kind>/<slug>", methods=["POST"])
@login_required(*DESIGNER_ROLES)
def check_document(kind: str, slug: str | None = None):
    """The problems saving the posted form would meet, each with its path in the document."""
    session, reach, document, new, slug = _posted_document(kind, slug)
    try:
        problems = drafts.check_document(session, reach, kind, slug, document, load_plugins().functions, new=new)
    except drafts.Forbidden:
        abort(403)
    if new and not slug:  # not yet typed: not a problem to show while the rest is being filled in
        problems = [problem for problem in problems if problem.path != "slug"]
    return jsonify(problems=[_as_json(problem) for problem in problems])


def _as_json(problem: Problem) -> dict[str, str]:
    return {"path": problem.path, "message": problem.message}


@bp.route(f"/document/<{EVERY_KIND}:kind>", methods=["POST"])
@bp.route(f"/document/<{EVERY_KIND}:kind>/<slug>", methods=["POST"])
@login_required(*DESIGNER_ROLES)
def posted_document(kind: str, slug: str | None = None):
    """The document the posted form describes (what a preview works on), as JSON."""
    return jsonify(_posted_document(kind, slug)[2])


__all__ = ["Field", "bp"]
