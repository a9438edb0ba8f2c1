"""The base of the organisation's console views: a model view whose every change goes through a
service function of `orgchanges` (which makes the importer's checks and writes the audit row),
a refusal shown next to the field each problem is about, and what the department, role,
employee and user views share."""

from __future__ import annotations

from flask import flash
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import StringField

from ...problems import ConfigError
from ..db import get_session
from ..i18n import label
from .guarded import CONSOLE_ROLES, GuardedModelView, RefuseWrites

#: who may change departments, roles and employees; users are for admins only
ORG_WRITE_ROLES = ("admin", "hr")


class ServiceModelView(RefuseWrites, GuardedModelView):
    """A model view whose changes all go through a service function (`save`, `remove`), which
    validates, audits and raises ConfigError with problems named by form field."""

    roles = CONSOLE_ROLES
    write_roles: tuple[str, ...] = ORG_WRITE_ROLES
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


def label_column(view, context, model, name) -> str:
    """A column formatter: a label ({"zh": …, "en": …}) in the reader's language."""
    return label(getattr(model, name))


def shown_key() -> StringField:
    """An edit form's code: shown, never changed (the services ignore what is posted)."""
    return StringField(
        _l("Code"),
        render_kw={"readonly": True},
        description=_l("The key other data uses (configuration, imports); it cannot change."),
    )


class FormValues:
    """What an edit form is filled from, when it is not the row itself: the values as attributes."""

    def __init__(self, **values):
        self.__dict__.update(values)
