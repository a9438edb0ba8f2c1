"""Users in the console (administrators only change them): login, roles, the employee a user is,
e-mail and password."""

from __future__ import annotations

from flask_admin.form import BaseForm
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import BooleanField, PasswordField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length, Optional

from ...org.models import USER_ROLES, User
from .common import actor
from .lookups import CodeSearchField, EmployeeLookup
from .orgchanges import delete_user, save_user
from .service_views import FormValues, ServiceModelView

EMPLOYEE_SEARCH = EmployeeLookup("employee")  # UserView.form_ajax_refs


class UserForm(BaseForm):
    login = StringField(_l("Login"), validators=[DataRequired(), Length(max=64)])
    roles = SelectMultipleField(
        _l("Roles"),
        choices={role: role for role in USER_ROLES},
        validators=[DataRequired()],
        render_kw={"size": len(USER_ROLES)},
        description=_l(
            "admin: everything; hr: organisation, configuration and runs; "
            "auditor: reads everything, changes nothing; manager: their "
            "department's scorecards; employee: their own."
        ),
    )
    employee = CodeSearchField(
        EMPLOYEE_SEARCH,
        _l("Employee"),
        description=_l("The employee this user is: whose scorecards are their own."),
    )
    active = BooleanField(_l("Active"), default=True)
    email = StringField(
        _l("E-mail"),
        validators=[Optional(), Length(max=254)],
        description=_l("Where notifications are e-mailed, when e-mail is configured."),
    )
    password = PasswordField(
        _l("Password"), validators=[Optional(), Length(max=256)], description=_l("At least 8 characters.")
    )


class UserEditForm(UserForm):
    login = StringField(_l("Login"), render_kw={"readonly": True})
    password = PasswordField(
        _l("New password"),
        validators=[Optional(), Length(max=256)],
        description=_l("Leave empty to keep the current password. A new password ends the user's sessions."),
    )


class UserView(ServiceModelView):
    write_roles = ("admin",)
    column_list = ("login", "roles", "employee", "active", "email", "language", "created_at")
    column_details_list = ("login", "roles", "employee", "active", "email", "language", "created_at")
    column_labels = {
        "login": _l("Login"),
        "roles": _l("Roles"),
        "employee": _l("Employee"),
        "active": _l("Active"),
        "email": _l("E-mail"),
        "language": _l("Language"),
        "created_at": _l("Created"),
    }
    column_searchable_list = ("login",)
    column_sortable_list = ("login", "active", "created_at")
    column_default_sort = "login"
    column_filters = ("active",)
    form = UserForm
    form_ajax_refs = {"employee": EMPLOYEE_SEARCH}

    @staticmethod
    def _employee(view, context, model, name):
        return f"{model.employee.code} · {model.employee.name}" if model.employee else ""

    column_formatters = {"roles": lambda v, c, m, n: ", ".join(m.roles or []), "employee": _employee}
    column_formatters_detail = column_formatters

    def get_edit_form(self):
        return UserEditForm

    def form_object(self, model):
        return FormValues(
            login=model.login,
            roles=list(model.roles or []),
            employee=model.employee.code if model.employee else "",
            active=model.active,
            email=model.email or "",
        )

    def save(self, session, model, form):
        acting = session.get(User, current_user.id)
        return save_user(
            session,
            model,
            login=form.login.data if model is None else None,
            roles=form.roles.data,
            employee=form.employee.data,
            active=form.active.data,
            password=form.password.data,
            acting=acting,
            actor=actor(),
            email=form.email.data,
        )

    def remove(self, session, model):
        delete_user(session, model, session.get(User, current_user.id), actor())
