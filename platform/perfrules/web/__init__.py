"""The web application: an app factory in the Flask tutorial's style, with blueprints."""

from __future__ import annotations

from flask import Flask

from ..db import make_engine, make_sessionmaker
from ..resources import resource_path
from ..settings import Settings

SETTING_KEYS = ("database_url", "secret_key", "instance_path")


def create_app(config: dict | None = None) -> Flask:
    """Build the app. `config` overrides the environment: database_url, secret_key,
    instance_path, and any Flask setting."""
    config = dict(config or {})
    settings = Settings.from_env(**{key: config.pop(key) for key in SETTING_KEYS if key in config})
    app = Flask(__name__, instance_path=str(settings.instance_path),
                template_folder=str(resource_path("templates")))
    app.config.update(
        SECRET_KEY=settings.secret_key,
        PERFRULES_SETTINGS=settings,
        API_TITLE="perfrules",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api",
        OPENAPI_JSON_PATH="openapi.json",
        MAX_CONTENT_LENGTH=64 * 2**20,
        JSON_AS_ASCII=False,
    )
    app.config.update(config)

    engine = make_engine(settings.database_url)
    app.extensions["perfrules.engine"] = engine
    app.extensions["perfrules.read_sessions"] = make_sessionmaker(engine)
    app.extensions["perfrules.write_sessions"] = make_sessionmaker(engine, write=True)

    from . import db, pages, runner
    from .api import init_api

    db.init_app(app)
    runner.init_app(app)
    app.register_blueprint(pages.bp)
    init_api(app)

    @app.after_request
    def _security_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Content-Security-Policy",
                                    "default-src 'self'; frame-ancestors 'none'; form-action 'self'")
        return response

    return app
