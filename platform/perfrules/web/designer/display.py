"""What the designer pages show besides the document being edited: numbers as people type them,
the weight sums, words for codes and currencies, the choices of the template pages, and the latest
published version to compare with."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from babel.numbers import get_currency_name
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from ...config.schemas import CYCLES, MISSING_POLICIES
from ...config.versions import latest_version
from ...org.models import Role
from ..words import word
from .blueprint import bp
from .form_reading import Document
from .reach import DepartmentNode, Reach, department_tree


@bp.app_template_filter("plain_number")
def plain_number(value: object) -> str:
    """60.0 → 60, 0.125 → 0.125; text (a wrong entry being shown again) as it is; None → ''."""
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    return str(int(value)) if float(value).is_integer() and abs(value) < 1e15 else repr(float(value))


@bp.app_template_filter("list_choice")
def list_choice(code: str, listed: list[tuple[str, Any, str]]) -> tuple[str, Any, str]:
    """The entry of a choice list for `code`: (code, words, group); a code no longer listed is
    shown as itself, so saving keeps it (or says why it cannot)."""
    return next((entry for entry in listed if entry[0] == code), (code, None, ""))


def _as_number(value: object) -> float | None:
    """A weight as a number; None for an empty or mistyped one (the sums count it as 0)."""
    if not isinstance(value, (int, float, str)):
        return None
    try:
        return float(value)
    except ValueError:
        return None


def weight_sums(template: Document) -> dict[str, object]:
    """The sums the editor shows (the browser recomputes them as people type)."""
    sections = template.get("sections", [])
    per_section = [
        sum(_as_number(item.get("weight")) or 0 for item in section.get("items", [])) for section in sections
    ]
    return {"sections": sum(_as_number(s.get("weight")) or 0 for s in sections), "items": per_section}


def code_names() -> dict[str, dict[str, str]]:
    """Words for the codes the pages show."""
    return {
        "cycle_names": {code: word(code, "cycle") for code in CYCLES},
        "section_names": {
            "templates": _("template"),
            "kpis": _("KPI"),
            "metrics": _("metric"),
            "datasets": _("dataset"),
            "forms": _("form"),
            "approval_flows": _("approval flow"),
            "targets": _("target set"),
            "schedules": _("schedule"),
            "employee_attributes": _("employee attribute"),
        },
        "policy_names": {
            "zero": _("zero: 0 points"),
            "exclude": _("exclude: weights re-normalised"),
            "fail": _("fail: no total"),
        },
    }


def currency_name(code: str) -> str:
    """A currency as the reader calls it (CNY: 人民币, Chinese Yuan); a code Babel does not know, as it is."""
    return get_currency_name(code, locale=get_locale()) or code


def money_unit(code: str) -> str:
    """What amounts in a currency are counted in, said next to them: yuan (元) for CNY."""
    return _("yuan") if code == "CNY" else currency_name(code)


def template_choices(session: Session, config: dict, reach: Reach) -> dict[str, Any]:
    """What the template pages offer to choose from; a manager only their own departments."""
    departments = department_tree(session)
    if not reach.everything:
        departments = [d for d in departments if d.code in reach.codes]
        top = min((d.depth for d in departments), default=0)  # the manager's own department at the left
        departments = [DepartmentNode(d.id, d.code, d.label, d.parent_id, d.depth - top) for d in departments]
    kpis = config.get("kpis", {})
    return {
        "departments": departments,
        "roles": session.execute(sa.select(Role.code, Role.label).order_by(Role.code)).all(),
        "kpis": [(slug, kpis[slug].get("label")) for slug in sorted(kpis)],
        "forms": [(slug, form.get("label")) for slug, form in sorted(config.get("forms", {}).items())],
        "flows": [(slug, flow.get("label")) for slug, flow in sorted(config.get("approval_flows", {}).items())],
        "cycles": CYCLES,
        "policies": MISSING_POLICIES,
        **code_names(),
    }


def latest_snapshot(session: Session) -> tuple[int | None, dict]:
    latest = latest_version(session)
    return (latest.number, latest.snapshot) if latest else (None, {})
