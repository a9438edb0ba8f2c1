"""Configuration documents in the console, one view per kind (datasets, metrics, KPIs, …,
schedules): a list that says what differs from the latest published version, and an editor
for one document as YAML. Saving goes through `apply_documents`, the service `perfrules config
load` uses: the whole configuration is validated, every problem comes back with its path (and
line), and nothing is saved unless everything is right. Deleting goes through
`remove_document`, which validates the configuration without the document.

Schedules add enable / disable (a change of the draft document, like any other) and "run now".
Templates link to the template designer when it is installed.
"""

from __future__ import annotations

import copy
import datetime as dt
import re

import sqlalchemy as sa
from flask import abort, current_app, flash, redirect, request, url_for
from flask_admin import expose
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ...config.models import ConfigEntry
from ...config.schemas import KINDS
from ...config.sources import SourceDocument
from ...config.store import apply_documents, clone_template, remove_document, working_config
from ...config.versions import latest_version
from ...org.models import Department, Role
from ...problems import ConfigError, Problem
from ...scheduler.due import firing_period
from ..db import get_session
from ..i18n import label
from ..runner import RunRefused, start_run_in_background
from ..words import WORDS
from .common import actor, functions, problem_rows, run_actor
from .documents import document_yaml, parse_document, schema_help, skeleton, summary
from .guarded import CONSOLE_ROLES, GuardedView, writes

CONFIG_CATEGORY = _l("Configuration")
SLUG = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
DESIGNER_ENDPOINT = "designer.edit_template"
#: the designer page that edits a document of a kind, where there is one
DESIGNER_ENDPOINTS = {
    "templates": DESIGNER_ENDPOINT,
    "datasets": "designer.edit_dataset",
    "approval_flows": "flows.edit_flow",
}


def has_designer(kind: str = "templates") -> bool:
    return DESIGNER_ENDPOINTS.get(kind) in current_app.view_functions


def designer_endpoint(kind: str) -> str | None:
    """The endpoint of the designer page for documents of this kind, or None."""
    return DESIGNER_ENDPOINTS[kind] if has_designer(kind) else None


class ConfigKindView(GuardedView):
    roles = CONSOLE_ROLES
    write_roles = ("admin", "hr")

    def __init__(self, kind: str):
        self.kind = kind
        super().__init__(
            name=WORDS["config_kind"][kind],
            category=CONFIG_CATEGORY,
            endpoint=f"config_{kind}",
            url=f"/admin/config/{kind}",
        )

    # --- reading ------------------------------------------------------------------------------

    def _entry(self, slug: str) -> ConfigEntry:
        if not SLUG.match(slug):
            abort(404)
        entry = (
            get_session()
            .scalars(sa.select(ConfigEntry).where(ConfigEntry.kind == self.kind, ConfigEntry.slug == slug))
            .first()
        )
        if entry is None:
            abort(404)
        return entry

    def _rows(self):
        session = get_session()
        latest = latest_version(session)
        published = latest.snapshot.get(self.kind, {}) if latest is not None else None
        entries = session.scalars(
            sa.select(ConfigEntry).where(ConfigEntry.kind == self.kind).order_by(ConfigEntry.slug)
        ).all()
        rows = []
        for entry in entries:
            if published is None:
                state = "unpublished"
            elif entry.slug not in published:
                state = "new"
            else:
                state = "changed" if published[entry.slug] != entry.document else "published"
            rows.append(
                {
                    "entry": entry,
                    "slug": entry.slug,
                    "label": label(entry.document.get("label")),
                    "summary": summary(self.kind, entry.document),
                    "state": state,
                    "document": entry.document,
                }
            )
        removed = sorted(set(published or {}) - {entry.slug for entry in entries})
        return rows, removed, latest

    def extra_list_context(self, rows) -> dict:
        return {}

    def _list(self, problems=None, status: int = 200):
        rows, removed, latest = self._rows()
        return self.render(
            "admin/config_list.html",
            kind=self.kind,
            rows=rows,
            removed=removed,
            latest=latest,
            can_write=self.may_write(),
            designer=designer_endpoint(self.kind),
            problems=problems or [],
            **self.extra_list_context(rows),
        ), status

    @expose("/")
    def index(self):
        return self._list()

    def _editor(self, *, slug: str | None, text: str, problems=None, status: int = 200, entry=None):
        return self.render(
            "admin/config_edit.html",
            kind=self.kind,
            slug=slug,
            text=text,
            entry=entry,
            problems=problems or [],
            help=schema_help(self.kind),
            can_write=self.may_write(),
            designer=designer_endpoint(self.kind) if slug is not None else None,
        ), status

    # --- writing ------------------------------------------------------------------------------

    def _save(self, text: str, slug: str | None):
        """Apply the edited text; on problems, the editor again with them (422) and nothing saved."""
        session = get_session()
        shown_slug = slug
        try:
            document = parse_document(self.kind, text)
            shown_slug = document.slug or slug
            if slug is not None and document.slug != slug:
                raise ConfigError(
                    [
                        document.problem(
                            ("slug",),
                            f"the slug cannot change here (it is '{slug}'): "
                            "clone the document under the new slug instead",
                        )
                    ]
                )
            if (
                slug is None
                and document.slug
                and session.scalar(
                    sa.select(ConfigEntry.id).where(ConfigEntry.kind == self.kind, ConfigEntry.slug == document.slug)
                )
                is not None
            ):
                raise ConfigError(
                    [document.problem(("slug",), f"'{document.slug}' already exists: edit it, or choose another slug")]
                )
            saved = apply_documents(session, [document], functions(), actor())
            session.commit()
        except ConfigError as exc:
            session.rollback()
            rows = problem_rows(exc.problems, text, (f"{self.kind}[0]", f"{self.kind}.{shown_slug or '?'}"))
            entry = None
            if slug is not None:
                entry = self._entry(slug)
            return self._editor(slug=slug, text=text, problems=rows, status=422, entry=entry)
        name = f"{self.kind}.{document.slug}"
        if saved.unchanged:
            flash(_("Nothing changed in %(name)s.", name=name), "info")
        else:
            flash(_("%(name)s saved to the draft. Publish a version to use it in runs.", name=name), "success")
        return redirect(self.get_url(".edit", slug=document.slug))

    @expose("/new", methods=("GET", "POST"))
    def new(self):
        if request.method == "POST":
            return self._new_post()
        if not self.may_write():
            abort(403)
        text = document_yaml(self.kind, skeleton(self.kind, working_config(get_session())))
        return self._editor(slug=None, text=text)

    @writes
    def _new_post(self):
        return self._save(request.form.get("document", ""), None)

    @expose("/edit/<slug>", methods=("GET", "POST"))
    def edit(self, slug: str):
        if request.method == "POST":
            return self._edit_post(slug)
        entry = self._entry(slug)
        return self._editor(slug=slug, text=document_yaml(self.kind, entry.document), entry=entry)

    @writes
    def _edit_post(self, slug: str):
        self._entry(slug)
        return self._save(request.form.get("document", ""), slug)

    @expose("/clone/<slug>", methods=("GET", "POST"))
    def clone(self, slug: str):
        if not self.may_write():
            abort(403)
        entry = self._entry(slug)
        session = get_session()
        values = {
            "slug": request.form.get("new_slug", f"{slug}_copy"[:64]),
            "label_zh": request.form.get("label_zh", entry.document["label"]["zh"]),
            "label_en": request.form.get("label_en", entry.document["label"]["en"]),
            "departments": request.form.getlist("departments"),
            "roles": request.form.getlist("roles"),
        }
        problems = []
        if request.method == "POST":
            new_slug = values["slug"].strip()
            label_value = {
                "zh": values["label_zh"].strip() or entry.document["label"]["zh"],
                "en": values["label_en"].strip() or entry.document["label"]["en"],
            }
            try:
                if (
                    session.scalar(
                        sa.select(ConfigEntry.id).where(ConfigEntry.kind == self.kind, ConfigEntry.slug == new_slug)
                    )
                    is not None
                ):
                    raise ConfigError([Problem("slug", f"'{new_slug}' already exists: choose another slug")])
                if self.kind == "templates":
                    clone_template(
                        session,
                        slug,
                        new_slug,
                        functions(),
                        actor(),
                        departments=values["departments"] or None,
                        roles=values["roles"] or None,
                        label=label_value,
                    )
                else:
                    document = copy.deepcopy(entry.document)
                    document.update(slug=new_slug, label=label_value)
                    apply_documents(session, [SourceDocument(self.kind, 0, document)], functions(), actor())
                session.commit()
            except ConfigError as exc:
                session.rollback()
                problems = problem_rows(exc.problems, None, (f"{self.kind}[0]", f"{self.kind}.{new_slug}"))
            else:
                flash(
                    _("%(name)s cloned from %(source)s into the draft.", name=f"{self.kind}.{new_slug}", source=slug),
                    "success",
                )
                return redirect(self.get_url(".edit", slug=new_slug))
        choices = {}
        if self.kind == "templates":
            choices = {
                "departments": [
                    (d.code, label(d.label)) for d in session.scalars(sa.select(Department).order_by(Department.code))
                ],
                "roles": [(r.code, label(r.label)) for r in session.scalars(sa.select(Role).order_by(Role.code))],
            }
        return self.render(
            "admin/config_clone.html", kind=self.kind, entry=entry, values=values, problems=problems, choices=choices
        ), 422 if problems else 200

    @expose("/delete/<slug>", methods=("POST",))
    @writes
    def delete(self, slug: str):
        self._entry(slug)
        session = get_session()
        try:
            remove_document(session, self.kind, slug, functions(), actor())
            session.commit()
        except ConfigError as exc:
            session.rollback()
            flash(
                _(
                    "%(name)s was not deleted: the configuration without it would have %(count)d problem(s).",
                    name=f"{self.kind}.{slug}",
                    count=len(exc.problems),
                ),
                "error",
            )
            return self._list(problem_rows(exc.problems), 422)
        flash(
            _("%(name)s deleted from the draft. Publish a version to make it final.", name=f"{self.kind}.{slug}"),
            "success",
        )
        return redirect(self.get_url(".index"))


class ScheduleView(ConfigKindView):
    """Schedules, with enable / disable and run now."""

    run_roles = ("admin", "hr")

    def __init__(self):
        super().__init__("schedules")

    def extra_list_context(self, rows) -> dict:
        latest = latest_version(get_session())
        published = latest.snapshot.get("schedules", {}) if latest is not None else {}
        now = dt.datetime.now(dt.UTC)
        due = {}
        for row in rows:
            schedule = published.get(row["slug"])
            due[row["slug"]] = str(firing_period(schedule, now)) if schedule is not None else None
        return {"due": due}

    def _set_enabled(self, slug: str, enabled: bool):
        entry = self._entry(slug)
        session = get_session()
        document = copy.deepcopy(entry.document)
        document["enabled"] = enabled
        try:
            apply_documents(session, [SourceDocument("schedules", 0, document)], functions(), actor())
            session.commit()
        except ConfigError as exc:
            session.rollback()
            return self._list(problem_rows(exc.problems, None, ("schedules[0]", f"schedules.{slug}")), 422)
        message = (
            _("Schedule %(slug)s enabled in the draft. Publish a version for the scheduler to follow it.", slug=slug)
            if enabled
            else _(
                "Schedule %(slug)s disabled in the draft. Publish a version for the scheduler to follow it.", slug=slug
            )
        )
        flash(message, "success")
        return redirect(self.get_url(".index"))

    @expose("/enable/<slug>", methods=("POST",))
    @writes
    def enable(self, slug: str):
        return self._set_enabled(slug, True)

    @expose("/disable/<slug>", methods=("POST",))
    @writes
    def disable(self, slug: str):
        return self._set_enabled(slug, False)

    @expose("/run/<slug>", methods=("POST",))
    @writes
    def run_now(self, slug: str):
        """Evaluate the period the schedule is due for now, under the latest published version."""
        self._entry(slug)
        session = get_session()
        latest = latest_version(session)
        schedule = latest.snapshot.get("schedules", {}).get(slug) if latest is not None else None
        if latest is None or schedule is None:
            flash(_("Schedule %(slug)s is not in the latest published version: publish it first.", slug=slug), "error")
            return redirect(self.get_url(".index"))
        period = firing_period(schedule, dt.datetime.now(dt.UTC))
        try:
            run = start_run_in_background(
                session,
                period,
                version=str(latest.number),
                templates=list(schedule["templates"]),
                actor=run_actor(),
                scope_extra={"schedule": slug},
            )
        except RunRefused as exc:
            flash(exc.message, "error")
            return redirect(self.get_url(".index"))
        number = latest.number
        flash(
            _(
                "Run %(run)s of %(period)s started for schedule %(slug)s with version %(version)s.",
                run=run.id,
                period=period,
                slug=slug,
                version=number,
            ),
            "success",
        )
        return redirect(url_for("console_runs.detail", run_id=run.id))


def add_config_views(admin) -> None:
    for kind in KINDS:
        admin.add_view(ScheduleView() if kind == "schedules" else ConfigKindView(kind))
