"""Database access: engine set-up, the declarative base and migrations."""

from .base import Base, JSONType
from .engine import make_engine, make_sessionmaker, writer

__all__ = ["Base", "JSONType", "make_engine", "make_sessionmaker", "writer"]
