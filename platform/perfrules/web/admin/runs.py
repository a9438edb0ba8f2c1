"""Evaluation runs in the console: the list, one run's scope, counts, timings, progress and every
error, and starting a run of a period with a published version (recorded at once, evaluated in
the background by web/runner.py, as the REST API does)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, redirect, request
from flask.typing import ResponseReturnValue
from flask_admin import expose
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ...config.versions import list_versions
from ...engine.models import EvaluationRun
from ...engine.periods import PeriodError, period_from_text
from ...org.models import Department
from ..db import get_session
from ..i18n import label
from ..runner import RunRefused, start_run_in_background
from .common import run_actor
from .guarded import CONSOLE_ROLES, GuardedView
from .left_out import left_out_rows

PAGE = 50
#: what a run's counts and timings mean, in the reader's language (unknown keys are shown as they are)
COUNT_NAMES = {
    "employees": _l("Employees in scope"),
    "scorecards": _l("Scorecards"),
    "failed": _l("Failed"),
    "other_cycle": _l("On templates of another cycle"),
    "without_template": _l("Without a template"),
    "ambiguous": _l("With two equally specific templates"),
    "skipped_locked": _l("Locked scorecards kept"),
    "queries": _l("Database queries"),
}
TIMING_NAMES = {"aggregate": _l("Aggregate"), "evaluate": _l("Evaluate"), "write": _l("Write"), "total": _l("Total")}


def duration(run: EvaluationRun) -> float | None:
    if run.finished_at is None or run.started_at is None:
        return None
    return (run.finished_at - run.started_at).total_seconds()


class RunsView(GuardedView):
    roles = CONSOLE_ROLES
    write_roles = ("admin", "hr")

    @expose("/")
    def index(self):
        session = get_session()
        page = max(request.args.get("page", 0, type=int), 0)
        total = session.scalar(sa.select(sa.func.count()).select_from(EvaluationRun))
        runs = session.scalars(
            sa.select(EvaluationRun).order_by(EvaluationRun.id.desc()).offset(page * PAGE).limit(PAGE)
        ).all()
        return self.render(
            "admin/runs.html",
            runs=runs,
            page=page,
            pages=max((total + PAGE - 1) // PAGE, 1),
            total=total,
            duration=duration,
            can_write=self.may_write(),
        )

    @expose("/<int:run_id>")
    def detail(self, run_id: int):
        run = get_session().get(EvaluationRun, run_id)
        if run is None:
            abort(404)
        progress = (run.counts or {}).get("progress") if run.status == "running" else None
        counts = {key: value for key, value in (run.counts or {}).items() if key != "progress"}
        recorded = run.timings or {}
        timings = [(key, recorded[key]) for key in TIMING_NAMES if key in recorded] + sorted(
            (key, value) for key, value in recorded.items() if key not in TIMING_NAMES
        )
        return self.render(
            "admin/run_detail.html",
            run=run,
            progress=progress,
            counts=counts,
            duration=duration(run),
            count_names=COUNT_NAMES,
            timings=timings,
            timing_names=TIMING_NAMES,
            left_out=left_out_rows(get_session(), run),
            may_open=current_user.has_role("admin", "hr"),
        )

    @expose("/start", methods=("GET", "POST"))
    def start(self) -> ResponseReturnValue:
        if not self.may_write():
            abort(403)
        session = get_session()
        versions = list_versions(session)
        form = {
            "period": request.form.get("period", "").strip() if request.method == "POST" else "last-month",
            "template": request.form.get("template", "").strip(),
            "department": request.form.get("department", "").strip(),
            "version": request.form.get("version", "latest").strip() or "latest",
        }
        errors: dict[str, str] = {}
        if request.method == "POST":
            try:
                period = period_from_text(form["period"])
            except PeriodError as exc:
                errors["period"] = str(exc)
            else:
                try:
                    run = start_run_in_background(
                        session,
                        period,
                        version=form["version"],
                        templates=[form["template"]] if form["template"] else None,
                        department=form["department"] or None,
                        actor=run_actor(),
                    )
                except RunRefused as exc:
                    errors["template" if exc.field == "templates" else exc.field] = exc.message
                else:
                    flash(
                        _(
                            "Run %(run)s of %(period)s started with version %(version)s.",
                            run=run.id,
                            period=period,
                            version=run.version_number,
                        ),
                        "success",
                    )
                    return redirect(self.get_url(".detail", run_id=run.id))
        latest = versions[-1] if versions else None
        templates = sorted((latest.snapshot.get("templates", {}) if latest else {}).items())
        departments = [
            (d.code, label(d.label)) for d in session.scalars(sa.select(Department).order_by(Department.code))
        ]
        return self.render(
            "admin/run_start.html",
            form=form,
            errors=errors,
            versions=list(reversed(versions)),
            templates=[(slug, label(t.get("label"))) for slug, t in templates],
            departments=departments,
        ), 422 if errors else 200


def add_run_views(admin) -> None:
    admin.add_view(RunsView(name=_l("Runs"), endpoint="console_runs", url="/admin/runs", category=_l("Records")))
