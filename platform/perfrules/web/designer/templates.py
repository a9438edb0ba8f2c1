"""Appraisal templates in the designer: the list, the editor (sections and items, grade bands,
the departments and roles it applies to) saved into the draft, and cloning a template for a
department. A manager edits and clones only within their own part of the organisation
(`reach`)."""

from __future__ import annotations

import copy

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from ...config import drafts
from ...config.store import clone_template as clone_into_draft
from ...config.submissions import submission_of, submissions
from ...plugins import load_plugins
from ...problems import ConfigError, Problem
from ..auth import login_required
from .blueprint import CONFIG_ROLES, DESIGNER_ROLES, bp
from .display import latest_snapshot, template_choices, weight_sums
from .form_reading import (
    Document,
    Form,
    errors_getter,
    form_number,
    form_text,
    problems_by_path,
    put_given,
    row_indices,
)
from .reach import Reach, department_tree, designer_context, template_or_abort
from .registry import document_from_form, register


def template_from_form(form: Form, slug: str) -> Document:
    """The template document the editor's fields describe."""
    document: Document = {"slug": slug, "label": {"zh": form_text(form, "label_zh"), "en": form_text(form, "label_en")}}
    document["applies_to"] = {
        "departments": [d for d in form.getlist("departments") if d],
        "roles": [r for r in form.getlist("roles") if r],
    }
    cycles = [c for c in form.getlist("cycles") if c]
    if cycles:
        document["cycles"] = cycles
    document["weights"] = form_text(form, "weights") or "strict"
    put_given(document, "approval_flow", form_text(form, "approval_flow"))
    sections: list[Document] = []
    for s in row_indices(form, "s-", "-name"):
        prefix = f"s-{s}-"
        section: Document = {
            "name": form_text(form, prefix + "name"),
            "label": {"zh": form_text(form, prefix + "label_zh"), "en": form_text(form, prefix + "label_en")},
        }
        put_given(section, "weight", form_number(form, prefix + "weight"))
        items: list[Document] = []
        for i in row_indices(form, f"s-{s}-it-", "-kind"):
            at = f"{prefix}it-{i}-"
            item: Document = {}
            manual = form_text(form, at + "kind") == "manual"
            if manual:
                item["manual"] = form_text(form, at + "manual")  # even empty: the row stays a rated item
            else:
                put_given(item, "kpi", form_text(form, at + "kpi"))
            label = {"zh": form_text(form, at + "label_zh"), "en": form_text(form, at + "label_en")}
            if manual or label["zh"] or label["en"]:  # a KPI item's label is optional (the KPI has one)
                item["label"] = label
            put_given(item, "form", form_text(form, at + "form"))
            put_given(item, "weight", form_number(form, at + "weight"))
            put_given(item, "missing", form_text(form, at + "missing"))
            items.append(item)
        section["items"] = items
        sections.append(section)
    document["sections"] = sections
    grades: list[Document] = []
    calibration: Document = {}
    for k in row_indices(form, "g-", "-grade"):
        at = f"g-{k}-"
        grade: Document = {
            "grade": form_text(form, at + "grade"),
            "label": {"zh": form_text(form, at + "label_zh"), "en": form_text(form, at + "label_en")},
        }
        put_given(grade, "min", form_number(form, at + "min"))
        grades.append(grade)
        share = form_number(form, at + "share")
        if share is not None:
            calibration[grade["grade"]] = share
    document["grades"] = grades
    if calibration:
        document["calibration"] = calibration
    return document


#: a new template's grades, as most companies grade (the editor changes them)
DEFAULT_GRADES = [
    {"grade": "S", "min": 95.0, "label": {"zh": "卓越", "en": "Outstanding"}},
    {"grade": "A", "min": 85.0, "label": {"zh": "优秀", "en": "Excellent"}},
    {"grade": "B", "min": 70.0, "label": {"zh": "良好", "en": "Good"}},
    {"grade": "C", "min": 60.0, "label": {"zh": "合格", "en": "Acceptable"}},
    {"grade": "D", "min": 0.0, "label": {"zh": "待改进", "en": "Needs improvement"}},
]

register(
    "templates",
    template_from_form,
    ("label", "applies_to", "cycles", "weights", "approval_flow", "sections", "grades", "calibration"),
)


def unchosen(template: Document) -> list[Problem]:
    """Items that name nothing yet, said in the editor's words (the schema's words for them
    are about YAML keys, and come only once every field reads right)."""
    problems = []
    for s, section in enumerate(template.get("sections", [])):
        for i, item in enumerate(section.get("items", [])):
            if "manual" in item and not item["manual"]:
                problems.append(
                    Problem(
                        f"sections[{s}].items[{i}].manual",
                        _("give the rated item a code: lowercase letters, digits and _"),
                    )
                )
            elif "manual" not in item and not item.get("kpi"):
                problems.append(Problem(f"sections[{s}].items[{i}].kpi", _("choose a KPI")))
    return problems


@bp.route("/templates")
@login_required(*DESIGNER_ROLES)
def templates():
    session, config, reach = designer_context()
    number, snapshot = latest_snapshot(session)
    published = snapshot.get("templates", {})
    states = submissions(session)
    labels = {d.code: d.label for d in department_tree(session)}
    rows = []
    for slug, template in sorted(config.get("templates", {}).items()):
        if not reach.may_see(template):
            continue
        applies = template.get("applies_to", {})
        rows.append(
            {
                "slug": slug,
                "label": template.get("label"),
                "departments": applies.get("departments", []),
                "roles": applies.get("roles", []),
                "cycles": template.get("cycles") or [],
                "sections": len(template.get("sections", [])),
                "changed": "new" if slug not in published else published[slug] != template,
                "submission": states.get(slug),
                "may_edit": reach.may_edit(template),
            }
        )
    waiting = [row for row in rows if row["submission"] is not None and row["submission"].state == "submitted"]
    choices = template_choices(session, config, reach)
    return render_template(
        "designer/templates.html",
        rows=rows,
        waiting=waiting,
        version=number,
        department_labels=labels,
        role_labels=dict(choices["roles"]),
        reach=reach,
        may_publish=g.user.has_role(*CONFIG_ROLES),
        **choices,
    )


def _render_editor(
    session: Session,
    config: dict,
    reach: Reach,
    slug: str,
    template: Document,
    by_path: dict[str, list[str]] | None = None,
    listed: list[tuple[str, str]] | None = None,
    status: int = 200,
    *,
    new: bool = False,
) -> tuple[str, int]:
    row = None if new else submission_of(session, slug)
    number, snapshot = latest_snapshot(session)
    stored = config.get("templates", {}).get(slug)
    changed = stored is not None and snapshot.get("templates", {}).get(slug) != stored
    return render_template(
        "designer/edit_template.html",
        slug=slug,
        new=new,
        template=template,
        errors=errors_getter(by_path or {}),
        problems=listed or [],
        sums=weight_sums(template),
        submission=row,
        version=number,
        changed=changed,
        published=slug in snapshot.get("templates", {}),
        reach=reach,
        may_publish=g.user.has_role(*CONFIG_ROLES),
        **template_choices(session, config, reach),
    ), status


def _save_template(session: Session, config: dict, reach: Reach, slug: str, stored: Document | None, *, new: bool):
    document = document_from_form("templates", request.form, slug, stored)
    functions = load_plugins().functions
    own = unchosen(document)
    try:
        if own:  # said in the editor's words; the store's other problems with them, at once
            claimed = {problem.path for problem in own}
            found = drafts.check_document(session, reach, "templates", slug, document, functions, new=new)
            raise ConfigError(own + [problem for problem in found if problem.path not in claimed])
        summary = drafts.save_document(session, reach, g.user.login, "templates", slug, document, functions, new=new)
    except ConfigError as exc:
        session.rollback()
        by_path, listed = problems_by_path(exc)
        return _render_editor(session, config, reach, slug, document, by_path, listed, 422, new=new)
    session.commit()
    flash(_("Saved into the draft.") if summary.changed or summary.added else _("Nothing changed."), "success")
    return redirect(url_for("designer.edit_template", slug=slug))


@bp.route("/templates/new", methods=["GET", "POST"])
@login_required(*DESIGNER_ROLES)
def new_template():
    session, config, reach = designer_context()
    if not reach.may_clone:
        abort(403)
    if request.method == "GET":
        blank: Document = {
            "label": {},
            "applies_to": {"departments": sorted(reach.codes)[:1] if not reach.everything else [], "roles": []},
            "weights": "strict",
            "sections": [{"name": "results", "label": {"zh": "业绩", "en": "Results"}, "weight": 100, "items": []}],
            "grades": copy.deepcopy(DEFAULT_GRADES),
        }
        return _render_editor(session, config, reach, "", blank, new=True)
    return _save_template(session, config, reach, form_text(request.form, "slug"), None, new=True)


@bp.route("/templates/<slug>", methods=["GET", "POST"])
@login_required(*DESIGNER_ROLES)
def edit_template(slug: str):
    session, config, reach = designer_context()
    stored = template_or_abort(config, reach, slug, edit=True)
    if request.method == "GET":
        return _render_editor(session, config, reach, slug, stored)
    return _save_template(session, config, reach, slug, stored, new=False)


@bp.route("/templates/<slug>/clone", methods=["POST"])
@login_required(*DESIGNER_ROLES)
def clone_template(slug: str):
    session, config, reach = designer_context()
    source = template_or_abort(config, reach, slug, edit=False)
    if not reach.may_clone:
        abort(403)
    new_slug = form_text(request.form, "new_slug")
    departments = [d for d in request.form.getlist("departments") if d]
    roles = [r for r in request.form.getlist("roles") if r] or None
    if not reach.everything and (not departments or not set(departments) <= reach.codes):
        abort(403)
    label = {"zh": form_text(request.form, "label_zh"), "en": form_text(request.form, "label_en")}
    if not (label["zh"] or label["en"]):
        names = {d.code: d.label for d in department_tree(session)}
        zh = "、".join((names.get(d) or {}).get("zh") or d for d in departments)
        en = ", ".join((names.get(d) or {}).get("en") or d for d in departments)
        label = {
            "zh": f"{source['label']['zh']}({zh})" if zh else source["label"]["zh"],
            "en": f"{source['label']['en']} ({en})" if en else source["label"]["en"],
        }
    label = {key: (value or label["zh"] or label["en"])[:200] for key, value in label.items()}
    try:
        clone_into_draft(
            session,
            slug,
            new_slug,
            load_plugins().functions,
            g.user.login,
            departments=departments or None,
            roles=roles,
            label=label,
        )
    except ConfigError as exc:
        session.rollback()
        for path, message in problems_by_path(exc)[1]:
            flash(f"{path}: {message}", "danger")
        return redirect(url_for("designer.templates"))
    session.commit()
    flash(
        _("Template %(slug)s was cloned into the draft; adjust it, then submit or publish it.", slug=new_slug),
        "success",
    )
    return redirect(url_for("designer.edit_template", slug=new_slug))
