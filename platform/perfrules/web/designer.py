"""The template designer (考核模板设计): appraisal templates edited inline, with live sums of
weights and grade bands; the KPI editor with the formula editor; cloning a template for a
department; a manager's submission and HR's publication.

Who may do what:

- admin and HR: every template and KPI; clone any template for any scope; publish the draft or
  return a submission with a comment;
- a manager (a user linked to an employee): sees the templates that apply to their department
  (company-wide ones, and those scoped to their department subtree or above it), edits only
  templates whose departments all lie within their subtree, clones any template they see for
  departments of their subtree, and submits their templates for approval. Anything else is 403,
  on every URL.

Every change goes through the configuration store (`apply_documents`: the same validation as
YAML and the audit log) into the draft; publishing is `versions.publish`.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass

import sqlalchemy as sa
from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ..audit import AuditEntry
from ..config.schemas import CYCLES, DIRECTIONS, FIELD_TYPES, MISSING_POLICIES
from ..config.sources import SourceDocument
from ..config.store import apply_documents, validate_documents, working_config
from ..config.store import clone_template as clone_into_draft
from ..config.submissions import (
    mark_edited,
    publish_message,
    publish_template,
    release,
    return_submission,
    submission_of,
    submissions,
    submit,
)
from ..config.validation import dataset_catalogue
from ..config.versions import diff_configs, latest_version
from ..engine.models import EvaluationRun
from ..formula import BOOLEAN, FormulaError, compile_formula
from ..org.access import department_subtree, visibility
from ..org.models import Department, Employee, Role
from ..plugins import load_plugins
from ..problems import ConfigError, Problem
from .auth import login_required
from .db import get_session

bp = Blueprint("designer", __name__, url_prefix="/designer")

DESIGNER_ROLES = ("admin", "hr", "manager")
CONFIG_ROLES = ("admin", "hr")
SCORING_TYPES = ("linear", "bands", "formula")
LINEAR_KEYS = ("value_from", "value_to", "points_from", "points_to", "floor", "cap")


# --- who may touch which template ----------------------------------------------------------------


@dataclass(frozen=True)
class DepartmentNode:
    id: int
    code: str
    label: dict
    parent_id: int | None
    depth: int


@dataclass(frozen=True)
class Reach:
    """The departments a user's designer work may concern."""

    everything: bool
    #: codes of the manager's department and every one below it
    codes: frozenset[str]
    #: codes of the departments above the manager's (their templates apply to the manager's people)
    above: frozenset[str]

    def may_edit(self, template: dict) -> bool:
        departments = template.get("applies_to", {}).get("departments", [])
        return self.everything or (bool(departments) and set(departments) <= self.codes)

    def may_see(self, template: dict) -> bool:
        departments = template.get("applies_to", {}).get("departments", [])
        return self.everything or not departments or any(d in self.codes or d in self.above for d in departments)

    @property
    def may_clone(self) -> bool:
        return self.everything or bool(self.codes)


def department_tree(session) -> list[DepartmentNode]:
    """Every department, parents before children, with its depth."""
    rows = session.execute(
        sa.select(Department.id, Department.code, Department.label, Department.parent_id).order_by(Department.code)
    ).all()
    children: dict[int | None, list] = {}
    for row in rows:
        children.setdefault(row.parent_id, []).append(row)
    known = {row.id for row in rows}
    roots = [row for row in rows if row.parent_id is None or row.parent_id not in known]
    ordered, stack = [], [(row, 0) for row in reversed(roots)]
    while stack:
        row, depth = stack.pop()
        ordered.append(DepartmentNode(row.id, row.code, row.label or {}, row.parent_id, depth))
        stack.extend((child, depth + 1) for child in reversed(children.get(row.id, [])))
    return ordered


def reach_of(session, user) -> Reach:
    if user.has_role(*CONFIG_ROLES):
        return Reach(True, frozenset(), frozenset())
    own = None
    if user.employee_id is not None:
        own = session.scalar(sa.select(Employee.department_id).where(Employee.id == user.employee_id))
    if own is None:
        return Reach(False, frozenset(), frozenset())
    parents = dict(session.execute(sa.select(Department.id, Department.parent_id)).all())
    codes = dict(session.execute(sa.select(Department.id, Department.code)).all())
    subtree = department_subtree(session, own)
    above, current, seen = set(), parents.get(own), set()
    while current is not None and current not in seen:
        seen.add(current)
        above.add(codes[current])
        current = parents.get(current)
    return Reach(False, frozenset(codes[d] for d in subtree), frozenset(above))


def _context():
    session = get_session()
    return session, working_config(session), reach_of(session, g.user)


def _template_or_abort(config: dict, reach: Reach, slug: str, *, edit: bool) -> dict:
    template = config.get("templates", {}).get(slug)
    if template is None:
        abort(404)
    if not (reach.may_edit(template) if edit else reach.may_see(template)):
        abort(403)
    return template


# --- problems next to their fields --------------------------------------------------------------

_DOCUMENT_PREFIX = re.compile(r"^(templates|kpis|datasets)\[\d+\]\.?")


def problems_by_path(exc: ConfigError) -> tuple[dict[str, list[str]], list[tuple[str, str]]]:
    """{path inside the document: [messages]} and every problem as (path, message)."""
    by_path: dict[str, list[str]] = {}
    listed = []
    for problem in exc.problems:
        path = _DOCUMENT_PREFIX.sub("", problem.path)
        by_path.setdefault(path, []).append(problem.message)
        listed.append((path or _("(the whole document)"), problem.message))
    return by_path, listed


def _errors_getter(by_path: dict[str, list[str]]):
    def errors(path: str, nested: bool = False) -> list[str]:
        found = list(by_path.get(path, []))
        if nested:
            for other, messages in by_path.items():
                if other.startswith(path + "[") and other != path:
                    found.extend(messages)
        return found

    return errors


# --- reading the template form ------------------------------------------------------------------


def _text(form, key: str) -> str:
    return (form.get(key) or "").strip()


def _number(form, key: str):
    """A number as typed: a float when it reads as one, the text otherwise (the schema says
    what is wrong with it), left out when empty."""
    raw = _text(form, key)
    if not raw:
        return None
    try:
        return float(raw)
    except ValueError:
        return raw


def _indices(form, pattern: str) -> list[int]:
    found = set()
    matcher = re.compile(pattern)
    for key in form:
        match = matcher.match(key)
        if match:
            found.add(int(match.group(1)))
    return sorted(found)


def _put(target: dict, key: str, value) -> None:
    if value is not None and value != "":
        target[key] = value


def template_from_form(form, slug: str) -> dict:
    """The template document the editor's fields describe."""
    document = {"slug": slug, "label": {"zh": _text(form, "label_zh"), "en": _text(form, "label_en")}}
    document["applies_to"] = {
        "departments": [d for d in form.getlist("departments") if d],
        "roles": [r for r in form.getlist("roles") if r],
    }
    cycles = [c for c in form.getlist("cycles") if c]
    if cycles:
        document["cycles"] = cycles
    document["weights"] = _text(form, "weights") or "strict"
    _put(document, "approval_flow", _text(form, "approval_flow"))
    sections = []
    for s in _indices(form, r"^s-(\d+)-name$"):
        prefix = f"s-{s}-"
        section = {
            "name": _text(form, prefix + "name"),
            "label": {"zh": _text(form, prefix + "label_zh"), "en": _text(form, prefix + "label_en")},
        }
        _put(section, "weight", _number(form, prefix + "weight"))
        items = []
        for i in _indices(form, rf"^s-{s}-it-(\d+)-kind$"):
            at = f"{prefix}it-{i}-"
            item: dict = {}
            manual = _text(form, at + "kind") == "manual"
            if manual:
                item["manual"] = _text(form, at + "manual")  # even empty: the row stays a rated item
            else:
                _put(item, "kpi", _text(form, at + "kpi"))
            label = {"zh": _text(form, at + "label_zh"), "en": _text(form, at + "label_en")}
            if manual or label["zh"] or label["en"]:  # a KPI item's label is optional (the KPI has one)
                item["label"] = label
            _put(item, "form", _text(form, at + "form"))
            _put(item, "weight", _number(form, at + "weight"))
            _put(item, "missing", _text(form, at + "missing"))
            items.append(item)
        section["items"] = items
        sections.append(section)
    document["sections"] = sections
    grades = []
    for k in _indices(form, r"^g-(\d+)-grade$"):
        at = f"g-{k}-"
        grade = {
            "grade": _text(form, at + "grade"),
            "label": {"zh": _text(form, at + "label_zh"), "en": _text(form, at + "label_en")},
        }
        _put(grade, "min", _number(form, at + "min"))
        grades.append(grade)
    document["grades"] = grades
    return document


def unchosen(template: dict) -> list[Problem]:
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


def kpi_from_form(form, slug: str) -> dict:
    document = {
        "slug": slug,
        "label": {"zh": _text(form, "label_zh"), "en": _text(form, "label_en")},
        "formula": (form.get("formula") or "").strip(),
    }
    for key in ("description", "unit", "format"):
        _put(document, key, _text(form, key))
    document["direction"] = _text(form, "direction") or "higher"
    document["missing"] = _text(form, "missing") or "zero"
    kind = _text(form, "scoring_type") or "linear"
    scoring: dict = {"type": kind}
    if kind == "linear":
        for key in LINEAR_KEYS:
            _put(scoring, key, _number(form, key))
    elif kind == "bands":
        scoring["bands"] = []
        for k in _indices(form, r"^b-(\d+)-min$"):
            band = {}
            _put(band, "min", _number(form, f"b-{k}-min"))
            _put(band, "points", _number(form, f"b-{k}-points"))
            if band:
                scoring["bands"].append(band)
        _put(scoring, "otherwise", _number(form, "otherwise"))
    else:
        _put(scoring, "formula", (form.get("scoring_formula") or "").strip())
    document["scoring"] = scoring
    return document


# --- what the pages show ------------------------------------------------------------------------


@bp.app_template_filter("plain_number")
def plain_number(value) -> str:
    """60.0 → 60, 0.125 → 0.125; text (a wrong entry being shown again) as it is; None → ''."""
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    return str(int(value)) if float(value).is_integer() and abs(value) < 1e15 else repr(float(value))


def _as_number(value) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def weight_sums(template: dict) -> dict:
    """The sums the editor shows (the browser recomputes them as people type)."""
    sections = template.get("sections", [])
    per_section = [
        sum(_as_number(item.get("weight")) or 0 for item in section.get("items", [])) for section in sections
    ]
    return {"sections": sum(_as_number(s.get("weight")) or 0 for s in sections), "items": per_section}


def names() -> dict:
    """Words for the codes the pages show."""
    return {
        "cycle_names": {
            "monthly": _("monthly"),
            "quarterly": _("quarterly"),
            "half_yearly": _("half-yearly"),
            "yearly": _("yearly"),
        },
        "policy_names": {
            "zero": _("zero: 0 points"),
            "exclude": _("exclude: weights re-normalised"),
            "fail": _("fail: no total"),
        },
    }


def _choices(session, config: dict, reach: Reach) -> dict:
    departments = department_tree(session)
    if not reach.everything:
        departments = [d for d in departments if d.code in reach.codes]
        top = min((d.depth for d in departments), default=0)  # the manager's own department at the left
        departments = [DepartmentNode(d.id, d.code, d.label, d.parent_id, d.depth - top) for d in departments]
    kpis = config.get("kpis", {})
    return {
        "departments": departments,
        "roles": session.execute(sa.select(Role.code, Role.label).order_by(Role.code)).all(),
        "kpis": [(slug, kpis[slug].get("label")) for slug in sorted(kpis)],
        "forms": [(slug, form.get("label")) for slug, form in sorted(config.get("forms", {}).items())],
        "flows": [(slug, flow.get("label")) for slug, flow in sorted(config.get("approval_flows", {}).items())],
        "cycles": CYCLES,
        "policies": MISSING_POLICIES,
        **names(),
    }


def _latest_snapshot(session) -> tuple[int | None, dict]:
    latest = latest_version(session)
    return (latest.number, latest.snapshot) if latest else (None, {})


@bp.route("/templates")
@login_required(*DESIGNER_ROLES)
def templates():
    session, config, reach = _context()
    number, snapshot = _latest_snapshot(session)
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
    choices = _choices(session, config, reach)
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


def _render_editor(session, config, reach, slug, template, by_path=None, listed=None, status=200):
    row = submission_of(session, slug)
    number, snapshot = _latest_snapshot(session)
    stored = config.get("templates", {}).get(slug)
    changed = stored is not None and snapshot.get("templates", {}).get(slug) != stored
    return render_template(
        "designer/edit_template.html",
        slug=slug,
        template=template,
        errors=_errors_getter(by_path or {}),
        problems=listed or [],
        sums=weight_sums(template),
        submission=row,
        version=number,
        changed=changed,
        reach=reach,
        may_publish=g.user.has_role(*CONFIG_ROLES),
        **_choices(session, config, reach),
    ), status


@bp.route("/templates/<slug>", methods=["GET", "POST"])
@login_required(*DESIGNER_ROLES)
def edit_template(slug: str):
    session, config, reach = _context()
    stored = _template_or_abort(config, reach, slug, edit=True)
    if request.method == "GET":
        return _render_editor(session, config, reach, slug, stored)
    document = template_from_form(request.form, slug)
    departments = document["applies_to"]["departments"]
    if not reach.everything and (not departments or not set(departments) <= reach.codes):
        message = _("choose departments of your own part of the organisation")
        return _render_editor(
            session,
            config,
            reach,
            slug,
            document,
            {"applies_to.departments": [message]},
            [("applies_to.departments", message)],
            422,
        )
    functions = load_plugins().functions
    own = unchosen(document)
    try:
        if own:
            validate_documents([SourceDocument("templates", 0, document)], config, functions)
            raise ConfigError([])
        summary = apply_documents(session, [SourceDocument("templates", 0, document)], functions, g.user.login)
    except ConfigError as exc:
        session.rollback()
        claimed = {problem.path for problem in own}
        found = [p for p in exc.problems if _DOCUMENT_PREFIX.sub("", p.path) not in claimed]
        by_path, listed = problems_by_path(ConfigError(own + found))
        return _render_editor(session, config, reach, slug, document, by_path, listed, 422)
    if summary.changed:
        mark_edited(session, slug, g.user.login)
    session.commit()
    flash(_("Saved into the draft.") if summary.changed else _("Nothing changed."), "success")
    return redirect(url_for("designer.edit_template", slug=slug))


@bp.route("/templates/<slug>/clone", methods=["POST"])
@login_required(*DESIGNER_ROLES)
def clone_template(slug: str):
    session, config, reach = _context()
    source = _template_or_abort(config, reach, slug, edit=False)
    if not reach.may_clone:
        abort(403)
    new_slug = _text(request.form, "new_slug")
    departments = [d for d in request.form.getlist("departments") if d]
    roles = [r for r in request.form.getlist("roles") if r] or None
    if not reach.everything and (not departments or not set(departments) <= reach.codes):
        abort(403)
    label = {"zh": _text(request.form, "label_zh"), "en": _text(request.form, "label_en")}
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


@bp.route("/templates/<slug>/submit", methods=["POST"])
@login_required(*DESIGNER_ROLES)
def submit_template(slug: str):
    session, config, reach = _context()
    template = _template_or_abort(config, reach, slug, edit=True)
    snapshot = _latest_snapshot(session)[1]
    if snapshot.get("templates", {}).get(slug) == template:
        flash(_("This template is the same as in the published version: there is nothing to submit."), "warning")
        return redirect(url_for("designer.edit_template", slug=slug))
    try:
        submit(session, slug, g.user.login, template, _text(request.form, "comment"))
    except ConfigError as exc:
        session.rollback()
        flash("; ".join(problem.message for problem in exc.problems), "warning")
        return redirect(url_for("designer.edit_template", slug=slug))
    session.commit()
    flash(_("Submitted for approval: HR or an administrator will publish it."), "success")
    return redirect(url_for("designer.edit_template", slug=slug))


@bp.route("/templates/<slug>/review")
@login_required(*CONFIG_ROLES)
def review_template(slug: str):
    session, config, reach = _context()
    template = _template_or_abort(config, reach, slug, edit=False)
    number, snapshot = _latest_snapshot(session)
    draft = {kind: documents for kind, documents in config.items() if documents}
    lines = diff_configs(snapshot, release(session, slug, template))
    row = submission_of(session, slug)
    others = [
        line[2:] for line in diff_configs(snapshot, draft) if line[:1] in "+-~" and line[2:] != f"templates.{slug}"
    ]
    source, source_lines = None, []
    if slug not in snapshot.get("templates", {}):  # new: what differs from the template it was cloned from
        cloned = session.scalar(
            sa.select(AuditEntry)
            .where(AuditEntry.action == "template.clone", AuditEntry.key == slug)
            .order_by(AuditEntry.id.desc())
        )
        source = (cloned.after or {}).get("source") if cloned else None
        original = snapshot.get("templates", {}).get(source) or config.get("templates", {}).get(source)
        if original is not None:
            source_lines = [
                line
                for line in diff_configs({"templates": {slug: original}}, {"templates": {slug: template}})[1:]
                if not line.strip().startswith("slug:")
            ]
        else:
            source = None
    return render_template(
        "designer/review.html",
        slug=slug,
        template=template,
        submission=row,
        version=number,
        lines=lines,
        others=others,
        message=publish_message(slug, template.get("label"), row),
        source=source,
        source_lines=source_lines,
    )


@bp.route("/templates/<slug>/publish", methods=["POST"])
@login_required(*CONFIG_ROLES)
def publish(slug: str):
    session, config, reach = _context()
    template = _template_or_abort(config, reach, slug, edit=False)
    try:
        version = publish_template(
            session, slug, template, load_plugins().functions, g.user.login, _text(request.form, "note")
        )
    except ConfigError as exc:
        session.rollback()
        for problem in exc.problems:
            flash(str(problem), "danger")
        return redirect(url_for("designer.review_template", slug=slug))
    session.commit()
    flash(_("Published as version %(number)d.", number=version.number), "success")
    return redirect(url_for("designer.templates"))


@bp.route("/templates/<slug>/return", methods=["POST"])
@login_required(*CONFIG_ROLES)
def return_template(slug: str):
    session, config, reach = _context()
    _template_or_abort(config, reach, slug, edit=False)
    try:
        return_submission(session, slug, g.user.login, _text(request.form, "comment"))
    except ConfigError as exc:
        session.rollback()
        for problem in exc.problems:
            flash(problem.message, "danger")
        return redirect(url_for("designer.review_template", slug=slug))
    session.commit()
    flash(_("Returned to the submitter with your comment."), "success")
    return redirect(url_for("designer.templates"))


# --- KPIs ---------------------------------------------------------------------------------------


@bp.route("/kpis")
@login_required(*CONFIG_ROLES)
def kpis():
    session = get_session()
    config = working_config(session)
    return render_template("designer/kpis.html", kpis=sorted(config.get("kpis", {}).items()))


def _preview_choices(session) -> tuple[list, str]:
    seen = visibility(session, g.user)
    employees = session.execute(
        sa.select(Employee.code, Employee.name, Employee.department_id, Employee.id)
        .where(Employee.active.is_(True))
        .order_by(Employee.code)
    ).all()
    visible = [
        (code, name) for code, name, department_id, employee_id in employees if seen.allows(department_id, employee_id)
    ]
    period = session.scalar(
        sa.select(EvaluationRun.period)
        .where(EvaluationRun.status == "succeeded")
        .order_by(EvaluationRun.id.desc())
        .limit(1)
    )
    return visible, period or ""


def _render_kpi(session, config, slug, kpi, by_path=None, listed=None, status=200):
    employees, period = _preview_choices(session)
    used_by = [
        template_slug
        for template_slug, template in sorted(config.get("templates", {}).items())
        if any(item.get("kpi") == slug for section in template["sections"] for item in section["items"])
    ]
    return render_template(
        "designer/edit_kpi.html",
        slug=slug,
        kpi=kpi,
        errors=_errors_getter(by_path or {}),
        problems=listed or [],
        directions=DIRECTIONS,
        policies=MISSING_POLICIES,
        scoring_types=SCORING_TYPES,
        linear_keys=LINEAR_KEYS,
        employees=employees,
        period=period,
        used_by=used_by,
        **names(),
    ), status


@bp.route("/kpis/<slug>", methods=["GET", "POST"])
@login_required(*CONFIG_ROLES)
def edit_kpi(slug: str):
    session = get_session()
    config = working_config(session)
    stored = config.get("kpis", {}).get(slug)
    if stored is None:
        abort(404)
    if request.method == "GET":
        return _render_kpi(session, config, slug, stored)
    document = kpi_from_form(request.form, slug)
    try:
        summary = apply_documents(
            session, [SourceDocument("kpis", 0, document)], load_plugins().functions, g.user.login
        )
    except ConfigError as exc:
        session.rollback()
        by_path, listed = problems_by_path(exc)
        return _render_kpi(session, config, slug, document, by_path, listed, 422)
    session.commit()
    flash(_("Saved into the draft.") if summary.changed else _("Nothing changed."), "success")
    return redirect(url_for("designer.edit_kpi", slug=slug))


# --- datasets -----------------------------------------------------------------------------------


def _checked(form, key: str) -> bool:
    return (form.get(key) or "").strip().lower() in ("on", "1", "true", "yes", "y")


def dataset_from_form(form, slug: str) -> dict:
    """The dataset document the dataset editor's fields describe. Options are kept for choice
    fields only (a field whose type was changed away from choice keeps none)."""
    document = {"slug": slug, "label": {"zh": _text(form, "label_zh"), "en": _text(form, "label_en")}}
    _put(document, "description", _text(form, "description"))
    document["owner_field"] = _text(form, "owner_field")
    document["date_field"] = _text(form, "date_field")
    fields = []
    for i in _indices(form, r"^f-(\d+)-name$"):
        at = f"f-{i}-"
        field = {
            "name": _text(form, at + "name"),
            "label": {"zh": _text(form, at + "label_zh"), "en": _text(form, at + "label_en")},
            "type": _text(form, at + "type") or "text",
            "required": _checked(form, at + "required"),
            "unique": _checked(form, at + "unique"),
        }
        if field["type"] == "choice":
            options = []
            for k in _indices(form, rf"^f-{i}-op-(\d+)-value$"):
                op = f"{at}op-{k}-"
                option = {
                    "value": _text(form, op + "value"),
                    "label": {"zh": _text(form, op + "label_zh"), "en": _text(form, op + "label_en")},
                }
                if option["value"] or option["label"]["zh"] or option["label"]["en"]:  # a blank row is no option
                    options.append(option)
            field["options"] = options
        fields.append(field)
    document["fields"] = fields
    return document


def field_uses(config: dict, slug: str, dataset: dict | None) -> dict[str, list[str]]:
    """{field name: [metrics that read it]} for the metrics of a dataset (as a field to aggregate
    or a name in their filter)."""
    uses: dict[str, list[str]] = {}
    if not dataset:
        return uses
    catalogue = dataset_catalogue(dataset)
    functions = None
    for metric_slug, metric in sorted(config.get("metrics", {}).items()):
        if metric.get("dataset") != slug:
            continue
        names = {metric["field"]} if metric.get("field") else set()
        if metric.get("filter"):
            if functions is None:
                functions = load_plugins().functions
            with contextlib.suppress(FormulaError):
                names |= set(compile_formula(metric["filter"], catalogue, functions=functions, expect=BOOLEAN).names)
        for name in sorted(names):
            uses.setdefault(name, []).append(metric_slug)
    return uses


def removed_in_use(config: dict, slug: str, document: dict) -> list[Problem]:
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


def dataset_type_names() -> dict:
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
    number, snapshot = _latest_snapshot(session)
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


def _render_dataset(session, config, slug, dataset, by_path=None, listed=None, status=200, *, new=False):
    number, snapshot = _latest_snapshot(session)
    stored = config.get("datasets", {}).get(slug) if not new else None
    changed = stored is not None and snapshot.get("datasets", {}).get(slug) != stored
    return render_template(
        "designer/edit_dataset.html",
        slug=slug,
        dataset=dataset,
        new=new,
        errors=_errors_getter(by_path or {}),
        problems=listed or [],
        version=number,
        changed=changed,
        published=stored is not None and slug in snapshot.get("datasets", {}),
        field_types=FIELD_TYPES,
        type_names=dataset_type_names(),
        used_by=field_uses(config, slug, stored),
    ), status


def _save_dataset(session, config, slug: str, *, new: bool):
    document = dataset_from_form(request.form, slug)
    own = [] if new else removed_in_use(config, slug, document)
    if new and slug in config.get("datasets", {}):
        own.append(Problem("slug", _("A dataset with this code exists already.")))
    functions = load_plugins().functions
    try:
        if own:
            try:
                validate_documents([SourceDocument("datasets", 0, document)], config, functions)
            except ConfigError as exc:
                raise ConfigError(own + list(exc.problems)) from None
            raise ConfigError(own)
        summary = apply_documents(session, [SourceDocument("datasets", 0, document)], functions, g.user.login)
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
    return _save_dataset(session, config, _text(request.form, "slug"), new=True)


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
