"""Each editor's way from its posted fields to a configuration document, by kind, so that the
pages shared by every editor (checking as you type, the document a preview works on) read a
form exactly as saving it does. Editors register themselves on import."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from .form_reading import Document, Form


@dataclass(frozen=True)
class Reader:
    read: Callable[[Form, str], Document]
    #: the document's keys the editor shows: the others are kept as stored
    shown: frozenset[str]


READERS: dict[str, Reader] = {}


def register(kind: str, read: Callable[[Form, str], Document], shown: Iterable[str]) -> None:
    READERS[kind] = Reader(read, frozenset(shown) | {"slug"})


def document_from_form(kind: str, form: Form, slug: str, stored: Document | None) -> Document:
    """The document an editor's fields describe, with what the editor does not show kept from
    `stored` — so saving never loses what the form cannot say."""
    reader = READERS[kind]
    document: Document = {key: value for key, value in (stored or {}).items() if key not in reader.shown}
    document.update(reader.read(form, slug))
    document["slug"] = slug
    return document
