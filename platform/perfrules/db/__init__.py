"""Database access: engine set-up, the declarative base and migrations."""

from .base import Base, JSONType
from .engine import begin_reading, make_engine, make_sessionmaker, writer

__all__ = ["Base", "JSONType", "begin_reading", "make_engine", "make_sessionmaker", "writer"]
