"""What a formula error suggests: the name (or value) nearest to what was written, and the values
a name may take.

A catalogue entry may list the only text values its name ever holds (a choice field's options).
A text constant compared with such a name (`==`, `!=`, `in`, `not in`, either side) must be one
of them: `type == 'meting'` would quietly never match, so it is refused with the values and the
nearest one.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence

from . import tree as t
from .scanner import Source
from .types import Catalogue

#: how many of a name's values an error lists before it says how many there are in all
LISTED_VALUES = 12
#: how near a value must be to be suggested: lower than for names, as values are short words
#: among few ('wom' is 'won' with one letter wrong, a similarity of 0.67)
VALUE_CUTOFF = 0.6


def did_you_mean(word: str, candidates: Sequence[str], cutoff: float = 0.75) -> str:
    """' — did you mean 'x'?' for the candidate nearest to `word`, or '' when none is near
    enough (`cutoff`: difflib's similarity, 0 to 1)."""
    lowered = {c.lower(): c for c in candidates}
    if word.lower() in lowered:
        return f" — did you mean '{lowered[word.lower()]}'?"
    close = difflib.get_close_matches(word, candidates, n=1, cutoff=cutoff)
    if not close:
        close = [lowered[m] for m in difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=cutoff)]
    return f" — did you mean '{close[0]}'?" if close else ""


def _listing(values: Sequence[str]) -> str:
    shown = ", ".join(f"'{value}'" for value in values[:LISTED_VALUES])
    return shown if len(values) <= LISTED_VALUES else f"{shown}, … ({len(values)} in all)"


def _inside_quotes(source: Source, span: tuple[int, int], value: str) -> tuple[int, int]:
    """The span of a text constant's characters without its quotes, when they are written as
    they read (no escapes); else the whole constant."""
    start, end = span
    text = source.text
    if (
        end - start >= 2
        and text[start] in "'\""
        and text[end - 1] == text[start]
        and text[start + 1 : end - 1] == value
    ):
        return start + 1, end - 1
    return span


def check_listed(catalogue: Catalogue, source: Source, name: t.Node, value: t.Node) -> None:
    """Raise FormulaError if `value` is a text constant that `name`, a name whose values the
    catalogue lists, never holds."""
    if isinstance(name, t.Shared):  # the middle of a chain: 'a' == type == 'b'
        name = name.operand
    if not isinstance(name, t.Name) or not isinstance(value, t.Const) or not isinstance(value.value, str):
        return
    info = catalogue.get(name.name)
    if info is None or info.values is None or value.value in info.values:
        return
    raise source.error(
        f"{name.name} is never '{value.value}': its values are {_listing(info.values)}"
        f"{did_you_mean(value.value, info.values, cutoff=VALUE_CUTOFF)}",
        *_inside_quotes(source, value.span, value.value),
    )
