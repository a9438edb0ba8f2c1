"""The declarative base shared by every model, with stable constraint names for migrations."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase

#: JSON documents: JSONB on PostgreSQL (indexable, compact), JSON text on SQLite
JSONType = sa.JSON().with_variant(JSONB(), "postgresql")

#: a 64-bit key that is still SQLite's rowid alias (only INTEGER PRIMARY KEY is)
BigIntKey = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

#: the largest value an Integer column holds on every database (PostgreSQL's integer): a number
#: past it names no row, and comparing such a column with it fails in the database
LARGEST_INTEGER = 2**31 - 1

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)
