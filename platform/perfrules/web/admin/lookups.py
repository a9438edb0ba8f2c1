"""Choosing an employee or a department by searching for it, not from a list of every one:
Flask-Admin's own ajax model loaders (its `form_ajax_refs` and `ajax_lookup` view) with the select2
widget Flask-Admin ships. The choice is posted and read as the record's code, which is what the
services of `orgchanges` take and check (an unknown code is refused there, next to its field).

A view that shows a `CodeSearchField` names the field's loader in its `form_ajax_refs`, under the
field's name, so that its `ajax/lookup/?name=<field>&query=…` answers the widget."""

from __future__ import annotations

import sqlalchemy as sa
from flask_admin.model.ajax import DEFAULT_PAGE_SIZE, AjaxModelLoader
from flask_admin.model.fields import AjaxSelectField
from flask_babel import lazy_gettext as _l

from ...org.models import Department, Employee
from ..db import get_session
from ..i18n import label


class CodeLookup(AjaxModelLoader):
    """Records of one kind found by their code or name, formatted as (code, "code · name")."""

    model: type

    def __init__(self, name: str) -> None:
        super().__init__(name, {"placeholder": _l("Type to search by name or code"), "minimum_input_length": 1})

    def describe(self, record) -> str:
        raise NotImplementedError(f"{type(self).__name__} must say how a record is shown")

    def get_one(self, pk):
        return get_session().scalar(sa.select(self.model).where(self.model.code == pk)) if pk else None

    def format(self, model):
        """(code, text) for the widget. `model` is a record, or a code as the form holds it."""
        if model is None or model == "":
            return None
        if isinstance(model, str):
            found = self.get_one(model)
            return (model, self.describe(found)) if found is not None else (model, model)
        return (model.code, self.describe(model))


class EmployeeLookup(CodeLookup):
    model = Employee

    def describe(self, record) -> str:
        text = f"{record.code} · {record.name}"
        return text if record.active else f"{text} ({_l('inactive')})"

    def get_list(self, query, offset=0, limit=DEFAULT_PAGE_SIZE):
        text = (query or "").strip()
        statement = sa.select(Employee).order_by(Employee.active.desc(), Employee.code)
        if text:
            statement = statement.where(
                sa.or_(Employee.code.icontains(text, autoescape=True), Employee.name.icontains(text, autoescape=True))
            )
        return list(get_session().scalars(statement.offset(offset or 0).limit(limit)))


class DepartmentLookup(CodeLookup):
    model = Department

    def describe(self, record) -> str:
        return f"{record.code} · {label(record.label)}"

    def get_list(self, query, offset=0, limit=DEFAULT_PAGE_SIZE):
        # a department's name is a {zh, en} label: matched here, on the few departments there are
        text = (query or "").strip().casefold()
        departments = get_session().scalars(sa.select(Department).order_by(Department.code))
        found = [
            department
            for department in departments
            if text in department.code.casefold()
            or any(text in str(name).casefold() for name in (department.label or {}).values())
        ]
        start = offset or 0
        return found[start : start + limit]


class CodeSearchField(AjaxSelectField):
    """A record chosen by searching for it; its data is the chosen record's code ("" for none).
    Whether the code is known is for the service to say, so nothing is refused here."""

    def __init__(self, loader: CodeLookup, label=None, validators=None, **kwargs) -> None:
        super().__init__(loader, label, validators, allow_blank=True, **kwargs)

    def _get_data(self):
        return self._data

    def _set_data(self, data) -> None:
        self._data = data.code if hasattr(data, "code") else (data or "")

    data = property(_get_data, _set_data)

    def process_formdata(self, valuelist) -> None:
        if valuelist:
            value = (valuelist[0] or "").strip()
            self.data = "" if value == "__None" else value

    def pre_validate(self, form) -> None:
        pass
