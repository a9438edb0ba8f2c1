"""Departments in the console, shown as a tree; a department's parent and its head are found by
searching (lookups.py), and no department may sit below itself (orgchanges checks)."""

from __future__ import annotations

import json

import sqlalchemy as sa
from flask import g
from flask_admin.form import BaseForm
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy.orm import Session
from wtforms import StringField
from wtforms.validators import DataRequired, Length, Optional

from ...org.models import Department
from ..db import get_session
from .common import actor
from .lookups import CodeSearchField, DepartmentLookup, EmployeeLookup
from .orgchanges import delete_department, save_department
from .service_views import FormValues, ServiceModelView, label_column, shown_key

#: the searches of the department form, named after its fields (DepartmentView.form_ajax_refs)
PARENT_SEARCH = DepartmentLookup("parent")
HEAD_SEARCH = EmployeeLookup("head")


def department_tree(session: Session) -> list[tuple[Department, int]]:
    """Every department with its depth, in tree order: each parent before its children, siblings
    by code. Departments caught in a loop (which the checks of orgchanges refuse, but hand-written
    SQL could make) come last, at depth 0."""
    departments = list(session.scalars(sa.select(Department).order_by(Department.code)))
    children: dict[int | None, list[Department]] = {}
    for department in departments:
        children.setdefault(department.parent_id, []).append(department)
    ordered, seen = [], set()
    stack = [(department, 0) for department in reversed(children.get(None, []))]
    while stack:
        department, depth = stack.pop()
        if department.id in seen:
            continue
        seen.add(department.id)
        ordered.append((department, depth))
        stack.extend((child, depth + 1) for child in reversed(children.get(department.id, [])))
    ordered.extend((department, 0) for department in departments if department.id not in seen)
    return ordered


class DepartmentForm(BaseForm):
    code = StringField(
        _l("Code"),
        validators=[DataRequired(), Length(max=64)],
        description=_l("The key other data uses (configuration, imports); it cannot change later."),
    )
    label_zh = StringField(_l("Name (Chinese)"), validators=[DataRequired(), Length(max=200)])
    label_en = StringField(_l("Name (English)"), validators=[Optional(), Length(max=200)])
    parent = CodeSearchField(
        PARENT_SEARCH,
        _l("Parent department"),
        description=_l("A department cannot sit below itself or below one of its own sub-departments."),
    )
    head = CodeSearchField(
        HEAD_SEARCH,
        _l("Head"),
        description=_l(
            "The employee who heads the department: they see the results of everyone in it and in its "
            "sub-departments, and act at the department head's review steps."
        ),
    )


class DepartmentEditForm(DepartmentForm):
    code = shown_key()


class DepartmentView(ServiceModelView):
    column_list = ("code", "label", "parent", "head")
    column_details_list = ("code", "label", "parent", "head")
    column_labels = {"code": _l("Code"), "label": _l("Name"), "parent": _l("Parent department"), "head": _l("Head")}
    column_searchable_list = ("code",)
    column_sortable_list = ()
    page_size = 0  # the whole tree on one page
    can_set_page_size = False
    form = DepartmentForm
    form_ajax_refs = {"parent": PARENT_SEARCH, "head": HEAD_SEARCH}

    def get_edit_form(self):
        return DepartmentEditForm

    def get_list(self, page, sort_column, sort_desc, search, filters, execute=True, page_size=None):
        count, rows = super().get_list(None, None, False, search, filters, execute=True, page_size=0)
        wanted = {row.id for row in rows}
        depths = g.department_depths = {}  # per request: the view object is shared by every thread
        ordered = []
        for department, depth in department_tree(get_session()):
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

    @staticmethod
    def _head(view, context, model, name):
        return f"{model.head.code} · {model.head.name}" if model.head is not None else ""

    column_formatters = {"code": _code, "label": label_column, "parent": _parent, "head": _head}
    column_formatters_detail = {
        "label": lambda v, c, m, n: json.dumps(m.label, ensure_ascii=False),
        "parent": _parent,
        "head": _head,
    }

    def form_object(self, model):
        return FormValues(
            code=model.code,
            label_zh=model.label.get("zh"),
            label_en=model.label.get("en"),
            parent=model.parent.code if model.parent is not None else "",
            head=model.head.code if model.head is not None else "",
        )

    def save(self, session, model, form):
        return save_department(
            session,
            model,
            code=form.code.data if model is None else None,
            label_zh=form.label_zh.data,
            label_en=form.label_en.data,
            parent=form.parent.data,
            head=form.head.data,
            actor=actor(),
        )

    def remove(self, session, model):
        delete_department(session, model, actor())
