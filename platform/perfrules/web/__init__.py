"""The web application: an app factory in the Flask tutorial's style, with blueprints."""

from __future__ import annotations

import jinja2
import jinja2.bccache
from flask import Flask, current_app, render_template, request
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from ..db import make_engine, make_sessionmaker
from ..db.base import LARGEST_INTEGER
from ..resources import resource_path
from ..settings import Settings
from . import (
    auth,
    bodies,
    db,
    delegations,
    designer,
    disputes,
    feedback,
    flows,
    i18n,
    inbox,
    pages,
    pay,
    runner,
    scorecards,
    security,
    signin,
    words,
)
from .admin import init_admin
from .api import init_api
from .navigation import nav_items


class RowId(IntegerConverter):
    """`<int:…>` in every route, pages and API alike: no larger than a database's integer column
    holds, so that an id past it is simply not found (404), never a database error."""

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", LARGEST_INTEGER)
        super().__init__(url_map, *args, **kwargs)


SETTING_KEYS = ("database_url", "secret_key", "instance_path", "base_url", "proxies")


class _CompiledTemplates(jinja2.BytecodeCache):
    """Page templates compiled once per process, however many apps it builds (a test builds one
    per test; Jinja would compile every template again for each). A template whose source
    changed is compiled again: Jinja checks the source's checksum against the cached code."""

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        code = self._code.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()


COMPILED_TEMPLATES = _CompiledTemplates()


def create_app(config: dict | None = None) -> Flask:
    """Build the app. `config` overrides the environment: database_url, secret_key,
    instance_path, base_url, and any Flask setting."""
    config = dict(config or {})
    settings = Settings.from_env(**{key: config.pop(key) for key in SETTING_KEYS if key in config})
    app = Flask(__name__, instance_path=str(settings.instance_path), template_folder=str(resource_path("templates")))
    app.url_map.converters["int"] = RowId  # before any route is added
    app.config.update(
        SECRET_KEY=settings.secret_key,
        PERFRULES_SETTINGS=settings,
        API_TITLE="perfrules",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api",
        OPENAPI_JSON_PATH="openapi.json",
        JSON_AS_ASCII=False,
    )
    app.config.update(config)
    if settings.proxies:  # the client's own address and scheme, as the proxies in front report them
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.proxies, x_proto=settings.proxies)  # type: ignore[method-assign]

    engine = make_engine(settings.database_url)
    app.extensions["perfrules.engine"] = engine
    app.extensions["perfrules.read_sessions"] = make_sessionmaker(engine)
    app.extensions["perfrules.write_sessions"] = make_sessionmaker(engine, write=True)

    db.init_app(app)
    auth.init_app(app)
    bodies.init_app(app)
    security.init_app(app)
    i18n.init_app(app)
    words.init_app(app)
    runner.init_app(app)
    app.register_blueprint(signin.bp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(scorecards.bp)
    app.register_blueprint(pay.bp)
    app.register_blueprint(disputes.bp)
    app.register_blueprint(feedback.bp)
    app.register_blueprint(designer.bp)
    app.register_blueprint(flows.bp)
    app.register_blueprint(inbox.bp)
    app.register_blueprint(delegations.bp)
    init_api(app)
    init_admin(app)
    app.jinja_env.bytecode_cache = COMPILED_TEMPLATES
    app.jinja_env.globals.update(nav_items=nav_items, has_page=lambda endpoint: endpoint in current_app.view_functions)
    app.jinja_env.globals.update(unread_notifications=inbox.unread_notifications)

    @app.errorhandler(403)
    def _forbidden(error):
        return _error_page(error, 403)

    @app.errorhandler(404)
    def _not_found(error):
        return _error_page(error, 404)

    @app.errorhandler(413)
    def _too_large(error):
        return _error_page(error, 413)

    return app


def _error_page(error, status: int):
    if request.path.startswith("/api/"):
        return current_app.extensions["perfrules.api"].handle_http_exception(error)
    return render_template("error.html", status=status), status
