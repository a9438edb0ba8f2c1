"""Who may see and who may change in the console. Flask-Admin's views are open to everyone unless
told otherwise (DESIGN.md §4.7): every view derives from `GuardedView` or `GuardedModelView`,
whose `roles` may see it and whose `write_roles` may change through it; `writes` and
`RefuseWrites` answer 403 to anyone else. Model views read the request's database session."""

from __future__ import annotations

import functools

from flask import abort, has_request_context, redirect, request, url_for
from flask_admin import BaseView
from flask_admin.contrib.sqla import ModelView
from flask_login import current_user
from flask_sqlalchemy import SQLAlchemy

from ..db import get_session

CONSOLE_ROLES = ("admin", "hr", "auditor")


class RequestSessionDb(SQLAlchemy):
    """Flask-Admin's SQLAlchemy views take a Flask-SQLAlchemy object and read its `.session` just
    before each query. This one hands them the request's session, so the console shares the
    engine, the transactions and SQLite's write lock handling of every other page; it opens no
    engine of its own.

    Why Flask-SQLAlchemy and not Flask-SQLAlchemy-Lite: Flask-Admin 2.2.1's SQLAlchemy views
    import `flask_sqlalchemy.session.Session` unconditionally (contrib/sqla/_types.py) and fail
    to import without it, so the Lite package alone cannot work."""

    def __init__(self) -> None:  # no engines of its own
        pass

    @property
    def session(self):
        # Flask-Admin only checks that the attribute exists when views are built, outside requests
        return get_session() if has_request_context() else None


db = RequestSessionDb()


class Guarded:
    """Who may see a view (`roles`) and who may change through it (`write_roles`)."""

    roles: tuple[str, ...] = ("admin", "hr")
    write_roles: tuple[str, ...] = ("admin", "hr")

    def is_accessible(self) -> bool:
        return current_user.is_authenticated and current_user.has_role(*self.roles)

    def may_write(self) -> bool:
        return current_user.is_authenticated and current_user.has_role(*self.write_roles)

    def inaccessible_callback(self, name, **kwargs):
        if not current_user.is_authenticated:
            return redirect(url_for("signin.sign_in", next=request.full_path.rstrip("?")))
        abort(403)


class GuardedView(Guarded, BaseView):
    pass


class GuardedModelView(Guarded, ModelView):
    """A table's view: read-only for everyone outside `write_roles`."""

    page_size = 50
    can_view_details = True
    can_export = False  # its CSV export does not neutralise formula cells (DESIGN.md §4.7)

    def __init__(self, model, **kwargs):
        super().__init__(model, db, **kwargs)

    @property
    def can_create(self) -> bool:
        return self.allow_create and self.may_write()

    @property
    def can_edit(self) -> bool:
        return self.allow_edit and self.may_write()

    @property
    def can_delete(self) -> bool:
        return self.allow_delete and self.may_write()

    allow_create = allow_edit = allow_delete = True


def writes(method):
    """A view method that changes something: only for the view's `write_roles` (403 otherwise)."""

    @functools.wraps(method)
    def guarded(self, *args, **kwargs):
        if not self.may_write():
            abort(403)
        return method(self, *args, **kwargs)

    return guarded


class RefuseWrites:
    """For model views: Flask-Admin's views that change rows (or show the form that would) answer
    403 to users outside `write_roles`, rather than Flask-Admin's quiet redirect to the list."""

    WRITE_VIEWS = frozenset({"create_view", "edit_view", "delete_view", "action_view", "ajax_update"})

    def _handle_view(self, name, **kwargs):
        refused = super()._handle_view(name, **kwargs)
        if refused is not None:
            return refused
        if name in self.WRITE_VIEWS and not self.may_write():
            abort(403)
        return None
