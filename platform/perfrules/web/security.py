"""Protections every response gets: CSRF checks on every form and browser write (Flask-WTF's
CSRFProtect, app-wide), a content security policy whose scripts need a per-response nonce, and
the usual hardening headers. Requests authenticated by an API token carry no cookie to forge, so
API calls with a token are not asked for a CSRF token; neither is an API call with no
credentials at all, which gets its 401. Pages always are, whatever headers come with them."""

from __future__ import annotations

import secrets

from flask import Flask, g, request
from flask_login import current_user
from flask_wtf.csrf import CSRFProtect

from .auth import bearer_token

csrf = CSRFProtect()


def csp_nonce() -> str:
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


def init_app(app: Flask) -> None:
    app.config.setdefault("WTF_CSRF_CHECK_DEFAULT", False)  # checked below, unless a token is sent
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)  # valid as long as the session
    # Flask defines these keys already (SameSite as None): a setdefault would never apply
    if app.config.get("SESSION_COOKIE_SAMESITE") is None:
        app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    base_url = app.config["PERFRULES_SETTINGS"].base_url or ""
    if base_url.startswith("https://"):  # served over HTTPS: the cookie never travels in the clear
        app.config["SESSION_COOKIE_SECURE"] = True
    csrf.init_app(app)
    app.jinja_env.globals["csp_nonce"] = csp_nonce

    @app.before_request
    def _check_csrf():
        # Pages always check. API endpoints authenticate a request that carries a bearer token by
        # the token alone, never by its cookies, so such a request has nothing to forge; an API
        # call with neither is refused as 401 by the endpoint itself.
        if not request.path.startswith("/api/") or (bearer_token() is None and current_user.is_authenticated):
            csrf.protect()

    @app.after_request
    def _headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        response.headers.setdefault(
            "Content-Security-Policy",
            (
                "default-src 'self'; "
                f"script-src 'self' 'nonce-{csp_nonce()}'; "
                # Flask-Admin's and Swagger UI's widgets set style attributes; styles cannot run code
                "style-src 'self' 'unsafe-inline'; "
                "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
                "object-src 'none'; base-uri 'self'; frame-ancestors 'none'; form-action 'self'"
            ),
        )
        if response.mimetype == "text/html":
            response.headers.setdefault("Cache-Control", "no-store")
        return response
