"""The approval flow designer (审批流设计): every flow with the templates that use it, and a flow
edited as its ordered steps — who acts (the employee, their manager, the department head,
everyone holding a role, or one named user), when (a condition over the scorecard, checked
while it is typed), whether one of them or all of them approve, and the deadline. Admin and HR
only, like the KPI and dataset designers; anyone else gets 403.

Saving goes through the configuration store (the same validation as YAML, and the audit log)
into the draft. A review reads its flow from the version its scorecard was computed with, so a
published change reaches the reviews that runs open from then on; reviews already open keep
the flow and version they started with.
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..config.sources import SourceDocument
from ..config.store import apply_documents, validate_documents, working_config
from ..config.versions import latest_version
from ..org.models import USER_ROLES, User
from ..plugins import load_plugins
from ..problems import ConfigError, Problem
from ..workflow.models import Review
from .auth import login_required
from .db import get_session
from .designer.blueprint import CONFIG_ROLES
from .designer.form_reading import Document, Form, errors_getter, form_text, problems_by_path, put_given, row_indices
from .designer.registry import register

bp = Blueprint("flows", __name__, url_prefix="/designer/flows")

#: how a step's actor is chosen in the editor; `role` and `user` take a role or a login with them
ACTOR_KINDS = ("employee", "manager", "department_head", "role", "user")
ACTOR_NAMES = {
    "employee": _l("the employee (self-review)"),
    "manager": _l("their manager"),
    "department_head": _l("the head of their department"),
    "role": _l("everyone with a role"),
    "user": _l("a named user"),
}
ROLE_NAMES = {
    "admin": _l("administrators"),
    "hr": _l("HR"),
    "manager": _l("managers"),
    "employee": _l("employees"),
    "auditor": _l("auditors"),
}
MODES = ("any", "all")
_INTEGER = re.compile(r"^[+-]?\d+$")


def split_actor(actor: str) -> tuple[str, str, str]:
    """`role:hr` → ("role", "hr", ""), `user:li.na` → ("user", "", "li.na"), `manager` → ("manager", "", "")."""
    kind, _colon, rest = (actor or "").partition(":")
    if kind == "role":
        return kind, rest, ""
    if kind == "user":
        return kind, "", rest
    return kind, "", ""


def _whole_number(form: Form, key: str) -> int | str | None:
    """A whole number as typed, the text otherwise (the schema says what is wrong), None when empty."""
    raw = form_text(form, key)
    if not raw:
        return None
    return int(raw) if _INTEGER.match(raw) else raw


def flow_from_form(form: Form, slug: str) -> Document:
    """The approval flow document the editor's fields describe, its steps in the order posted."""
    document: Document = {"slug": slug, "label": {"zh": form_text(form, "label_zh"), "en": form_text(form, "label_en")}}
    steps: list[Document] = []
    for i in row_indices(form, "st-", "-name"):
        at = f"st-{i}-"
        kind = form_text(form, at + "actor")
        if kind == "role":
            actor = f"role:{form_text(form, at + 'role')}"
        elif kind == "user":
            actor = f"user:{form_text(form, at + 'login')}"
        else:
            actor = kind
        step: Document = {
            "name": form_text(form, at + "name"),
            "label": {"zh": form_text(form, at + "label_zh"), "en": form_text(form, at + "label_en")},
            "actor": actor,
            "mode": form_text(form, at + "mode") or "any",
        }
        put_given(step, "condition", form_text(form, at + "condition"))
        put_given(step, "deadline_days", _whole_number(form, at + "deadline_days"))
        steps.append(step)
    document["steps"] = steps
    return document


register("flows", flow_from_form, ("label", "steps"))


def editor_problems(session, document: dict) -> list[Problem]:
    """What the editor says in its own words: no steps, an actor still to choose, a login nobody
    signs in with (the schema's words for these are about YAML keys, or it cannot know them)."""
    steps = document.get("steps", [])
    if not steps:
        return [Problem("steps", _("A flow needs at least one step."))]
    logins = {split_actor(step["actor"])[2] for step in steps if step["actor"].startswith("user:")}
    active = set(session.scalars(sa.select(User.login).where(User.login.in_(logins - {""}), User.active)))
    problems = []
    for index, step in enumerate(steps):
        kind, role, login = split_actor(step["actor"])
        path = f"steps[{index}].actor"
        if kind not in ACTOR_KINDS:
            problems.append(Problem(path, _("choose who acts at this step")))
        elif kind == "role" and not role:
            problems.append(Problem(path, _("choose the role whose holders act at this step")))
        elif kind == "user" and not login:
            problems.append(Problem(path, _("give the login of the user who acts at this step")))
        elif kind == "user" and login not in active:
            problems.append(Problem(path, _("nobody signs in as %(login)s: the step would wait for ever", login=login)))
    return problems


_FLOW_PREFIX = re.compile(r"^approval_flows\[\d+\]\.?")


def _inside(path: str) -> str:
    """A problem's path inside the flow document (`steps[1].condition`)."""
    return _FLOW_PREFIX.sub("", path)


def _save(session, config: dict, document: dict, *, new: bool):
    """Validate and store the flow; the page again with the problems at their fields (422), or
    a redirect to the saved flow."""
    slug = document["slug"]
    own = editor_problems(session, document)
    if new and slug in config.get("approval_flows", {}):
        own.append(Problem("slug", _("A flow with this code exists already.")))
    functions = load_plugins().functions
    source = [SourceDocument("approval_flows", 0, document)]
    try:
        if own:
            claimed = {problem.path for problem in own}
            try:
                validate_documents(source, config, functions)
            except ConfigError as exc:
                found = [p for p in exc.problems if _inside(p.path) not in claimed]
                raise ConfigError(own + found) from None
            raise ConfigError(own)
        summary = apply_documents(session, source, functions, g.user.login)
    except ConfigError as exc:
        session.rollback()
        by_path, listed = problems_by_path(ConfigError([Problem(_inside(p.path), p.message) for p in exc.problems]))
        return _render_editor(session, config, slug, document, by_path, listed, 422, new=new)
    session.commit()
    flash(
        _("Saved into the draft. Publish the draft for the next runs to follow it.")
        if summary.changed or summary.added
        else _("Nothing changed."),
        "success",
    )
    return redirect(url_for("flows.edit_flow", slug=slug))


# --- the pages ----------------------------------------------------------------------------------


def _users_of_flows(config: dict) -> dict[str, list[str]]:
    """{flow: [templates that name it]} in the draft."""
    users: dict[str, list[str]] = {}
    for slug, template in sorted(config.get("templates", {}).items()):
        if template.get("approval_flow"):
            users.setdefault(template["approval_flow"], []).append(slug)
    return users


def _published(session) -> tuple[int | None, dict]:
    latest = latest_version(session)
    return (latest.number, latest.snapshot.get("approval_flows", {})) if latest else (None, {})


@bp.route("")
@login_required(*CONFIG_ROLES)
def list_flows():
    session = get_session()
    config = working_config(session)
    number, published = _published(session)
    users = _users_of_flows(config)
    rows = [
        {
            "slug": slug,
            "label": flow.get("label"),
            "steps": flow.get("steps", []),
            "templates": users.get(slug, []),
            "changed": "new" if slug not in published else published[slug] != flow,
        }
        for slug, flow in sorted(config.get("approval_flows", {}).items())
    ]
    return render_template(
        "designer/flows.html",
        rows=rows,
        version=number,
        actor_names=ACTOR_NAMES,
        role_names=ROLE_NAMES,
        split_actor=split_actor,
    )


def _render_editor(session, config, slug, flow, by_path=None, listed=None, status=200, *, new=False):
    number, published = _published(session)
    stored = None if new else config.get("approval_flows", {}).get(slug)
    open_reviews = (
        []
        if new
        else session.execute(
            sa.select(Review.version_number, sa.func.count())
            .where(Review.flow == slug, Review.state == "in_review")
            .group_by(Review.version_number)
            .order_by(Review.version_number)
        ).all()
    )
    logins = session.scalars(sa.select(User.login).where(User.active).order_by(User.login)).all()
    return render_template(
        "designer/edit_flow.html",
        slug=slug,
        flow=flow,
        new=new,
        errors=errors_getter(by_path or {}),
        problems=listed or [],
        version=number,
        published=stored is not None and slug in published,
        changed=stored is not None and published.get(slug) != stored,
        templates=_users_of_flows(config).get(slug, []),
        open_reviews=open_reviews,
        logins=logins,
        actor_kinds=ACTOR_KINDS,
        actor_names=ACTOR_NAMES,
        roles=USER_ROLES,
        role_names=ROLE_NAMES,
        modes=MODES,
        split_actor=split_actor,
    ), status


@bp.route("/new", methods=["GET", "POST"])
@login_required(*CONFIG_ROLES)
def new_flow():
    session = get_session()
    config = working_config(session)
    if request.method == "GET":
        blank = {
            "label": {},
            "steps": [
                {"name": "self_review", "label": {"zh": "员工自评", "en": "Self-review"}, "actor": "employee"},
                {"name": "manager_review", "label": {"zh": "上级评分", "en": "Manager review"}, "actor": "manager"},
            ],
        }
        return _render_editor(session, config, "", blank, new=True)
    return _save(session, config, flow_from_form(request.form, form_text(request.form, "slug")), new=True)


@bp.route("/<slug>", methods=["GET", "POST"])
@login_required(*CONFIG_ROLES)
def edit_flow(slug: str):
    session = get_session()
    config = working_config(session)
    stored = config.get("approval_flows", {}).get(slug)
    if stored is None:
        abort(404)
    if request.method == "GET":
        return _render_editor(session, config, slug, stored)
    # what the editor does not show (a flow's other settings) is kept as it is
    return _save(session, config, {**stored, **flow_from_form(request.form, slug)}, new=False)
