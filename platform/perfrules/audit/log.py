"""Audit rows. The table refuses UPDATE and DELETE at the database level (triggers in the
migration), so not even a bug or a hand-written SQL statement can rewrite history."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from ..db.base import Base, BigIntKey, JSONType


class AuditEntry(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True), index=True)
    actor: Mapped[str] = mapped_column(sa.String(64))
    action: Mapped[str] = mapped_column(sa.String(32))
    kind: Mapped[str] = mapped_column(sa.String(32))
    key: Mapped[str] = mapped_column(sa.String(128))
    before: Mapped[dict | None] = mapped_column(JSONType)
    after: Mapped[dict | None] = mapped_column(JSONType)


def record_change(
    session: Session,
    *,
    actor: str,
    action: str,
    kind: str,
    key: str,
    before: dict | None = None,
    after: dict | None = None,
) -> None:
    session.add(
        AuditEntry(
            at=dt.datetime.now(dt.UTC), actor=actor, action=action, kind=kind, key=key, before=before, after=after
        )
    )
