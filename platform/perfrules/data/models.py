"""Records of every dataset live in one table: typed columns for what every record has,
JSON for the admin-defined fields (DESIGN.md §4.4), so a new field needs no migration."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..db.base import Base, BigIntKey, JSONType


class Record(Base):
    __tablename__ = "records"
    __table_args__ = (
        sa.UniqueConstraint("dataset", "external_id"),
        # metrics aggregate one dataset over a date window, grouped by owner, in one query
        sa.Index("ix_records_dataset_occurred_on", "dataset", "occurred_on"),
    )

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True)
    dataset: Mapped[str] = mapped_column(sa.String(64))
    external_id: Mapped[str] = mapped_column(sa.String(128))
    owner_id: Mapped[int] = mapped_column(sa.ForeignKey("employees.id"))
    occurred_on: Mapped[dt.date] = mapped_column(sa.Date)
    values: Mapped[dict] = mapped_column(JSONType)
    updated_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True), server_default=sa.func.now())
