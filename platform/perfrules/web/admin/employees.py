"""Employees in the console: department and manager (each found by searching, lookups.py), role,
hire date, whether active, and the attributes formulas read, edited as a JSON object. Managers
form no loops (orgchanges checks). A change of department, manager or role, a departure or a
rehire takes effect on the edit form's "effective from" day (default today)."""

from __future__ import annotations

import json

import sqlalchemy as sa
from flask_admin.form import BaseForm
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from wtforms import BooleanField, DateField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from ...org.models import Role
from ..db import get_session
from ..i18n import label
from .common import actor
from .employeechanges import delete_employee, save_employee
from .lookups import CodeSearchField, DepartmentLookup, EmployeeLookup
from .service_views import FormValues, ServiceModelView, shown_key


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


#: the searches of the employee form, named after its fields (EmployeeView.form_ajax_refs)
DEPARTMENT_SEARCH = DepartmentLookup("department")
MANAGER_SEARCH = EmployeeLookup("manager")


class EmployeeForm(BaseForm):
    code = StringField(
        _l("Code"),
        validators=[DataRequired(), Length(max=64)],
        description=_l("The key other data uses (configuration, imports); it cannot change later."),
    )
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    department = CodeSearchField(DEPARTMENT_SEARCH, _l("Department"), validators=[DataRequired()])
    role = SelectField(_l("Role"), choices={}, validate_choice=False)
    manager = CodeSearchField(
        MANAGER_SEARCH,
        _l("Manager"),
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
    effective = DateField(
        _l("Effective from"),
        validators=[Optional()],
        description=_l(
            "The day a change of department, manager or role, a departure or a rehire takes effect "
            "(default today); earlier periods keep the organisation they had."
        ),
    )


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
    form_ajax_refs = {"department": DEPARTMENT_SEARCH, "manager": MANAGER_SEARCH}

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
        return FormValues(
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
        form.role.choices = {
            "": "—",
            **{
                r.code: f"{r.code} · {label(r.label)}"
                for r in get_session().scalars(sa.select(Role).order_by(Role.code))
            },
        }

    def save(self, session, model, form):
        return save_employee(
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
            effective=form.effective.data if model is not None else None,
        )

    def remove(self, session, model):
        delete_employee(session, model, actor())
