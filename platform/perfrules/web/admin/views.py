"""The console's views, by concern: the organisation (org.py), configuration documents
(config_views.py), published versions (versions.py), runs (runs.py) and the audit log (here)."""

from __future__ import annotations

import json

from flask_admin import Admin
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from ...audit import AuditEntry
from .config_views import add_config_views
from .guarded import CONSOLE_ROLES, GuardedModelView, RefuseWrites
from .org import add_org_views
from .runs import add_run_views
from .versions import add_version_views


def pretty_json(view, context, model, name) -> Markup:
    """A before or after value as indented JSON; escaped, whatever it holds."""
    value = getattr(model, name)
    if value is None:
        return Markup('<span class="text-muted">—</span>')
    return Markup('<pre class="audit-json mb-0">{}</pre>').format(
        json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True)
    )


class AuditLogView(RefuseWrites, GuardedModelView):
    """The audit log: append-only in the database, read-only here."""

    roles = CONSOLE_ROLES
    write_roles = ()  # nobody: the table refuses UPDATE and DELETE itself
    allow_create = allow_edit = allow_delete = False
    column_default_sort = ("id", True)
    column_list = ("at", "actor", "action", "kind", "key")
    column_details_list = ("id", "at", "actor", "action", "kind", "key", "before", "after")
    column_labels = {
        "at": _l("When"),
        "actor": _l("Who"),
        "action": _l("Action"),
        "kind": _l("Kind"),
        "key": _l("Key"),
        "before": _l("Before"),
        "after": _l("After"),
    }
    column_formatters_detail = {"before": pretty_json, "after": pretty_json}
    column_searchable_list = ("actor", "action", "kind", "key")
    column_filters = ("actor", "action", "kind")
    details_template = "admin/console_details.html"
    list_template = "admin/console_list.html"


def add_views(admin: Admin) -> None:
    add_org_views(admin)
    add_config_views(admin)
    add_version_views(admin)
    add_run_views(admin)
    admin.add_view(AuditLogView(AuditEntry, name=_l("Audit log"), endpoint="audit", category=_l("Records")))
