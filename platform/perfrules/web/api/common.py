"""What the API's resources share: answering with an HTTP error, the security requirement and the
role refusal they document, the converter of ids in addresses, the period validator, the
timestamp field they answer with, committing a workflow change (a refusal answers 409 or 422),
and paging a query."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import NoReturn

import sqlalchemy as sa
from flask_smorest import abort as smorest_abort
from marshmallow import ValidationError, fields
from sqlalchemy.orm import Session

from ...engine.periods import PeriodError, period_from_text
from ...notify import utc
from ...workflow.forms import FormError
from ...workflow.steps import WorkflowError

#: flask-smorest's `abort`: raises the HTTP error, its `message` and `errors` in the JSON body.
#: flask-smorest has no type hints; this tells the type checker that it never returns.
abort: Callable[..., NoReturn] = smorest_abort

#: the security requirement every endpoint documents: the bearer token scheme `init_api` declares
SECURITY: list[dict[str, list[str]]] = [{"token": []}]


def only_for(*roles: str) -> str:
    """The description of the 403 that an operation open to `roles` answers anyone else."""
    return f"Only for {', '.join(roles)}"


def valid_period(text: str) -> None:
    """A period argument's validator (2026-10, 2026-Q4, 2026-H2, 2026, last-month …): a 422 at
    the argument's path when it is not one."""
    try:
        period_from_text(text)
    except PeriodError as exc:
        raise ValidationError(str(exc)) from None


class Timestamp(fields.DateTime):
    """A stored moment, in ISO 8601 with its UTC offset: SQLite gives times back without a zone,
    and a time without an offset is not the `date-time` the document promises."""

    def _serialize(self, value, attr, obj, **kwargs):
        return super()._serialize(None if value is None else utc(value), attr, obj, **kwargs)


@contextmanager
def committed(session: Session) -> Iterator[None]:
    """Commit what the block changes in the workflow; a refusal rolls it all back and answers 409
    with the reason, or 422 naming each field for answers that do not fit a form."""
    try:
        yield
    except FormError as exc:
        session.rollback()
        abort(422, message=str(exc), errors={"json": {"values": exc.errors}})
    except WorkflowError as exc:
        session.rollback()
        abort(409, message=str(exc))
    session.commit()


def page_start(pagination) -> int:
    """The OFFSET of the page that `@blp.paginate()`'s parameters ask for, once their item_count
    is set: past the last row, the page is empty whatever its number, and a page number as large
    as the client likes would reach the database as an OFFSET it cannot take (SQLite raises
    OverflowError past 2**63, PostgreSQL past its bigint)."""
    return min(pagination.first_item, pagination.item_count)


def one_page(session: Session, query, pagination):
    """The page of `query` that `@blp.paginate()`'s parameters ask for, after counting every row
    it matches for the pagination header."""
    pagination.item_count = session.scalar(sa.select(sa.func.count()).select_from(query.order_by(None).subquery()))
    return session.execute(query.offset(page_start(pagination)).limit(pagination.page_size))
