"""The console's views, by concern."""

from __future__ import annotations

from flask_admin import Admin
from flask_babel import lazy_gettext as _l

from ...audit import AuditEntry
from . import CONSOLE_ROLES, GuardedModelView


class AuditLogView(GuardedModelView):
    """The audit log: append-only in the database, read-only here."""

    roles = CONSOLE_ROLES
    allow_create = allow_edit = allow_delete = False
    column_default_sort = ("id", True)
    column_list = ("at", "actor", "action", "kind", "key")
    column_searchable_list = ("actor", "action", "kind", "key")
    column_filters = ("actor", "action", "kind")


def add_views(admin: Admin) -> None:
    admin.add_view(AuditLogView(AuditEntry, name=_l("Audit log"), endpoint="audit", category=_l("Records")))
