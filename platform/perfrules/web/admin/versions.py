"""Published configuration versions in the console: the history, publishing the draft (after
seeing what it changes), a side-by-side diff of any two versions or a version and the draft, and
rolling back: the draft becomes version N's snapshot again (through the store, audited) and is
published as a new version, so history only ever grows."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, redirect, request
from flask_admin import expose
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ...config.drafts import publish_draft
from ...config.models import ConfigVersion
from ...config.permissions import reach_of
from ...config.store import export_yaml, replace_working_config
from ...config.versions import DRAFT, diff_configs, latest_version, list_versions, publish, resolve
from ...problems import ConfigError, Problem
from ..db import get_session
from .common import actor, functions, problem_rows
from .documents import document_yaml, side_by_side
from .guarded import CONSOLE_ROLES, GuardedView

MAX_MESSAGE = 500


def compare(old: dict, new: dict) -> list[dict]:
    """What differs between two configurations, document by document: the diff_configs lines
    and the document's YAML on each side, aligned line by line."""
    lines = diff_configs(old, new)
    documents: list[dict] = []
    for line in lines:
        if line.startswith(" "):
            documents[-1]["changes"].append(line.strip())
            continue
        sign, name = line[0], line[2:]
        kind, slug = name.split(".", 1)
        before, after = old.get(kind, {}).get(slug), new.get(kind, {}).get(slug)
        documents.append(
            {
                "sign": sign,
                "name": name,
                "kind": kind,
                "slug": slug,
                "changes": [],
                "rows": side_by_side(
                    document_yaml(kind, before) if before else "", document_yaml(kind, after) if after else ""
                ),
            }
        )
    return documents


class VersionsView(GuardedView):
    roles = CONSOLE_ROLES
    write_roles = ("admin", "hr")

    def _version(self, number: int) -> ConfigVersion:
        version = get_session().scalars(sa.select(ConfigVersion).where(ConfigVersion.number == number)).first()
        if version is None:
            abort(404)
        return version

    @expose("/")
    def index(self):
        session = get_session()
        versions = list(reversed(list_versions(session)))
        latest = versions[0] if versions else None
        draft = resolve(session, DRAFT)
        pending = diff_configs(latest.snapshot if latest else {}, draft.config)
        changed = [line for line in pending if not line.startswith(" ")]
        return self.render(
            "admin/versions.html", versions=versions, latest=latest, changed=changed, can_write=self.may_write()
        )

    @expose("/<int:number>")
    def show(self, number: int):
        version = self._version(number)
        return self.render("admin/version_show.html", version=version, text=export_yaml(version.snapshot))

    @expose("/diff")
    def diff(self):
        session = get_session()
        versions = list_versions(session)
        latest = versions[-1] if versions else None
        old_ref = request.args.get("old") or (
            str(versions[-2].number) if len(versions) > 1 else str(latest.number) if latest else DRAFT
        )
        new_ref = request.args.get("new") or (DRAFT if len(versions) < 2 else str(latest.number))
        try:
            old, new = resolve(session, old_ref), resolve(session, new_ref)
        except ConfigError as exc:
            flash(" ".join(p.message for p in exc.problems), "error")
            return redirect(self.get_url(".index"))
        return self.render(
            "admin/version_diff.html",
            versions=versions,
            old=old,
            new=new,
            old_ref=old_ref,
            new_ref=new_ref,
            documents=compare(old.config, new.config),
        )

    @expose("/publish", methods=("GET", "POST"))
    def publish_draft(self):
        if not self.may_write():
            abort(403)
        session = get_session()
        problems, message, status = [], request.form.get("message", ""), 200
        if request.method == "POST":
            message = message.strip()[:MAX_MESSAGE]
            try:
                version = publish_draft(session, reach_of(session, current_user), actor(), message, functions())
                session.commit()
            except ConfigError as exc:
                session.rollback()
                problems, status = problem_rows(exc.problems), 422
            else:
                flash(
                    _(
                        "Version %(number)s published (%(hash)s).",
                        number=version.number,
                        hash=version.content_hash[:12],
                    ),
                    "success",
                )
                return redirect(self.get_url(".index"))
        latest = latest_version(session)
        draft = resolve(session, DRAFT)
        documents = compare(latest.snapshot if latest else {}, draft.config)
        return self.render(
            "admin/version_publish.html", latest=latest, documents=documents, problems=problems, message=message
        ), status

    @expose("/rollback/<int:number>", methods=("GET", "POST"))
    def rollback(self, number: int):
        if not self.may_write():
            abort(403)
        session = get_session()
        target = self._version(number)
        problems, reason, status = [], request.form.get("reason", ""), 200
        if request.method == "POST":
            reason = reason.strip()[:MAX_MESSAGE]
            try:
                if not reason:
                    raise ConfigError([Problem("reason", "say why you roll back")])
                snapshot = target.snapshot
                replace_working_config(session, snapshot, functions(), actor())
                version = publish(session, f"Roll back to version {number}: {reason}", functions(), actor())
                session.commit()
            except ConfigError as exc:
                session.rollback()
                problems, status = problem_rows(exc.problems), 422
            else:
                flash(
                    _(
                        "Rolled back: version %(number)s has the configuration of version %(old)s.",
                        number=version.number,
                        old=number,
                    ),
                    "success",
                )
                return redirect(self.get_url(".index"))
        draft = resolve(session, DRAFT)
        documents = compare(draft.config, target.snapshot)
        return self.render(
            "admin/version_rollback.html",
            target=target,
            documents=documents,
            problems=problems,
            reason=reason,
            latest=latest_version(session),
        ), status


def add_version_views(admin) -> None:
    admin.add_view(
        VersionsView(
            name=_l("Versions"), endpoint="config_versions", url="/admin/versions", category=_l("Configuration")
        )
    )
