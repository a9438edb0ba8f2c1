"""What the API's resources share: answering with an HTTP error, the security requirement they
document, committing a workflow change (a refusal answers 409 or 422), and paging a query."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import NoReturn

import sqlalchemy as sa
from flask_smorest import abort as smorest_abort
from sqlalchemy.orm import Session

from ...workflow.forms import FormError
from ...workflow.steps import WorkflowError

#: flask-smorest's `abort`: raises the HTTP error, its `message` and `errors` in the JSON body.
#: flask-smorest has no type hints; this tells the type checker that it never returns.
abort: Callable[..., NoReturn] = smorest_abort

#: the security requirement every endpoint documents: the bearer token scheme `init_api` declares
SECURITY: list[dict[str, list[str]]] = [{"token": []}]


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


def one_page(session: Session, query, pagination):
    """The page of `query` that `@blp.paginate()`'s parameters ask for, after counting every row
    it matches for the pagination header."""
    pagination.item_count = session.scalar(sa.select(sa.func.count()).select_from(query.order_by(None).subquery()))
    return session.execute(query.offset(pagination.first_item).limit(pagination.page_size))
