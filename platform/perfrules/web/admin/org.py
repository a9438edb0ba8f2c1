"""The organisation in the console: departments (as a tree), roles, employees and users.

Flask-Admin lists, searches and shows the rows; every create, edit and delete goes through
`orgchanges`, which makes the importer's checks and writes the audit row. A refusal shows each
problem next to the field it is about, and nothing is saved.
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from flask import flash, g
from flask_admin.form import BaseForm
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup
from wtforms import BooleanField, DateField, PasswordField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from ...org.models import USER_ROLES, Department, Employee, Role, User
from ...problems import ConfigError
from ..db import get_session
from ..i18n import label
from . import CONSOLE_ROLES, GuardedModelView, orgchanges
from .common import RefuseWrites, actor

ORG_CATEGORY = _l("Organisation")
#: who may change departments, roles and employees; users are for admins only
ORG_WRITE_ROLES = ("admin", "hr")


class ServiceModelView(RefuseWrites, GuardedModelView):
    """A model view whose changes all go through a service function (`save`, `remove`), which
    validates, audits and raises ConfigError with problems named by form field."""

    roles = CONSOLE_ROLES
    write_roles = ORG_WRITE_ROLES
    list_template = "admin/console_list.html"
    details_template = "admin/console_details.html"
    action_disallowed_list = ["delete"]  # the bulk action's menu needs inline scripts, which the CSP refuses
    column_display_actions = True

    # each view (departments, roles, employees, users) names its service for these two
    def save(self, session, model, form):
        raise NotImplementedError(f"{type(self).__name__} must say which service saves its records")

    def remove(self, session, model):
        raise NotImplementedError(f"{type(self).__name__} must say which service removes its records")

    def form_object(self, model):
        """What an edit form is filled from."""
        return model

    def edit_form(self, obj=None):
        form = super().edit_form(obj=None if obj is None else self.form_object(obj))
        self.fill_choices(form)
        return form

    def create_form(self, obj=None):
        form = super().create_form(obj=obj)
        self.fill_choices(form)
        return form

    def fill_choices(self, form) -> None:
        pass

    def _refused(self, form, exc: ConfigError) -> None:
        get_session().rollback()
        loose = []
        for problem in exc.problems:
            field = getattr(form, problem.path, None) if form is not None and problem.path else None
            if field is not None and hasattr(field, "errors"):
                field.errors = [*field.errors, problem.message]
            else:
                loose.append(problem.message)
        flash(_("Nothing was saved.") + (" " + " ".join(loose) if loose else ""), "error")

    def create_model(self, form):
        session = get_session()
        try:
            model = self.save(session, None, form)
            session.commit()
        except ConfigError as exc:
            self._refused(form, exc)
            return False
        return model

    def update_model(self, form, model):
        session = get_session()
        try:
            self.save(session, model, form)
            session.commit()
        except ConfigError as exc:
            self._refused(form, exc)
            return False
        return True

    def delete_model(self, model):
        session = get_session()
        try:
            self.remove(session, model)
            session.commit()
        except ConfigError as exc:
            session.rollback()
            flash(_("Nothing was deleted.") + " " + " ".join(p.message for p in exc.problems), "error")
            return False
        return True


def _label_column(view, context, model, name):
    return label(getattr(model, name))


def shown_key():
    """An edit form's code: shown, never changed (the services ignore what is posted)."""
    return StringField(
        _l("Code"),
        render_kw={"readonly": True},
        description=_l("The key other data uses (configuration, imports); it cannot change."),
    )


# --- departments ------------------------------------------------------------------------------


class DepartmentForm(BaseForm):
    code = StringField(
        _l("Code"),
        validators=[DataRequired(), Length(max=64)],
        description=_l("The key other data uses (configuration, imports); it cannot change later."),
    )
    label_zh = StringField(_l("Name (Chinese)"), validators=[DataRequired(), Length(max=200)])
    label_en = StringField(_l("Name (English)"), validators=[Optional(), Length(max=200)])
    parent = SelectField(
        _l("Parent department"),
        choices={},
        validate_choice=False,
        description=_l("A department cannot sit below itself or below one of its own sub-departments."),
    )


class DepartmentEditForm(DepartmentForm):
    code = shown_key()


def department_choices(session, exclude: str | None = None) -> list[tuple[str, str]]:
    """The departments as an indented tree, for choosing a parent."""
    choices = [("", "—")]
    for department, depth in orgchanges.department_tree(session):
        if department.code != exclude:
            choices.append((department.code, "\u00a0\u00a0" * depth + f"{department.code} · {label(department.label)}"))
    return choices


class DepartmentView(ServiceModelView):
    column_list = ("code", "label", "parent")
    column_details_list = ("code", "label", "parent")
    column_labels = {"code": _l("Code"), "label": _l("Name"), "parent": _l("Parent department")}
    column_searchable_list = ("code",)
    column_sortable_list = ()
    page_size = 0  # the whole tree on one page
    can_set_page_size = False
    form = DepartmentForm

    def get_edit_form(self):
        return DepartmentEditForm

    def get_list(self, page, sort_column, sort_desc, search, filters, execute=True, page_size=None):
        count, rows = super().get_list(None, None, False, search, filters, execute=True, page_size=0)
        wanted = {row.id for row in rows}
        depths = g.department_depths = {}  # per request: the view object is shared by every thread
        ordered = []
        for department, depth in orgchanges.department_tree(get_session()):
            if department.id in wanted:
                ordered.append(department)
                depths[department.id] = depth
        return count, ordered

    @staticmethod
    def _code(view, context, model, name):
        depth = g.get("department_depths", {}).get(model.id, 0)
        return Markup('<span class="tree-node" data-depth="{}">{}{}</span>').format(
            depth, Markup("&nbsp;&nbsp;&nbsp;&nbsp;" * depth + ("└&nbsp;" if depth else "")), model.code
        )

    @staticmethod
    def _parent(view, context, model, name):
        return model.parent.code if model.parent is not None else ""

    column_formatters = {"code": _code, "label": _label_column, "parent": _parent}
    column_formatters_detail = {"label": lambda v, c, m, n: json.dumps(m.label, ensure_ascii=False), "parent": _parent}

    def form_object(self, model):
        return _Values(
            code=model.code,
            label_zh=model.label.get("zh"),
            label_en=model.label.get("en"),
            parent=model.parent.code if model.parent is not None else "",
        )

    def fill_choices(self, form):
        form.parent.choices = dict(department_choices(get_session()))

    def edit_form(self, obj=None):
        form = ServiceModelView.edit_form(self, obj)
        if obj is not None:
            form.parent.choices = dict(department_choices(get_session(), obj.code))
        return form

    def save(self, session, model, form):
        return orgchanges.save_department(
            session,
            model,
            code=form.code.data if model is None else None,
            label_zh=form.label_zh.data,
            label_en=form.label_en.data,
            parent=form.parent.data,
            actor=actor(),
        )

    def remove(self, session, model):
        orgchanges.delete_department(session, model, actor())


class _Values:
    def __init__(self, **values):
        self.__dict__.update(values)


# --- roles ------------------------------------------------------------------------------------


class RoleForm(BaseForm):
    code = StringField(
        _l("Code"),
        validators=[DataRequired(), Length(max=64)],
        description=_l("The key other data uses (configuration, imports); it cannot change later."),
    )
    label_zh = StringField(_l("Name (Chinese)"), validators=[DataRequired(), Length(max=200)])
    label_en = StringField(_l("Name (English)"), validators=[Optional(), Length(max=200)])


class RoleEditForm(RoleForm):
    code = shown_key()


class RoleView(ServiceModelView):
    column_list = ("code", "label")
    column_details_list = ("code", "label")
    column_labels = {"code": _l("Code"), "label": _l("Name")}
    column_searchable_list = ("code",)
    column_sortable_list = ("code",)
    column_default_sort = "code"
    column_formatters = {"label": _label_column}
    column_formatters_detail = {"label": lambda v, c, m, n: json.dumps(m.label, ensure_ascii=False)}
    form = RoleForm

    def get_edit_form(self):
        return RoleEditForm

    def form_object(self, model):
        return _Values(code=model.code, label_zh=model.label.get("zh"), label_en=model.label.get("en"))

    def save(self, session, model, form):
        return orgchanges.save_role(
            session,
            model,
            code=form.code.data if model is None else None,
            label_zh=form.label_zh.data,
            label_en=form.label_en.data,
            actor=actor(),
        )

    def remove(self, session, model):
        orgchanges.delete_role(session, model, actor())


# --- employees --------------------------------------------------------------------------------


class JsonObjectField(TextAreaField):
    """A JSON object edited as text: {"level": "P5", "quota_weight": 3}."""

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return json.dumps(self.data or {}, ensure_ascii=False, indent=2, sort_keys=True)

    def process_formdata(self, valuelist):
        self.raw_data = valuelist
        text = (valuelist[0] if valuelist else "").strip()
        if not text:
            self.data = {}
            return
        try:
            self.data = json.loads(text)
        except ValueError as exc:
            self.data = None
            raise ValueError(_("not valid JSON: %(reason)s", reason=str(exc))) from None
        if not isinstance(self.data, dict):
            self.data = None
            raise ValueError(_('must be a JSON object, like {"level": "P5"}'))


class EmployeeForm(BaseForm):
    code = StringField(
        _l("Code"),
        validators=[DataRequired(), Length(max=64)],
        description=_l("The key other data uses (configuration, imports); it cannot change later."),
    )
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    department = SelectField(_l("Department"), choices={}, validate_choice=False, validators=[DataRequired()])
    role = SelectField(_l("Role"), choices={}, validate_choice=False)
    manager = SelectField(
        _l("Manager"),
        choices={},
        validate_choice=False,
        description=_l("Managers cannot form a loop: nobody reports, directly or not, to themselves."),
    )
    hire_date = DateField(_l("Hire date"), validators=[Optional()])
    active = BooleanField(_l("Active"), default=True)
    attributes = JsonObjectField(
        _l("Attributes"),
        render_kw={"rows": 6, "class": "form-control text-monospace"},
        description=_l("A JSON object; formulas read the ones configured as employee attributes."),
    )


class EmployeeEditForm(EmployeeForm):
    code = shown_key()


class EmployeeView(ServiceModelView):
    column_list = ("code", "name", "department", "role", "manager", "active", "hire_date")
    column_details_list = ("code", "name", "department", "role", "manager", "active", "hire_date", "attributes")
    column_labels = {
        "code": _l("Code"),
        "name": _l("Name"),
        "department": _l("Department"),
        "role": _l("Role"),
        "manager": _l("Manager"),
        "active": _l("Active"),
        "hire_date": _l("Hire date"),
        "attributes": _l("Attributes"),
        "department.code": _l("Department"),
        "role.code": _l("Role"),
    }
    column_searchable_list = ("code", "name")
    column_sortable_list = ("code", "name", "active", "hire_date")
    column_default_sort = "code"
    column_filters = ("active", "department.code", "role.code")
    form = EmployeeForm

    def get_edit_form(self):
        return EmployeeEditForm

    @staticmethod
    def _department(view, context, model, name):
        return f"{model.department.code} · {label(model.department.label)}" if model.department else ""

    @staticmethod
    def _role(view, context, model, name):
        return label(model.role.label) if model.role else ""

    @staticmethod
    def _manager(view, context, model, name):
        return f"{model.manager.code} · {model.manager.name}" if model.manager else ""

    column_formatters = {"department": _department, "role": _role, "manager": _manager}
    column_formatters_detail = {
        "department": _department,
        "role": _role,
        "manager": _manager,
        "attributes": lambda v, c, m, n: Markup('<pre class="mb-0">{}</pre>').format(
            json.dumps(m.attributes or {}, ensure_ascii=False, indent=2, sort_keys=True)
        ),
    }

    def form_object(self, model):
        return _Values(
            code=model.code,
            name=model.name,
            department=model.department.code if model.department else "",
            role=model.role.code if model.role else "",
            manager=model.manager.code if model.manager else "",
            hire_date=model.hire_date,
            active=model.active,
            attributes=dict(model.attributes or {}),
        )

    def fill_choices(self, form):
        session = get_session()
        form.department.choices = dict(department_choices(session)[1:])
        form.role.choices = {
            "": "—",
            **{r.code: f"{r.code} · {label(r.label)}" for r in session.scalars(sa.select(Role).order_by(Role.code))},
        }
        form.manager.choices = {
            "": "—",
            **{
                code: f"{code} · {name}"
                for code, name in session.execute(sa.select(Employee.code, Employee.name).order_by(Employee.code))
            },
        }

    def save(self, session, model, form):
        return orgchanges.save_employee(
            session,
            model,
            code=form.code.data if model is None else None,
            name=form.name.data,
            department=form.department.data,
            role=form.role.data,
            manager=form.manager.data,
            hire_date=form.hire_date.data,
            active=form.active.data,
            attributes=form.attributes.data,
            actor=actor(),
        )

    def remove(self, session, model):
        orgchanges.delete_employee(session, model, actor())


# --- users ------------------------------------------------------------------------------------


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
    employee = SelectField(
        _l("Employee"),
        choices={},
        validate_choice=False,
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

    @staticmethod
    def _employee(view, context, model, name):
        return f"{model.employee.code} · {model.employee.name}" if model.employee else ""

    column_formatters = {"roles": lambda v, c, m, n: ", ".join(m.roles or []), "employee": _employee}
    column_formatters_detail = column_formatters

    def get_edit_form(self):
        return UserEditForm

    def form_object(self, model):
        return _Values(
            login=model.login,
            roles=list(model.roles or []),
            employee=model.employee.code if model.employee else "",
            active=model.active,
            email=model.email or "",
        )

    def fill_choices(self, form):
        form.employee.choices = {
            "": "—",
            **{
                code: f"{code} · {name}"
                for code, name in get_session().execute(sa.select(Employee.code, Employee.name).order_by(Employee.code))
            },
        }

    def save(self, session, model, form):
        acting = session.get(User, current_user.id)
        return orgchanges.save_user(
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
        orgchanges.delete_user(session, model, session.get(User, current_user.id), actor())


def add_org_views(admin) -> None:
    admin.add_view(
        DepartmentView(
            Department,
            name=_l("Departments"),
            endpoint="org_departments",
            url="/admin/departments",
            category=ORG_CATEGORY,
        )
    )
    admin.add_view(RoleView(Role, name=_l("Roles"), endpoint="org_roles", url="/admin/roles", category=ORG_CATEGORY))
    admin.add_view(
        EmployeeView(
            Employee, name=_l("Employees"), endpoint="org_employees", url="/admin/employees", category=ORG_CATEGORY
        )
    )
    admin.add_view(UserView(User, name=_l("Users"), endpoint="org_users", url="/admin/users", category=ORG_CATEGORY))
