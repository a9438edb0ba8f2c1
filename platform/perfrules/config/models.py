"""Configuration tables.

The working configuration is a set of documents, one per (kind, slug), edited as a draft.
Publishing freezes the whole set into an immutable version with a content hash; evaluation runs
point at the version they used.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..db.base import Base, JSONType


class ConfigEntry(Base):
    __tablename__ = "config_entries"
    __table_args__ = (sa.UniqueConstraint("kind", "slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(32))
    slug: Mapped[str] = mapped_column(sa.String(64))
    document: Mapped[dict] = mapped_column(JSONType)
    updated_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True))
    updated_by: Mapped[str] = mapped_column(sa.String(64))


class ConfigVersion(Base):
    __tablename__ = "config_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int] = mapped_column(unique=True)
    content_hash: Mapped[str] = mapped_column(sa.String(64), index=True)
    message: Mapped[str] = mapped_column(sa.Text)
    #: {kind: {slug: document}} as published
    snapshot: Mapped[dict] = mapped_column(JSONType)
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(sa.String(64))
