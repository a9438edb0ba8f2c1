"""What the what-if and awards pages share: the people the user may see (one looked up by the code
a form names, or a few found by letters of their code or name, for the person fields), the
published plans' labels and currencies, and a difference written with its sign."""

from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa
from flask import g, jsonify, request
from sqlalchemy.orm import Session

from ...config.versions import resolve
from ...org.access import visibility
from ...org.models import Employee
from ...pay.awards import who as person_behind
from ...problems import ConfigError
from ..auth import login_required
from ..db import get_session
from ..i18n import label
from .blueprint import bp, money

#: a search needs this many letters, and finds at most this many people: no page lists everyone
MIN_SEARCH = 2
MAX_FOUND = 10


def visible_person(session: Session, code: str) -> Employee | None:
    """The employee with `code` when the user may see them; None for anyone else and for nobody
    (the same answer, so that codes cannot be probed)."""
    if not code:
        return None
    person = session.scalar(sa.select(Employee).where(Employee.code == code[:64]))
    if person is None or not visibility(g.user).allows(session, person.department_id, person.id):
        return None
    return person


def visible_codes(session: Session, codes: set[str]) -> dict[str, str]:
    """code → name of those of `codes` the user may see."""
    if not codes:
        return {}
    seen = visibility(g.user).condition(Employee.department_id, Employee.id)
    return dict(session.execute(sa.select(Employee.code, Employee.name).where(Employee.code.in_(codes), seen)).all())


@bp.route("/people")
@login_required()
def people():
    """The few people the user may see whose code starts with, or whose name holds, what is typed
    (for people-search.js, which offers each `login` — here an employee's code)."""
    words = (request.args.get("q") or "").strip()[:64]
    if len(words) < MIN_SEARCH:
        return jsonify(people=[])
    pattern = words.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    found = get_session().execute(
        sa.select(Employee.code, Employee.name)
        .where(
            visibility(g.user).condition(Employee.department_id, Employee.id),
            sa.or_(Employee.code.like(f"{pattern}%", escape="\\"), Employee.name.like(f"%{pattern}%", escape="\\")),
        )
        .order_by(Employee.code)
        .limit(MAX_FOUND)
    )
    return jsonify(people=[{"login": code, "name": f"{name} · {code}"} for code, name in found])


def published(session: Session, reference: str = "latest") -> dict:
    """The configuration `reference` names ({} when there is none yet)."""
    try:
        return resolve(session, reference).config
    except ConfigError:
        return {}


def plan_of(configs: list[dict], plan: str) -> dict:
    """The plan in the first of `configs` that has it."""
    return next((found for config in configs if (found := config.get("plans", {}).get(plan))), {})


def labels(configs: list[dict], plan: str, component: str | None) -> tuple[str, str]:
    """A plan's and a component's labels in the reader's language, as the statement shows them;
    the component's is empty for a line of the plan itself (a draw)."""
    document = plan_of(configs, plan)
    found: dict = next((c for c in document.get("components", []) if c.get("slug") == component), {})
    return label(document.get("label")) or plan, (label(found.get("label")) or component) if component else ""


def currency_of(configs: list[dict], plan: str) -> str:
    return plan_of(configs, plan).get("currency") or "CNY"


def signed(amount: Decimal) -> str:
    """A difference: +2,500.00, −500.00, 0.00."""
    text = money(amount)
    return f"+{text}" if amount > 0 else text


def who(actor: str | None) -> str:
    """Who did something, as the audit names them without the door they came in by ("web:hr1",
    "api:hr1", "hr1" are all hr1)."""
    return person_behind(actor) if actor else ""
