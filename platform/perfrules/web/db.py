"""One database session per request: deferred for reads, immediate (on SQLite) for writes."""

from __future__ import annotations

from flask import Flask, current_app, g, request
from sqlalchemy.orm import Session

_WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def get_session() -> Session:
    if "db_session" not in g:
        kind = "write" if request.method in _WRITE_METHODS else "read"
        g.db_session = current_app.extensions[f"perfrules.{kind}_sessions"]()
    return g.db_session


def _close_session(exception: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is None:
        return
    if exception is not None:
        session.rollback()
    session.close()


def init_app(app: Flask) -> None:
    app.teardown_appcontext(_close_session)
