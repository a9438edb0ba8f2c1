"""Value types of the formula language and the catalogue of names a formula may use."""

from __future__ import annotations

import enum
import keyword
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TypeAlias


class ValueType(enum.Enum):
    NUMBER = "number"
    BOOLEAN = "boolean"
    TEXT = "text"
    #: the type of the literal None; it fits wherever a number or boolean may be missing
    NULL = "null"

    @property
    def noun(self) -> str:
        """How a business user would call a value of this type."""
        return {"number": "a number", "boolean": "a true/false condition", "text": "text", "null": "None (no value)"}[
            self.value
        ]

    @classmethod
    def parse(cls, word: str) -> ValueType:
        aliases = {
            "number": cls.NUMBER,
            "num": cls.NUMBER,
            "decimal": cls.NUMBER,
            "money": cls.NUMBER,
            "integer": cls.NUMBER,
            "int": cls.NUMBER,
            "float": cls.NUMBER,
            "boolean": cls.BOOLEAN,
            "bool": cls.BOOLEAN,
            "text": cls.TEXT,
            "string": cls.TEXT,
            "str": cls.TEXT,
            "choice": cls.TEXT,
        }
        try:
            return aliases[word.strip().lower()]
        except KeyError:
            raise ValueError(f"unknown type {word!r}: use number, boolean or text") from None


NUMBER, BOOLEAN, TEXT, NULL = ValueType.NUMBER, ValueType.BOOLEAN, ValueType.TEXT, ValueType.NULL

#: a plain value of the language, one row at a time: a number, a true/false, text, or None for missing
Value: TypeAlias = float | bool | str | None

# One or more identifier parts joined by dots; no part may start with an underscore or a digit.
_PART = r"[^\W\d_]\w*"
_NAME_RE = re.compile(rf"{_PART}(?:\.{_PART})*")
#: words that are constants of the language and so cannot name catalogue entries
RESERVED_WORDS = frozenset({"true", "false", "none", "null"})


def normalise_name(name: str) -> str:
    """Names are compared after NFKC normalisation, as Python's parser does for identifiers."""
    return unicodedata.normalize("NFKC", name)


@dataclass(frozen=True)
class NameInfo:
    name: str
    type: ValueType
    label: str | None = None
    #: the only text values the name holds (a choice field's options), or None for any
    values: tuple[str, ...] | None = None


class Catalogue:
    """The typed names a formula may reference: metrics, targets, fields, employee attributes.

    Dotted names such as ``target.sales_amount`` are single entries; the formula language never
    reads attributes of values.
    """

    def __init__(self, names: Mapping[str, ValueType | str] | Iterable[NameInfo] = ()):
        self._entries: dict[str, NameInfo] = {}
        items = names.items() if isinstance(names, Mapping) else ((i.name, i) for i in names)
        for name, spec in items:
            if isinstance(spec, NameInfo):
                self.add(spec.name, spec.type, spec.label, spec.values)
            else:
                self.add(name, spec)

    def add(
        self, name: str, type_: ValueType | str, label: str | None = None, values: Iterable[str] | None = None
    ) -> None:
        """Add a name; `values` lists the only text values it holds (text names only)."""
        if isinstance(type_, str):
            type_ = ValueType.parse(type_)
        if type_ is NULL:
            raise ValueError(f"name {name!r}: a catalogue entry needs a real type, not null")
        key = normalise_name(name)
        if key != name:
            raise ValueError(
                f"invalid name {name!r}: write it as {key!r} (full-width or compatibility "
                "characters are read as their plain forms)"
            )
        if any(keyword.iskeyword(part) for part in key.split(".")):
            raise ValueError(f"invalid name {name!r}: a Python keyword cannot be part of a name")
        if not _NAME_RE.fullmatch(key) or "__" in key or not all(part.isidentifier() for part in key.split(".")):
            raise ValueError(
                f"invalid name {name!r}: use letters, digits and single underscores, parts joined "
                "by dots, each part starting with a letter"
            )
        if any(part.lower() in RESERVED_WORDS for part in key.split(".")):
            raise ValueError(f"invalid name {name!r}: {key.split('.')[0]!r} is a reserved word")
        if key in self._entries:
            raise ValueError(f"name {name!r} is defined twice")
        listed = tuple(values) if values is not None else None
        if listed is not None and type_ is not ValueType.TEXT:
            raise ValueError(f"name {name!r}: only a text name lists its values")
        self._entries[key] = NameInfo(key, type_, label, listed)

    def get(self, name: str) -> NameInfo | None:
        return self._entries.get(normalise_name(name))

    def __contains__(self, name: str) -> bool:
        return normalise_name(name) in self._entries

    def __iter__(self) -> Iterator[NameInfo]:
        return iter(self._entries.values())

    def __len__(self) -> int:
        return len(self._entries)

    def names(self) -> list[str]:
        return list(self._entries)

    def merged(self, other: Catalogue) -> Catalogue:
        """A new catalogue with the entries of both; a name in both is an error."""
        return Catalogue([*self, *other])
