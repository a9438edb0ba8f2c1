"""The Chinese catalogue covers every piece of user-visible text, and what is compiled is what is
written (so nobody ships an English page to a Chinese user by forgetting `make translations`)."""

from __future__ import annotations

import io
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
CATALOG = ROOT / "platform" / "perfrules" / "web" / "translations" / "zh" / "LC_MESSAGES"
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None}


def _entries(messages) -> dict:
    """{msgid: translation}; a plural entry by its singular, translated when every form is."""
    entries = {}
    for message in messages:
        if not message.id:
            continue
        key = message.id[0] if isinstance(message.id, (tuple, list)) else message.id
        text = message.string
        entries[key] = (all(text) and tuple(text)) if isinstance(text, (tuple, list)) else text
    return entries


def written() -> dict:
    with open(CATALOG / "messages.po", "rb") as file:
        return _entries(read_po(file))


def used() -> set:
    found = set()
    for folder, method in (("platform", "python"), ("templates", "jinja2")):
        pattern = "**.py" if method == "python" else "**.html"
        for _, _, message, _, _ in extract_from_dir(ROOT / folder, method_map=[(pattern, method)], keywords=KEYWORDS):
            found.add(message if isinstance(message, str) else message[0])
    return found


def test_every_text_the_console_shows_has_a_chinese_translation():
    catalogue = written()
    missing = sorted(used() - set(catalogue))
    assert not missing, f"not in the catalogue (run `make translations`): {missing}"
    untranslated = sorted(message_id for message_id, text in catalogue.items() if not text)
    assert not untranslated, f"no Chinese yet: {untranslated}"


def test_the_compiled_catalogue_is_the_written_one():
    with open(CATALOG / "messages.mo", "rb") as file:
        compiled = _entries(read_mo(io.BufferedReader(file)))
    assert compiled == written(), "run `make translations` to compile the catalogue"
