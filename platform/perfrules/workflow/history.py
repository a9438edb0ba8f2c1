"""A review's history: every action on it, in order, with who acted and for whom."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from ..org.models import User
from .models import ReviewAction


def review_history(session: Session, review_id: int) -> list[tuple[ReviewAction, str | None, str | None]]:
    """(action, the acting user's login — None for a rerun —, the login acted for) rows, oldest first."""
    acting, behalf = aliased(User), aliased(User)
    return [
        (action, acting_login, behalf_login)
        for action, acting_login, behalf_login in session.execute(
            sa.select(ReviewAction, acting.login, behalf.login)
            .outerjoin(acting, acting.id == ReviewAction.user_id)
            .outerjoin(behalf, behalf.id == ReviewAction.on_behalf_of)
            .where(ReviewAction.review_id == review_id)
            .order_by(ReviewAction.id)
        )
    ]
