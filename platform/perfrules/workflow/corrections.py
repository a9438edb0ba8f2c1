"""Values an accepted dispute corrected (申诉更正). Such a correction stands: ratings imports,
forms and peer answers that would score the item again leave it alone.

Read by forms, feedback and disputes alike, so it depends on nothing of theirs.
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.orm import Session

from .dispute_models import Dispute

#: (period, employee id, manual item)
ValueKey = tuple[str, int, str]


def settled_items(session: Session, period: str, employee_id: int, items: list[str]) -> dict[str, int]:
    """The items among `items` whose value an accepted dispute corrected (a manual item's
    `value` correction), each with the latest such dispute's id. Such a correction stands:
    answers that would score the item again are refused."""
    if not items:
        return {}
    return {
        item: dispute_id
        for (_, _, item), dispute_id in corrected_values(
            session, [period], Dispute.employee_id == employee_id, Dispute.item.in_(list(items))
        ).items()
    }


def corrected_values(
    session: Session, periods: Iterable[str], *conditions: sa.ColumnElement[bool]
) -> dict[ValueKey, int]:
    """The (period, employee id, item) values accepted disputes of these periods corrected, each
    with the latest such dispute's id, in one query."""
    rows = session.execute(
        sa.select(Dispute.period, Dispute.employee_id, Dispute.item, Dispute.id, Dispute.correction)
        .where(Dispute.period.in_(sorted(set(periods))), Dispute.state == "accepted", *conditions)
        .order_by(Dispute.id)
    )
    return {
        (period, employee_id, item): dispute_id
        for period, employee_id, item, dispute_id, correction in rows
        if "value" in (correction or {})
    }


def correction_guard(session: Session, periods: set[str]) -> dict[ValueKey, str]:
    """Why each value of these periods may not be overwritten by a ratings import: the dispute
    whose correction stands (see `engine.manual.import_manual_values`)."""
    return {
        key: f"dispute {dispute_id} corrected {key[2]} of this employee and period, and its correction stands"
        for key, dispute_id in corrected_values(session, periods).items()
    }
