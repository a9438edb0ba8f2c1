"""A template's way to publication: a manager submits it, HR or an administrator reviews what
publishing it would change — the template and the new or changed documents it depends on, which
go with it, what blocks it (with links to fix each), and for a clone what differs from its
source — then publishes it as a new version or returns it with a comment. After publishing, the
affected period can be run at once."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import sqlalchemy as sa
from flask import abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ...audit import AuditEntry
from ...config import drafts
from ...config.models import ConfigVersion
from ...config.submissions import publish_message, return_submission, submission_of, submit
from ...config.validation import check_config
from ...config.versions import diff_configs
from ...engine.periods import PeriodError, last_complete, period_from_text
from ...plugins import load_plugins
from ...problems import ConfigError
from ..auth import login_required
from ..runner import RunRefused, start_run_in_background
from .blueprint import CONFIG_ROLES, DESIGNER_ROLES, bp
from .display import code_names, latest_snapshot
from .form_reading import form_text
from .reach import designer_context, template_or_abort


@bp.route("/templates/<slug>/submit", methods=["POST"])
@login_required(*DESIGNER_ROLES)
def submit_template(slug: str):
    session, config, reach = designer_context()
    template = template_or_abort(config, reach, slug, edit=True)
    snapshot = latest_snapshot(session)[1]
    if snapshot.get("templates", {}).get(slug) == template:
        flash(_("This template is the same as in the published version: there is nothing to submit."), "warning")
        return redirect(url_for("designer.edit_template", slug=slug))
    try:
        submit(session, slug, g.user.login, template, form_text(request.form, "comment"))
    except ConfigError as exc:
        session.rollback()
        flash("; ".join(problem.message for problem in exc.problems), "warning")
        return redirect(url_for("designer.edit_template", slug=slug))
    session.commit()
    flash(_("Submitted for approval: HR or an administrator will publish it."), "success")
    return redirect(url_for("designer.edit_template", slug=slug))


#: where each kind of document is edited, for the links that say "fix it here"
EDITORS: dict[str, tuple[str, dict[str, Any]]] = {
    "templates": ("designer.edit_template", {}),
    "kpis": ("designer.edit_kpi", {}),
    "datasets": ("designer.edit_dataset", {}),
    "approval_flows": ("flows.edit_flow", {}),
    "metrics": ("designer.edit_document", {"kind": "metrics"}),
    "forms": ("designer.edit_document", {"kind": "forms"}),
    "schedules": ("designer.edit_document", {"kind": "schedules"}),
    "employee_attributes": ("designer.edit_document", {"kind": "attributes"}),
    "targets": ("designer.edit_target_set", {}),
}
_PROBLEM_PLACE = re.compile(r"^(?P<section>[a-z_]+)\.(?P<slug>[a-z][a-z0-9_]*)")


def editor_url(section: str, slug: str) -> str | None:
    endpoint, args = EDITORS.get(section, ("", {}))
    return url_for(endpoint, slug=slug, **args) if endpoint in current_app.view_functions else None


def _blocking(snapshot: dict) -> list[dict]:
    """What stops a release from being published, each with a link to where it is fixed."""
    problems = check_config(snapshot, load_plugins().functions)
    found = []
    for problem in problems:
        place = _PROBLEM_PLACE.match(problem.path)
        found.append(
            {
                "path": problem.path,
                "message": problem.message,
                "url": editor_url(place["section"], place["slug"]) if place else None,
            }
        )
    return found


def _source_of_clone(session, config: dict, snapshot: dict, slug: str, template: dict) -> tuple[str | None, list[str]]:
    """For a new template cloned from another: the source, and what differs from it."""
    if slug in snapshot.get("templates", {}):
        return None, []
    cloned = session.scalar(
        sa.select(AuditEntry)
        .where(AuditEntry.action == "template.clone", AuditEntry.key == slug)
        .order_by(AuditEntry.id.desc())
    )
    source = (cloned.after or {}).get("source") if cloned else None
    original = snapshot.get("templates", {}).get(source) or config.get("templates", {}).get(source)
    if original is None:
        return None, []
    lines = [
        line
        for line in diff_configs({"templates": {slug: original}}, {"templates": {slug: template}})[1:]
        if not line.strip().startswith("slug:")
    ]
    return source, lines


@bp.route("/templates/<slug>/review")
@login_required(*CONFIG_ROLES)
def review_template(slug: str):
    session, config, reach = designer_context()
    template = template_or_abort(config, reach, slug, edit=False)
    number, snapshot = latest_snapshot(session)
    planned = drafts.release(session, [slug], load_plugins().functions, config)
    going = {(section, name) for section, name, _state in planned.documents}
    draft = {kind: documents for kind, documents in config.items() if documents}
    staying = []
    for line in diff_configs(snapshot, draft):
        if line[:1] in "+-~":
            section, _, name = line[2:].partition(".")
            if (section, name) not in going:
                staying.append({"name": line[2:], "url": editor_url(section, name)})
    source, source_lines = _source_of_clone(session, config, snapshot, slug, template)
    row = submission_of(session, slug)
    return render_template(
        "designer/review.html",
        slug=slug,
        template=template,
        submission=row,
        version=number,
        lines=diff_configs(snapshot, planned.snapshot),
        documents=[
            {"section": section, "slug": name, "state": state, "url": editor_url(section, name)}
            for section, name, state in planned.documents
        ],
        also_changes=planned.also_changes,
        blocking=_blocking(planned.snapshot) if planned.documents else [],
        staying=staying,
        message=publish_message(slug, template.get("label"), row),
        source=source,
        source_lines=source_lines,
        **code_names(),
    )


@bp.route("/templates/<slug>/publish", methods=["POST"])
@login_required(*CONFIG_ROLES)
def publish(slug: str):
    session, config, reach = designer_context()
    template = template_or_abort(config, reach, slug, edit=False)
    row = submission_of(session, slug)
    message = publish_message(slug, template.get("label"), row, form_text(request.form, "note"))
    try:
        version, _release = drafts.publish_templates(
            session, reach, g.user.login, [slug], message, load_plugins().functions
        )
    except ConfigError as exc:
        session.rollback()
        for problem in exc.problems:
            flash(str(problem), "danger")
        return redirect(url_for("designer.review_template", slug=slug))
    session.commit()
    flash(_("Published as version %(number)d.", number=version.number), "success")
    return redirect(url_for("designer.published", slug=slug, number=version.number))


def _affected_templates(session, version: ConfigVersion) -> list[str]:
    """The templates whose results a version can change: those it changed, and those using a
    document it changed."""
    before = session.scalar(sa.select(ConfigVersion).where(ConfigVersion.number == version.number - 1))
    old, new = (before.snapshot if before else {}), version.snapshot
    changed = {
        (section, slug)
        for section, documents in new.items()
        for slug, document in documents.items()
        if old.get(section, {}).get(slug) != document
    }
    functions = load_plugins().functions
    return sorted(
        slug
        for slug in new.get("templates", {})
        if ("templates", slug) in changed or changed & set(drafts.template_dependencies(new, slug, functions))
    )


def _periods_to_run(template: dict) -> list[str]:
    """The periods a run after publishing would most likely be for: the last complete period of
    each of the template's cycles (monthly when it has none), the latest first."""
    today = dt.date.today()
    cycles = template.get("cycles") or ["monthly"]
    return list(dict.fromkeys(str(last_complete(cycle, today)) for cycle in cycles))


@bp.route("/templates/<slug>/published/<int:number>", methods=["GET", "POST"])
@login_required(*CONFIG_ROLES)
def published(slug: str, number: int):
    """After a publish: what went into the version, and running the affected period now."""
    session, config, reach = designer_context()
    template = template_or_abort(config, reach, slug, edit=False)
    version = session.scalar(sa.select(ConfigVersion).where(ConfigVersion.number == number))
    if version is None:
        abort(404)
    affected = _affected_templates(session, version)
    periods = _periods_to_run(template)
    problem = None
    if request.method == "POST":
        try:
            period = period_from_text(form_text(request.form, "period"))
            run = start_run_in_background(session, period, version=str(number), templates=affected, actor=g.user.login)
        except (PeriodError, RunRefused) as exc:
            session.rollback()
            problem = getattr(exc, "message", str(exc))
        else:
            flash(_("Run %(id)d of %(period)s started.", id=run.id, period=run.period), "success")
            return redirect(url_for("console_runs.detail", run_id=run.id))
    return render_template(
        "designer/published.html",
        slug=slug,
        template=template,
        version=version,
        periods=periods,
        affected=affected,
        problem=problem,
    ), (422 if problem else 200)


@bp.route("/templates/<slug>/return", methods=["POST"])
@login_required(*CONFIG_ROLES)
def return_template(slug: str):
    session, config, reach = designer_context()
    template_or_abort(config, reach, slug, edit=False)
    try:
        return_submission(session, slug, g.user.login, form_text(request.form, "comment"))
    except ConfigError as exc:
        session.rollback()
        for problem in exc.problems:
            flash(problem.message, "danger")
        return redirect(url_for("designer.review_template", slug=slug))
    session.commit()
    flash(_("Returned to the submitter with your comment."), "success")
    return redirect(url_for("designer.templates"))
