"""Formula errors that point at the offending part of the text, as a compiler would."""

from __future__ import annotations

import unicodedata
from typing import TypedDict


class FormulaErrorDict(TypedDict):
    """What `FormulaError.to_dict` gives: offsets are characters; line and column are 1-based."""

    message: str
    start: int
    end: int
    line: int
    column: int
    excerpt: str


def _display_width(text: str) -> int:
    """Terminal columns taken by text: CJK and full-width characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


class FormulaError(ValueError):
    """A formula that cannot be accepted, with the span of text it is about.

    `start` and `end` are character offsets into `text` (end exclusive). The string form is the
    message followed by the offending line with carets under the span.
    """

    def __init__(self, message: str, text: str = "", start: int = 0, end: int | None = None):
        super().__init__(message)
        self.message = message
        self.text = text
        self.start = max(0, min(start, len(text)))
        self.end = max(self.start + 1, min(len(text), end if end is not None else self.start + 1))

    @property
    def line(self) -> int:
        """1-based line of the start of the span."""
        return self.text.count("\n", 0, self.start) + 1

    @property
    def column(self) -> int:
        """1-based column (in characters) of the start of the span."""
        return self.start - (self.text.rfind("\n", 0, self.start) + 1) + 1

    def excerpt(self, width: int = 72) -> str:
        """The line holding the error with carets under the offending span.

        A line longer than `width` is cut to a window around the span, marked with '…'.
        """
        if not self.text:
            return ""
        line_start = self.text.rfind("\n", 0, self.start) + 1
        line_end = self.text.find("\n", self.start)
        if line_end == -1:
            line_end = len(self.text)
        caret_from = self.start - line_start
        caret_to = max(caret_from + 1, min(self.end, line_end) - line_start)
        line = self.text[line_start:line_end]
        if len(line) > width:
            window_from = max(0, min(caret_from - width // 3, len(line) - width))
            window_to = window_from + width
            head = "…" if window_from else ""
            tail = "…" if window_to < len(line) else ""
            line = head + line[window_from:window_to] + tail
            caret_from = caret_from - window_from + len(head)
            caret_to = min(caret_to - window_from, width) + len(head)
        pad = _display_width(line[:caret_from])
        carets = max(1, _display_width(line[caret_from:caret_to]))
        return f"{line}\n{' ' * pad}{'^' * carets}"

    def to_dict(self) -> FormulaErrorDict:
        """A JSON-ready description, for the API and the formula editor."""
        return {
            "message": self.message,
            "start": self.start,
            "end": self.end,
            "line": self.line,
            "column": self.column,
            "excerpt": self.excerpt(),
        }

    def __str__(self) -> str:
        excerpt = self.excerpt()
        if not excerpt:
            return self.message
        where = f"line {self.line}, column {self.column}"
        indented = "\n".join("    " + part for part in excerpt.split("\n"))
        return f"{self.message} (at {where})\n{indented}"
