"""The scorecards a user may see, as every scorecard page reads them: the condition on their
queries (`org.access.visibility`), the one scorecard a page opens (`workflow.reading`), the
periods, the templates' labels and the grades in the order of their bands."""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from flask import g

from ...engine.explain import RuleBook, label_text
from ...engine.models import Scorecard
from ...org.access import visibility
from ...org.models import Department
from ...workflow.reading import may_read_scorecard
from ..db import get_session
from ..i18n import label_language
from .periods import period_key

#: the colour of each grade in charts, in the order of the grades' bands
GRADE_COLOURS = ["#1a7f37", "#2f6fb0", "#5b9bd5", "#d4a72c", "#c2410c", "#8b1e3f"]


def visible_condition() -> sa.ColumnElement[bool]:
    """The scorecards the signed-in user sees, as a condition on a query of Scorecard."""
    return visibility(g.user).condition(Scorecard.department_id, Scorecard.employee_id, Scorecard.reporting_line)


def readable_card_row(query):
    """The scorecard row the query finds, if the user may read it: within what they see, or
    because its review or one of its disputes opens it to them (`workflow.reading`, the rule the
    API follows too)."""
    session = get_session()
    row = session.execute(query.add_columns(Department.label)).first()
    card = None if row is None else row[0]
    if card is None or not may_read_scorecard(
        session, g.user, card.period, card.employee_id, card.department_id, card.reporting_line
    ):
        return None
    return row


def visible_periods() -> list[str]:
    """The periods of the scorecards the user sees, latest first."""
    return sorted(
        get_session().scalars(sa.select(Scorecard.period).distinct().where(visible_condition())),
        key=period_key,
        reverse=True,
    )


def template_labels(period: str, condition: sa.ColumnElement[bool]) -> dict[str, str]:
    """Template slug → label in the user's language, from the versions the period was scored by."""
    session = get_session()
    rules, language = RuleBook(session), label_language()
    labels: dict[str, str] = {}
    for slug, version in session.execute(
        sa.select(Scorecard.template, Scorecard.version_number)
        .distinct()
        .where(Scorecard.period == period, condition)
        .order_by(Scorecard.version_number.desc())
    ):
        labels.setdefault(slug, label_text(rules(version, slug).label, language) or slug)
    return dict(sorted(labels.items()))


def grade_order(period: str, condition: sa.ColumnElement[bool], found: Iterable[str]) -> list[str]:
    """The grades in the order of their bands (highest first), as the period's templates list them;
    grades no template lists (an older version's) go last."""
    session = get_session()
    rules = RuleBook(session)
    order: dict[str, float] = {}
    for slug, version in session.execute(
        sa.select(Scorecard.template, Scorecard.version_number).distinct().where(Scorecard.period == period, condition)
    ):
        for band in rules(version, slug).grades:
            order[band["grade"]] = max(order.get(band["grade"], float("-inf")), band.get("min", 0))
    grades = sorted(order, key=lambda grade: -order[grade])
    return grades + sorted(set(found) - set(grades))
