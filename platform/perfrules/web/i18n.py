"""Two languages, Chinese (zh_CN) and English, for the whole console (Flask-Babel).

The catalogue is filed under `zh`, which Babel finds for zh_CN (it spells it zh_Hans_CN). A
signed-in user's choice wins; before signing in, the choice kept in the session; then the
browser's preference; Chinese when nothing says otherwise. Labels that come from configuration
(`{zh: …, en: …}`) are shown in the same language by the `label` filter.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask, request, session
from flask_babel import Babel, get_locale
from flask_login import current_user

LANGUAGES = {"zh_CN": "中文", "en": "English"}
DEFAULT_LANGUAGE = "zh_CN"
TRANSLATIONS = Path(__file__).parent / "translations"


def select_language() -> str:
    chosen = getattr(current_user, "language", None) if current_user and current_user.is_authenticated else None
    chosen = chosen or session.get("language")
    if chosen in LANGUAGES:
        return chosen
    best = request.accept_languages.best_match(["zh_CN", "zh", "en"]) if request else None
    return "en" if best == "en" else DEFAULT_LANGUAGE


def current_language() -> str:
    """The language in force, as LANGUAGES names it (Babel spells zh_CN as zh_Hans_CN)."""
    return "en" if get_locale().language == "en" else "zh_CN"


def label_language() -> str:
    """The key of configuration labels in the current language: zh or en."""
    return "en" if current_language() == "en" else "zh"


def label(value) -> str:
    if not isinstance(value, dict):
        return "" if value is None else str(value)
    language = label_language()
    return value.get(language) or value.get("zh") or value.get("en") or ""


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS))
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LANGUAGE)
    Babel(app, locale_selector=select_language)
    app.jinja_env.filters["label"] = label
    app.jinja_env.globals["languages"] = LANGUAGES
    app.jinja_env.globals["current_language"] = current_language
