"""A template's way to publication: a manager submits it, HR or an administrator reviews what
publishing it would change (and, for a clone, what differs from its source), then publishes it
as a new version or returns it with a comment."""

from __future__ import annotations

import sqlalchemy as sa
from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ...audit import AuditEntry
from ...config.submissions import publish_message, publish_template, release, return_submission, submission_of, submit
from ...config.versions import diff_configs
from ...plugins import load_plugins
from ...problems import ConfigError
from ..auth import login_required
from .blueprint import CONFIG_ROLES, DESIGNER_ROLES, bp
from .display import latest_snapshot
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


@bp.route("/templates/<slug>/review")
@login_required(*CONFIG_ROLES)
def review_template(slug: str):
    session, config, reach = designer_context()
    template = template_or_abort(config, reach, slug, edit=False)
    number, snapshot = latest_snapshot(session)
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
    session, config, reach = designer_context()
    template = template_or_abort(config, reach, slug, edit=False)
    try:
        version = publish_template(
            session, slug, template, load_plugins().functions, g.user.login, form_text(request.form, "note")
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
