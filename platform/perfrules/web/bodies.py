"""How large a request's body may be, decided before anything reads it.

An anonymous visitor may only sign in or choose a language, so their bodies are tiny; signed-in
pages post forms (the console's document editor is the largest); each API operation states its
own limit when it authenticates (`token_required(max_body=…)`), sized to its use. A body declared
larger is refused at once with 413; one sent without a length (chunked) is cut off when it passes
the limit, as Werkzeug reads it."""

from __future__ import annotations

from flask import Flask, request
from flask_login import current_user
from werkzeug.exceptions import RequestEntityTooLarge

KiB = 2**10
MiB = 2**20

#: the sign-in form and the language choice
ANONYMOUS_BODY = 16 * KiB
#: a page's form: the console's document editor holds a whole configuration document
PAGE_BODY = 8 * MiB
#: an API operation that states no other limit: a review action, a dispute, a formula to check
API_BODY = 256 * KiB
#: one configuration document, sent to be saved, published or previewed
DOCUMENT_BODY = 4 * MiB
#: the largest body of any request; the API's bulk upsert and a target set ask for this much
LARGEST_BODY = 16 * MiB


def words(limit: int) -> str:
    return f"{limit // MiB} MiB" if limit >= MiB else f"{limit // KiB} KiB"


def limit_body(limit: int) -> None:
    """Refuse the request's body if it is declared over `limit` bytes, and stop reading one that
    turns out longer."""
    request.max_content_length = limit
    if request.content_length is not None and request.content_length > limit:
        raise RequestEntityTooLarge(f"The request's body is over {words(limit)}.")


def init_app(app: Flask) -> None:
    """Registered before the CSRF check, which reads a page's form."""
    app.config["MAX_CONTENT_LENGTH"] = LARGEST_BODY

    @app.before_request
    def _limit_page_bodies():
        # API operations set their own limit once they know who asks; an anonymous API call is
        # answered 401 before its body is read
        if not request.path.startswith("/api/"):
            limit_body(PAGE_BODY if current_user.is_authenticated else ANONYMOUS_BODY)
