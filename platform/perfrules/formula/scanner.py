"""Text-level checks made before a formula is parsed: size, characters, tokens, brackets.

The parser is never handed anything longer than the length cap or with unbalanced brackets, and
common slips (`=` for `==`, `;`, `%`, full-width punctuation typed with a Chinese input method)
get an error in plain words at the exact place.
"""

from __future__ import annotations

import ast
import io
import keyword
import re
import tokenize
import unicodedata
from dataclasses import dataclass
from typing import TypeAlias, cast

from .errors import FormulaError


@dataclass(frozen=True)
class Limits:
    max_length: int = 2000
    max_nodes: int = 1000
    #: depth of the checked tree; a flat sum of n terms is n deep, so this is generous
    max_depth: int = 200
    max_brackets: int = 50
    max_string: int = 100
    max_number_digits: int = 40
    max_list_items: int = 100


DEFAULT_LIMITS = Limits()

# The text is parsed inside "(\n … \n)" so that it may span lines freely; its first line is
# line 2 of what the tokenizer and parser see.
_PREFIX = "(\n"
_SUFFIX = "\n)"

_ALLOWED_KEYWORDS = {"and", "or", "not", "if", "else", "in", "True", "False", "None"}
_OPERATOR_MESSAGES = {
    ";": "only one expression is allowed: ';' starts a second one",
    "=": "'=' assigns a value; to compare two values use '=='",
    ":=": "':=' (assignment) is not allowed in formulas",
    "%": "'%' is not allowed in formulas",
    "**": "'**' (power) is not allowed in formulas; multiply instead",
    "//": "'//' is not allowed in formulas; use FLOOR(a / b)",
    ":": "':' is not allowed in formulas",
    "{": "'{' is not allowed in formulas; list values in parentheses: x in ('a', 'b')",
    "}": "'}' is not allowed in formulas",
    "->": "'->' is not allowed in formulas",
    "...": "'...' is not allowed in formulas",
}
_ALLOWED_OPERATORS = {"+", "-", "*", "/", "<", "<=", ">", ">=", "==", "!=", "(", ")", "[", "]", ",", "."}
_CLOSING = {")": "(", "]": "["}
_QUOTE_LOOKALIKES = "‘’‚‛“”„‟＇＂「」『』"
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
#: control, format (zero-width, bidirectional), surrogate and private-use characters
_INVISIBLE = {"Cc", "Cf", "Cs", "Co"}

#: the kinds of node in an expression's parse tree that have a position in the text
Positioned: TypeAlias = ast.expr | ast.keyword | ast.arg


class Source:
    """The formula text and the mapping from parser positions back to it."""

    def __init__(self, text: str):
        self.text = text
        # One kind of line break for the tokenizer and parser, keeping every character's offset.
        plain = text.replace("\r\n", " \n").replace("\r", "\n")
        self.wrapped = _PREFIX + plain + _SUFFIX
        # lines as Python's tokenizer sees them: \r\n, \r and \n all end a line
        self.lines: list[str] = []
        self._line_starts: list[int] = []
        start = 0
        for match in _LINE_BREAK.finditer(text):
            self.lines.append(text[start : match.start()])
            self._line_starts.append(start)
            start = match.end()
        self.lines.append(text[start:])
        self._line_starts.append(start)

    def offset(self, lineno: int, column: int, in_bytes: bool = False) -> int:
        """Character offset into the text of a (line, column) of the wrapped text."""
        index = lineno - 2
        if index < 0:
            return 0
        if index >= len(self.lines):
            return len(self.text)
        line = self.lines[index]
        if in_bytes:
            column = len(line.encode("utf-8")[:column].decode("utf-8", errors="ignore"))
        return self._line_starts[index] + min(column, len(line))

    def span(self, node: Positioned) -> tuple[int, int]:
        """Character span of an ast node."""
        start = self.offset(node.lineno, node.col_offset, in_bytes=True)
        # typeshed allows None for the end, but ast.parse sets it on every node it makes
        end = self.offset(cast(int, node.end_lineno), cast(int, node.end_col_offset), in_bytes=True)
        return start, max(end, start + 1)

    def error(self, message: str, start: int, end: int | None = None) -> FormulaError:
        return FormulaError(message, self.text, start, end)

    def excerpt(self, span: tuple[int, int]) -> str:
        return " ".join(self.text[span[0] : span[1]].split())


def _character_message(char: str) -> str:
    if char in _QUOTE_LOOKALIKES:
        return f"'{char}' is a typographic quote; write text in straight quotes: 'won'"
    plain = unicodedata.normalize("NFKC", char)
    if plain != char and plain.isascii() and plain.strip():
        return f"'{char}' is a full-width character — did you mean '{plain}'?"
    if char in "'\"":
        return "this text is missing its closing quote"
    return f"the character '{char}' is not allowed in formulas"


def scan(source: Source, limits: Limits) -> None:
    """Raise FormulaError for the first token-level problem in the text."""
    text = source.text
    if len(text) > limits.max_length:
        raise source.error(
            f"the formula is too long ({len(text)} characters; the limit is {limits.max_length})",
            limits.max_length,
            len(text),
        )
    if not text.strip():
        raise source.error("the formula is empty", 0, len(text))
    for position, char in enumerate(text):
        if char in "\t\n\r":
            continue
        if unicodedata.category(char) in _INVISIBLE:
            raise source.error(f"the invisible character U+{ord(char):04X} is not allowed in formulas", position)
        if char == "\\":
            raise source.error("backslashes are not allowed in formulas", position)

    brackets: list[tuple[str, int]] = []
    previous: tokenize.TokenInfo | None = None
    count = 0
    tokens = tokenize.generate_tokens(io.StringIO(source.wrapped).readline)
    try:
        for token in tokens:
            kind, string = token.type, token.string
            start = source.offset(*token.start)
            end = source.offset(*token.end)
            if token.start[0] < 2 or token.start[0] >= len(source.lines) + 2:
                continue  # the wrapper's own brackets
            count += 1
            if count > limits.max_nodes:
                raise source.error(f"the formula has too many parts (more than {limits.max_nodes})", start, end)
            if kind == tokenize.OP:
                if string == "=" and brackets and previous is not None and previous.type == tokenize.NAME:
                    raise source.error(
                        "named arguments are not allowed; pass arguments in order: ROUND(x, 2)", start, end
                    )
                _check_operator(source, string, start, end, brackets, limits)
            elif kind == tokenize.NAME:
                _check_name(source, string, start, end)
            elif kind == tokenize.NUMBER:
                _check_number(source, string, start, end, limits)
            elif kind == tokenize.STRING:
                _check_string(source, string, start, end, limits)
            elif kind == tokenize.COMMENT:
                raise source.error("comments (#) are not allowed in formulas", start, end)
            elif kind == tokenize.ERRORTOKEN and string.strip():
                raise source.error(_character_message(string[0]), start, start + 1)
            if kind not in (tokenize.NL, tokenize.NEWLINE):
                previous = token
    except (tokenize.TokenError, SyntaxError):
        if brackets:
            opener, position = brackets[-1]
            raise source.error(f"'{opener}' is never closed", position) from None
        raise source.error("the formula is not complete", len(text)) from None
    if brackets:
        opener, position = brackets[-1]
        raise source.error(f"'{opener}' is never closed", position)


def _check_operator(
    source: Source, op: str, start: int, end: int, brackets: list[tuple[str, int]], limits: Limits
) -> None:
    if op in _OPERATOR_MESSAGES:
        raise source.error(_OPERATOR_MESSAGES[op], start, end)
    if op not in _ALLOWED_OPERATORS:
        if op.endswith("=") and op not in ("==", "!=", "<=", ">="):
            raise source.error(f"'{op}' assigns a value; formulas only compute one", start, end)
        raise source.error(f"'{op}' is not allowed in formulas", start, end)
    if op in "([":
        brackets.append((op, start))
        if len(brackets) > limits.max_brackets:
            raise source.error(f"brackets are nested too deeply (more than {limits.max_brackets})", start, end)
    elif op in _CLOSING:
        if not brackets or brackets[-1][0] != _CLOSING[op]:
            raise source.error(f"unmatched '{op}'", start, end)
        brackets.pop()


def _check_name(source: Source, name: str, start: int, end: int) -> None:
    if keyword.iskeyword(name) and name not in _ALLOWED_KEYWORDS:
        if name == "lambda":
            message = "lambda functions are not allowed in formulas"
        elif name in ("for", "async", "await"):
            message = "loops and comprehensions are not allowed in formulas"
        elif name == "is":
            message = "'is' is not allowed; use == None or != None to test for a missing value"
        else:
            message = f"'{name}' is not allowed in formulas"
        raise source.error(message, start, end)
    if "__" in unicodedata.normalize("NFKC", name) or name.startswith("_"):
        raise source.error(f"names may not start with '_' or contain '__': '{name}'", start, end)


def _check_number(source: Source, number: str, start: int, end: int, limits: Limits) -> None:
    lowered = number.lower()
    if lowered.endswith("j"):
        raise source.error("imaginary numbers are not allowed in formulas", start, end)
    if lowered.startswith(("0x", "0o", "0b")):
        raise source.error("write numbers in decimal", start, end)
    if len(number) > limits.max_number_digits:
        raise source.error(
            f"this number is too long ({len(number)} characters; the limit is {limits.max_number_digits})", start, end
        )


def _check_string(source: Source, literal: str, start: int, end: int, limits: Limits) -> None:
    quote_at = min(i for i in (literal.find("'"), literal.find('"')) if i >= 0)
    if quote_at:
        raise source.error(
            f"'{literal[:quote_at]}' before a quote is not allowed; write plain text in quotes: 'won'", start, end
        )
    body = literal[3:-3] if literal[:3] in ("'''", '"""') else literal[1:-1]
    if len(body) > limits.max_string:
        raise source.error(
            f"this text is too long ({len(body)} characters; the limit is {limits.max_string})", start, end
        )
