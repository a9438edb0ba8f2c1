"""Roles in the console: a code and a name in each language."""

from __future__ import annotations

import json

from flask_admin.form import BaseForm
from flask_babel import lazy_gettext as _l
from wtforms import StringField
from wtforms.validators import DataRequired, Length, Optional

from .common import actor
from .orgchanges import delete_role, save_role
from .service_views import FormValues, ServiceModelView, label_column, shown_key


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
    column_formatters = {"label": label_column}
    column_formatters_detail = {"label": lambda v, c, m, n: json.dumps(m.label, ensure_ascii=False)}
    form = RoleForm

    def get_edit_form(self):
        return RoleEditForm

    def form_object(self, model):
        return FormValues(code=model.code, label_zh=model.label.get("zh"), label_en=model.label.get("en"))

    def save(self, session, model, form):
        return save_role(
            session,
            model,
            code=form.code.data if model is None else None,
            label_zh=form.label_zh.data,
            label_en=form.label_en.data,
            actor=actor(),
        )

    def remove(self, session, model):
        delete_role(session, model, actor())
