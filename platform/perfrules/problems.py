"""Problems in files people write (configuration, organisation imports) that say where they are:
file, line and path inside the document."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    path: str
    message: str
    file: str | None = None
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}: " if self.file and self.line else (f"{self.file}: " if self.file else "")
        return f"{where}{self.path}: {self.message}" if self.path else f"{where}{self.message}"


class ConfigError(Exception):
    """One or more problems; nothing was changed."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(problem) for problem in problems))


def format_path(parts: tuple) -> str:
    """('templates', 2, 'sections', 0, 'weight') → 'templates[2].sections[0].weight'."""
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def flatten_messages(messages, prefix: tuple = ()) -> list[tuple[tuple, str]]:
    """marshmallow's nested error dict as (path, message) pairs."""
    flat = []
    stack = [(prefix, messages)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, dict):
            for key, inner in sorted(value.items(), key=lambda kv: str(kv[0]), reverse=True):
                stack.append((path if key == "_schema" else path + (key,), inner))
        elif isinstance(value, list):
            for inner in value:
                if isinstance(inner, (dict, list)):
                    stack.append((path, inner))
                else:
                    flat.append((path, str(inner)))
        else:
            flat.append((path, str(value)))
    return flat
