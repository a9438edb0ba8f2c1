"""Targets (目标) from a spreadsheet: a CSV or XLSX file of target entries becomes one target set
document, applied exactly as a YAML `targets:` document is (same validation, cross-checks, audit,
all-or-nothing).

One row is one entry: `name, period, value` and its holder (`employee`, `department` or `role`),
optionally `split, weight_attribute, decimals, month_shares` (twelve numbers separated by `;` or
`|`). An empty cell means "not given". Problems name the file, the row as a person sees it (the
header is row 1) and the column, the way `perfrules data import` reports rows.

Merging (the default) puts the file's entries into the draft set: an entry with the same name,
period and holder as one already there replaces it in place, the others are added after it, and
the set's other entries stay. Replacing makes the file's entries the set's only entries.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..cells import FieldError, parse_decimal, parse_integer
from ..data.readers import EXTRA_CELLS, read_table
from ..formula import FunctionRegistry
from ..problems import ConfigError, Problem, format_path
from .sources import SourceDocument
from .store import LoadSummary, apply_documents, working_config
from .validation import normalise

REQUIRED_COLUMNS = ("name", "period", "value")
HOLDER_COLUMNS = ("employee", "department", "role")
OPTIONAL_COLUMNS = ("split", "weight_attribute", "decimals", "month_shares")
COLUMNS = (*REQUIRED_COLUMNS[:2], *HOLDER_COLUMNS, REQUIRED_COLUMNS[2], *OPTIONAL_COLUMNS)
TEXT_COLUMNS = ("name", "period", *HOLDER_COLUMNS, "split", "weight_attribute")
MONTH_SHARE_SEPARATORS = re.compile(r"[;|；]")
FORMULA_REFUSED = "spreadsheet formulas are not accepted; export values only"
#: where a problem in the set itself (not in a row) comes from: the command's options
OPTION_OF = {("slug",): "--set", ("label", "zh"): "--label-zh", ("label", "en"): "--label-en"}


def holder_key(entry: dict) -> tuple:
    """What makes two entries the same target: name, period and holder."""
    return tuple(entry.get(key) for key in ("name", "period", *HOLDER_COLUMNS))


def describe(entry: dict) -> str:
    holder = ", ".join(f"{key} {entry[key]}" for key in HOLDER_COLUMNS if entry.get(key))
    return f"{entry.get('name')} {entry.get('period')}" + (f", {holder}" if holder else "")


@dataclass
class TargetRow:
    row: int  # as a person sees it in the file: the header is row 1
    raw: dict  # the cells as read
    entry: dict  # the cells as a target entry (empty cells left out)


@dataclass
class TargetTable:
    file: str
    rows: list[TargetRow] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


@dataclass(frozen=True)
class RowProblem(Problem):
    """A problem in one row of a table: its `line` is the row, already named in its `path`."""

    def __str__(self) -> str:
        where = f"{self.file}: " if self.file else ""
        return f"{where}{self.path}: {self.message}" if self.path else f"{where}{self.message}"


def row_problem(file: str | None, row: int | None, column: str | None, message: str, value: Any = None) -> Problem:
    """`targets.csv: row 4, column 'value': 'abc' Not a valid number.` — as `perfrules data import`
    says it (the row is the problem's line too)."""
    where = f"row {row}" if row is not None else ""
    if column:
        where += f", column {column!r}" if where else f"column {column!r}"
    shown = "" if value in (None, "") or str(value) in message else f"{str(value)[:60]!r} "
    return RowProblem(where, f"{shown}{message}", file, row)


def _text(cell: Any) -> str | None:
    if cell is None:
        return None
    if isinstance(cell, float) and cell.is_integer():
        cell = int(cell)  # a code or a year typed as a number in a spreadsheet
    text = cell.strip() if isinstance(cell, str) else str(cell)
    return text or None


def _period(cell: Any) -> Any:
    if isinstance(cell, dt.datetime):
        cell = cell.date()
    if isinstance(cell, dt.date):
        # a spreadsheet turns 2026-10 typed into a cell into the date 2026-10-01
        return f"{cell:%Y-%m}" if cell.day == 1 else cell.isoformat()
    return _text(cell)


def _number(cell: Any, parse=parse_decimal) -> Any:
    """The number a cell holds (thousands separators allowed, as in data imports); a cell that is
    not one goes on as it is, for the schema to explain."""
    try:
        return parse(cell)
    except FieldError:
        return cell.strip() if isinstance(cell, str) else cell


def _month_shares(cell: Any) -> Any:
    if not isinstance(cell, str):
        return [_number(cell)]
    return [_number(part) for part in MONTH_SHARE_SEPARATORS.split(cell) if part.strip()]


def _entry(raw: dict, columns: list[str]) -> dict:
    entry = {}
    for column in columns:
        cell = raw.get(column)
        if cell is None or (isinstance(cell, str) and not cell.strip()):
            continue
        if column == "period":
            value = _period(cell)
        elif column in TEXT_COLUMNS:
            value = _text(cell)
        elif column == "value":
            value = _number(cell)
        elif column == "decimals":
            value = _number(cell, parse_integer)
        else:
            value = _month_shares(cell)
        if value is not None:
            entry[column] = value
    return entry


def read_target_table(path: Path) -> TargetTable:
    """The rows of a targets file as entries, and the problems found reading them.

    ImportRefused when the file cannot be read at all; ConfigError when its columns are wrong.
    """
    header, rows = read_table(path)
    table = TargetTable(path.name)
    missing = [column for column in REQUIRED_COLUMNS if column not in header]
    unknown = [column for column in header if column not in COLUMNS]
    problems = []
    if missing:
        problems.append(row_problem(table.file, 1, None, f"missing column(s): {', '.join(missing)}"))
    if not any(column in header for column in HOLDER_COLUMNS):
        problems.append(
            row_problem(
                table.file,
                1,
                None,
                f"needs at least one of the columns {', '.join(HOLDER_COLUMNS)} (who holds the target)",
            )
        )
    if unknown:
        problems.append(
            row_problem(
                table.file,
                1,
                None,
                f"unknown column(s): {', '.join(unknown)} (a targets file has {', '.join(COLUMNS)})",
            )
        )
    if problems:
        raise ConfigError(problems)
    seen: dict[tuple, int] = {}
    for number, raw in rows:
        problems = []
        extra = raw.get(EXTRA_CELLS)
        if extra:
            problems.append(
                row_problem(
                    table.file,
                    number,
                    None,
                    f"{len(extra)} cell(s) beyond the header's {len(header)} columns "
                    "(a number with a comma needs quotes in a CSV file)",
                )
            )
        for column in header:
            cell = raw.get(column)
            if isinstance(cell, str) and cell.strip().startswith("="):
                problems.append(row_problem(table.file, number, column, FORMULA_REFUSED, cell.strip()))
        entry = _entry(raw, header)
        key = holder_key(entry)
        if not problems and key in seen:
            problems.append(
                row_problem(table.file, number, None, f"the same target ({describe(entry)}) as row {seen[key]}")
            )
        seen.setdefault(key, number)
        if problems:
            table.problems.extend(problems)
        else:
            table.rows.append(TargetRow(number, raw, entry))
    return table


class TableDocument(SourceDocument):
    """A target set built from a table: its problems name the row and the column."""

    def __init__(self, data: dict, file: str, rows: dict[int, TargetRow]):
        lines = {("entries", index): row.row for index, row in rows.items()}
        super().__init__("targets", 0, data, file, lines)
        self.rows = rows

    def problem(self, path: tuple, message: str) -> Problem:
        if len(path) >= 2 and path[0] == "entries" and isinstance(path[1], int):
            column = path[2] if len(path) > 2 and isinstance(path[2], str) else None
            row = self.rows.get(path[1])
            if row is not None:
                return row_problem(self.file, row.row, column, message, row.raw.get(column) if column else None)
            entry = self.data["entries"][path[1]]
            return Problem(
                format_path(("targets", self.data["slug"]) + path),
                f"{message} (an entry already in the draft: {describe(entry)})",
                self.file,
            )
        option = OPTION_OF.get(tuple(path))
        if option is not None:
            return Problem(option, message, self.file)
        return Problem(format_path(("targets", self.data.get("slug")) + tuple(path)), message, self.file)


@dataclass
class TargetImportSummary:
    set: str
    rows: int = 0
    added: int = 0
    replaced: int = 0
    unchanged: int = 0
    kept: int = 0
    removed: int = 0
    load: LoadSummary = field(default_factory=LoadSummary)
    #: rows whose holder is not (yet) in the organisation: stored, but they apply to nobody
    warnings: list[Problem] = field(default_factory=list)

    def __str__(self) -> str:
        parts = [f"{self.added} added", f"{self.replaced} replaced", f"{self.unchanged} unchanged"]
        parts.append(f"{self.removed} removed" if self.removed else f"{self.kept} kept")
        return f"targets.{self.set}: {self.rows} row(s) read; entries: {', '.join(parts)}"


def target_document(
    table: TargetTable, slug: str, existing: dict | None, *, replace: bool, label: dict | None = None
) -> TableDocument:
    """The target set `slug` with the table's entries merged in (or instead of its entries)."""
    entries: list[dict] = []
    rows: dict[int, TargetRow] = {}
    from_file = {holder_key(row.entry): row for row in table.rows}
    placed = set()
    if existing and not replace:
        for entry in existing.get("entries", []):
            key = holder_key(entry)
            row = from_file.get(key)
            if row is None:
                entries.append(entry)
            elif key not in placed:
                rows[len(entries)] = row
                entries.append(row.entry)
                placed.add(key)
    for key, row in from_file.items():
        if key not in placed:
            rows[len(entries)] = row
            entries.append(row.entry)
    old_label = (existing or {}).get("label") or {}
    chosen = {
        "zh": (label or {}).get("zh") or old_label.get("zh") or slug,
        "en": (label or {}).get("en") or old_label.get("en") or slug,
    }
    return TableDocument({"slug": slug, "label": chosen, "entries": entries}, table.file, rows)


def _unknown_holders(session: Session, table: TargetTable) -> list[Problem]:
    from ..org.models import Department, Employee, Role

    known = {
        "employee": set(session.scalars(sa.select(Employee.code))),
        "department": set(session.scalars(sa.select(Department.code))),
        "role": set(session.scalars(sa.select(Role.code))),
    }
    warnings = []
    for row in table.rows:
        for column in HOLDER_COLUMNS:
            code = row.entry.get(column)
            if code is not None and code not in known[column]:
                warnings.append(
                    row_problem(
                        table.file,
                        row.row,
                        column,
                        f"no {column} '{code}' in the organisation; the target applies to nobody until there is",
                    )
                )
    return warnings


def _by_row(problem: Problem) -> tuple:
    return (problem.line is None, problem.line or 0)


def import_targets(
    session: Session,
    path: Path,
    slug: str,
    functions: FunctionRegistry,
    actor: str,
    *,
    replace: bool = False,
    label: dict | None = None,
) -> TargetImportSummary:
    """Read a targets file into the draft's target set `slug`: all of it, or nothing (ConfigError)."""
    table = read_target_table(path)
    if not table.rows and not table.problems:
        raise ConfigError([row_problem(table.file, None, None, "the file has no target rows")])
    existing = working_config(session).get("targets", {}).get(slug)
    document = target_document(table, slug, existing, replace=replace, label=label)
    try:
        load = apply_documents(session, [document], functions, actor, table.problems)
    except ConfigError as exc:
        raise ConfigError(sorted(exc.problems, key=_by_row)) from None
    stored, _ = normalise(document)
    assert stored is not None, "apply_documents took the document, so it normalises"
    summary = TargetImportSummary(slug, rows=len(table.rows), load=load)
    before = {holder_key(entry): entry for entry in (existing or {}).get("entries", [])}
    after = {holder_key(entry): entry for entry in stored["entries"]}
    for row in table.rows:
        key = holder_key(row.entry)
        if key not in before:
            summary.added += 1
        elif before[key] == after[key]:
            summary.unchanged += 1
        else:
            summary.replaced += 1
    summary.kept = sum(1 for key in before if key in after and key not in {holder_key(row.entry) for row in table.rows})
    summary.removed = sum(1 for key in before if key not in after)
    summary.warnings = _unknown_holders(session, table)
    return summary
