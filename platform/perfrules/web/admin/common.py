"""What the console's views share: who is acting, the formula functions, and problems
(ConfigError) shown with their path, line and message."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from flask_login import current_user

from ...plugins import load_plugins
from ...problems import ConfigError, Problem


def functions():
    """The formula functions of the enabled plugins, loaded once per app."""
    registry = current_app.extensions.get("perfrules.functions")
    if registry is None:
        registry = current_app.extensions["perfrules.functions"] = load_plugins().functions
    return registry


def actor() -> str:
    """The name written in the audit log for changes made in the console."""
    return current_user.login


def run_actor() -> str:
    """Who started a run, as the run records it (`api:…` for the API, `scheduler`, `cli:…`)."""
    return f"console:{current_user.login}"


@dataclass(frozen=True)
class ProblemRow:
    path: str
    line: int | None
    message: str
    source: str | None = None  # the line of the edited text the problem points at

    @property
    def headline(self) -> str:
        return self.message.split("\n", 1)[0]

    @property
    def detail(self) -> str:
        """The rest of a formula error: the formula with a caret under the place."""
        return self.message.split("\n", 1)[1] if "\n" in self.message else ""


def problem_rows(
    problems: list[Problem], text: str | None = None, rename: tuple[str, str] | None = None
) -> list[ProblemRow]:
    """Problems as the page lists them. `rename` = (prefix, shown): the edited document's own
    path prefix (`kpis[0]`) shown by its name (`kpis.sales_attainment`); `text` the edited YAML,
    to quote the line a problem is on."""
    lines = text.splitlines() if text else []
    rows = []
    for problem in problems:
        path = problem.path
        if rename and (path == rename[0] or path.startswith((rename[0] + ".", rename[0] + "["))):
            path = rename[1] + path[len(rename[0]) :]
        source = lines[problem.line - 1] if problem.line and 0 < problem.line <= len(lines) else None
        rows.append(ProblemRow(path, problem.line, problem.message, source))
    return rows


def problems_of(exc: ConfigError | ValueError) -> list[Problem]:
    if isinstance(exc, ConfigError):
        return exc.problems
    return [Problem("", str(exc))]
