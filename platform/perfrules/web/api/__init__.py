"""The REST API (flask-smorest, OpenAPI at /api/openapi.json), one blueprint per resource."""

from __future__ import annotations

from flask import Flask
from flask_smorest import Api


def init_api(app: Flask) -> Api:
    from .datasets import blp as datasets

    api = Api(app)
    api.spec.components.security_scheme("basic", {"type": "http", "scheme": "basic"})
    api.register_blueprint(datasets)
    return api
