"""The administration console (Flask-Admin 2.x, Bootstrap 4 theme) under /admin/.

Flask-Admin's views are open to everyone unless told otherwise (DESIGN.md §4.7): every view here
derives from `GuardedView` or `GuardedModelView` (guarded.py), which say who may see and who may
change. CSRF comes from the app-wide CSRFProtect (not Flask-Admin's SecureForm, which collides
with it), and script tags carry the response's CSP nonce. The views themselves are added by
views.py, by concern.
"""

from __future__ import annotations

from flask import Flask
from flask_admin import Admin, AdminIndexView, expose
from flask_admin.theme import Bootstrap4Theme
from flask_babel import lazy_gettext as _l

from ..security import csp_nonce
from .guarded import CONSOLE_ROLES, Guarded
from .views import add_views


class ConsoleHome(Guarded, AdminIndexView):
    roles = CONSOLE_ROLES

    @expose("/")
    def index(self):
        return self.render("admin/console_home.html")


def init_admin(app: Flask) -> Admin:
    # the console's pages are the site's pages: admin/perfrules_base.html extends base.html
    theme = Bootstrap4Theme(swatch="default", base_template="admin/perfrules_base.html")
    admin = Admin(
        app,
        name="perfrules",
        theme=theme,
        index_view=ConsoleHome(name=_l("Console"), url="/admin"),
        csp_nonce_generator=csp_nonce,
    )
    add_views(admin)
    return admin
