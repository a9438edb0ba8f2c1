"""The administration console (Flask-Admin 2.x, Bootstrap 4 theme) under /admin/.

Flask-Admin's views are open to everyone unless told otherwise (DESIGN.md §4.7): every view here
derives from `GuardedView` or `GuardedModelView`, which say who may see and who may change. CSRF
comes from the app-wide CSRFProtect (not Flask-Admin's SecureForm, which collides with it), and
script tags carry the response's CSP nonce.
"""

from __future__ import annotations

from flask import Flask, abort, has_request_context, redirect, request, url_for
from flask_admin import Admin, AdminIndexView, BaseView, expose
from flask_admin.contrib.sqla import ModelView
from flask_admin.theme import Bootstrap4Theme
from flask_login import current_user
from flask_sqlalchemy import SQLAlchemy

from ..db import get_session
from ..security import csp_nonce

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


class ConsoleHome(Guarded, AdminIndexView):
    roles = CONSOLE_ROLES

    @expose("/")
    def index(self):
        return self.render("admin/console_home.html")


def init_admin(app: Flask) -> Admin:
    theme = Bootstrap4Theme(swatch="default", base_template="admin/perfrules_base.html")
    admin = Admin(
        app,
        name="perfrules",
        theme=theme,
        index_view=ConsoleHome(name="Console", url="/admin"),
        csp_nonce_generator=csp_nonce,
    )
    from .views import add_views

    add_views(admin)
    return admin
