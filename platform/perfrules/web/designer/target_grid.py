"""The target-set editor's grid: one row per target entry, read from the posted fields
(`e-3-value`, `e-3-m-7` for July's share), shown again as cells, pasted from a spreadsheet, and
told in plain words.

A row shows its holder as a kind (employee, department, role) and a code; a department total
split among its members may also name the role it is split among. Numbers are read as the
targets file import reads them (thousands separators allowed); a cell that is not a number goes
on as typed, for the schema to say what is wrong with it at `entries[3].value`.

A pasted block is tab-separated lines, as Excel and WPS copy them: with a header row (English or
Chinese column names, the targets file's among them: `name, period, employee, department, role,
value, …`) or without one, the columns then in the grid's order (GRID_COLUMNS).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _

from ...cells import FieldError, parse_decimal, parse_integer
from ...config.targets_table import FORMULA_REFUSED, HOLDER_COLUMNS, MONTH_SHARE_SEPARATORS
from .display import plain_number
from .form_reading import Document, Form, form_text, put_given, row_indices

#: a pasted block without a header has these columns, in this order (the grid's)
GRID_COLUMNS = (
    "name",
    "period",
    "holder_kind",
    "holder",
    "value",
    "split",
    "weight_attribute",
    "decimals",
    "month_shares",
)
MONTHS = range(1, 13)
MAX_PASTED_ROWS = 2000

#: header names a pasted block may use (compared without case, spaces, _ - : and brackets)
HEADER_NAMES = {
    "name": ("name", "metric", "kpi", "metric or kpi", "指标", "名称", "指标名称", "目标名称", "指标或kpi"),
    "period": ("period", "期间", "周期", "考核期间", "考核周期"),
    "holder_kind": ("holder kind", "held by", "kind", "持有者类型", "对象类型", "目标对象类型", "由谁承担"),
    "holder": ("holder", "code", "持有者", "对象", "目标对象", "编码", "承担者"),
    "employee": ("employee", "employee code", "员工", "员工编号", "工号"),
    "department": ("department", "department code", "部门", "部门编码", "部门代码"),
    "role": ("role", "role code", "岗位", "角色", "岗位编码"),
    "value": ("value", "target", "target value", "目标值", "目标", "值", "数值"),
    "split": ("split", "split how", "分解", "分解方式", "拆分方式", "分配方式"),
    "weight_attribute": ("weight attribute", "weights", "权重属性", "权重字段", "分解权重"),
    "split_role": ("split among role", "among role", "分解到岗位", "分解岗位"),
    "decimals": ("decimals", "小数位", "小数位数", "保留小数"),
    "month_shares": ("month shares", "monthly shares", "月度占比", "月份占比", "各月占比", "月度分配"),
}
MONTH_NAMES = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
HOLDER_KIND_WORDS = {
    "employee": ("employee", "员工", "个人"),
    "department": ("department", "部门"),
    "role": ("role", "岗位", "角色"),
}
SPLIT_WORDS = {
    "equal": ("equal", "equally", "平均", "均分", "平均分解"),
    "weights": ("weights", "by weights", "按权重", "权重"),
    "last_share": ("last_share", "last share", "by last period's share", "按上期占比", "上期占比"),
}


def _key(text: str) -> str:
    return re.sub(r"[\s_\-:：()（）*]", "", text.strip().lower())


HEADERS = {_key(alias): column for column, aliases in HEADER_NAMES.items() for alias in aliases}
for _month in MONTHS:
    for _alias in (f"{_month}月", f"m{_month}", f"month {_month}", MONTH_NAMES[_month - 1]):
        HEADERS[_key(_alias)] = f"m-{_month}"
HOLDER_KINDS = {_key(word): kind for kind, words in HOLDER_KIND_WORDS.items() for word in words}
SPLITS = {_key(word): split for split, words in SPLIT_WORDS.items() for word in words}


# --- the posted grid ----------------------------------------------------------------------------


def _number(text: str, parse=parse_decimal) -> Any:
    if not text:
        return None
    try:
        return parse(text)
    except FieldError:
        return text


def entry_from_row(form: Form, i: int) -> Document:
    """The target entry row `i` of the grid describes (empty cells left out)."""
    at = f"e-{i}-"
    entry: Document = {}
    put_given(entry, "name", form_text(form, at + "name"))
    put_given(entry, "period", form_text(form, at + "period"))
    kind = form_text(form, at + "holder_kind") or "employee"
    split = form_text(form, at + "split")
    put_given(entry, kind, form_text(form, at + "holder"))
    put_given(entry, "value", _number(form_text(form, at + "value")))
    if split:
        entry["split"] = split
        if split == "weights":
            put_given(entry, "weight_attribute", form_text(form, at + "weight_attribute"))
        if kind != "role":
            put_given(entry, "role", form_text(form, at + "split_role"))
    put_given(entry, "decimals", _number(form_text(form, at + "decimals"), parse_integer))
    shares = [form_text(form, f"{at}m-{month}") for month in MONTHS]
    if any(shares):
        entry["month_shares"] = [_number(share) if share else "" for share in shares]
    return entry


def target_set_from_form(form: Form, slug: str) -> Document:
    """The target set the editor's fields describe: every row of the grid, in its order."""
    return {
        "slug": slug,
        "label": {"zh": form_text(form, "label_zh"), "en": form_text(form, "label_en")},
        "entries": [entry_from_row(form, i) for i in row_indices(form, "e-", "-_row")],
    }


def _shown(value: Any) -> str:
    return plain_number(value) if isinstance(value, (int, float)) else ("" if value is None else str(value))


def grid_row(entry: Document) -> dict[str, Any]:
    """The cells of the grid for an entry (what the page shows, and what a paste gives back)."""
    split = entry.get("split") or ""
    kind = next((key for key in HOLDER_COLUMNS if entry.get(key)), "employee")
    if split and entry.get("department"):
        kind = "department"
    shares = entry.get("month_shares")
    return {
        "name": _shown(entry.get("name")),
        "period": _shown(entry.get("period")),
        "holder_kind": kind,
        "holder": _shown(entry.get(kind)),
        "value": _shown(entry.get("value")),
        "split": split,
        "weight_attribute": _shown(entry.get("weight_attribute")),
        "split_role": _shown(entry.get("role")) if split and kind == "department" else "",
        "decimals": _shown(entry.get("decimals")),
        "month_shares": [_shown(share) for share in shares] if isinstance(shares, list) else [],
    }


# --- a pasted block -----------------------------------------------------------------------------


@dataclass
class Lookup:
    """Codes by the words people paste: a metric's or KPI's label, a department's or role's label,
    an employee's name (when only one employee has it)."""

    names: dict[str, str] = field(default_factory=dict)
    departments: dict[str, str] = field(default_factory=dict)
    roles: dict[str, str] = field(default_factory=dict)
    employees: dict[str, str] = field(default_factory=dict)

    def code(self, kind: str, text: str) -> str:
        table = {"name": self.names, "department": self.departments, "role": self.roles, "employee": self.employees}
        return table[kind].get(text.strip().lower(), text)


@dataclass
class PastedRow:
    cells: dict[str, Any]
    #: [(column, message)] for the cells that could not be read as they should
    problems: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Pasted:
    rows: list[PastedRow] = field(default_factory=list)
    #: the grid's columns the block's columns were read as (None: a column left out)
    columns: list[str | None] = field(default_factory=list)
    header: bool = False
    #: problems with the block as a whole (unknown columns, too many rows)
    problems: list[str] = field(default_factory=list)


def _lines(text: str) -> list[list[str]]:
    reader = csv.reader(io.StringIO(text.replace("\r\n", "\n").replace("\r", "\n")), delimiter="\t")
    return [[cell.strip() for cell in line] for line in reader if any(cell.strip() for cell in line)]


def _period(text: str) -> str:
    """2026/10, 2026年10月, 2026年, 2026q4 and 2026 H2 as the configuration writes periods."""
    compact = text.replace(" ", "")
    if match := re.fullmatch(r"(\d{4})[/.年-](\d{1,2})月?", compact):
        return f"{match[1]}-{int(match[2]):02d}"
    if match := re.fullmatch(r"(\d{4})年?", compact):
        return match[1]
    if match := re.fullmatch(r"(\d{4})[-年]?([QqHh])([1-4])", compact):
        return f"{match[1]}-{match[2].upper()}{match[3]}"
    return text


def _cell(column: str, raw: str, lookup: Lookup, row: PastedRow) -> None:
    cells = row.cells
    if raw.startswith("="):
        row.problems.append((column, f"{raw[:40]}: {FORMULA_REFUSED}"))
        return
    if column == "name":
        cells["name"] = lookup.code("name", raw)
    elif column == "period":
        cells["period"] = _period(raw)
    elif column in HOLDER_COLUMNS:
        cells.setdefault("holders", []).append((column, lookup.code(column, raw)))
    elif column == "holder_kind":
        kind = HOLDER_KINDS.get(_key(raw))
        if kind is None:
            row.problems.append(
                (column, _("%(value)s is not a kind of holder: employee, department or role", value=raw))
            )
        cells["holder_kind"] = kind or "employee"
    elif column == "split":
        split = SPLITS.get(_key(raw))
        if split is None:
            row.problems.append(
                (column, _("%(value)s is not a way to split: equally, by weights or by last period's share", value=raw))
            )
        cells["split"] = split or raw
    elif column in ("value", "decimals") or column.startswith("m-"):
        try:
            cells[column] = plain_number(parse_integer(raw) if column == "decimals" else parse_decimal(raw))
        except FieldError:  # kept as pasted: checking the grid says what is wrong with it, at its cell
            cells[column] = raw
    elif column == "month_shares":
        parts = [part.strip() for part in MONTH_SHARE_SEPARATORS.split(raw) if part.strip()]
        if len(parts) == 1:  # twelve numbers separated by spaces
            parts = raw.split()
        for month, part in zip(MONTHS, parts):
            _cell(f"m-{month}", part, lookup, row)
        if len(parts) != 12:
            row.problems.append((column, _("%(count)d month shares: give 12", count=len(parts))))
    else:  # holder, weight_attribute, split_role: codes, as typed
        cells[column] = raw


def _finish(row: PastedRow, lookup: Lookup) -> dict[str, Any]:
    """The pasted cells as the grid's cells (see `grid_row`)."""
    cells = row.cells
    kind = cells.get("holder_kind", "employee")
    holder = cells.get("holder", "")
    if holder and kind in HOLDER_COLUMNS:
        holder = lookup.code(kind, holder)
    split_role = cells.get("split_role", "")
    holders = cells.get("holders", [])
    if holders:
        if cells.get("split"):
            department = [code for column, code in holders if column == "department"]
            kind, holder = ("department", department[0]) if department else holders[0]
            split_role = next((code for column, code in holders if column == "role"), split_role)
        else:
            kind, holder = holders[0]
            if len(holders) > 1:
                row.problems.append(
                    (holders[1][0], _("only one of employee, department and role can hold a target that is not split"))
                )
    return {
        "name": cells.get("name", ""),
        "period": cells.get("period", ""),
        "holder_kind": kind,
        "holder": holder,
        "value": cells.get("value", ""),
        "split": cells.get("split", ""),
        "weight_attribute": cells.get("weight_attribute", ""),
        "split_role": lookup.code("role", split_role) if split_role else "",
        "decimals": cells.get("decimals", ""),
        "month_shares": [cells.get(f"m-{m}", "") for m in MONTHS] if any(f"m-{m}" in cells for m in MONTHS) else [],
    }


def read_pasted(text: str, lookup: Lookup) -> Pasted:
    """The grid rows of a block pasted from a spreadsheet, and what could not be read as it should."""
    lines = _lines(text)
    pasted = Pasted()
    if not lines:
        return pasted
    first = [HEADERS.get(_key(cell)) for cell in lines[0]]
    if sum(column is not None for column in first) >= 2:
        pasted.header = True
        pasted.columns = first
        unknown = [cell for cell, column in zip(lines[0], first) if column is None and cell]
        if unknown:
            pasted.problems.append(
                _("Columns left out (their names are not known): %(columns)s", columns=", ".join(unknown))
            )
        lines = lines[1:]
    else:
        pasted.columns = list(GRID_COLUMNS)
    if len(lines) > MAX_PASTED_ROWS:
        pasted.problems.append(_("Only the first %(count)d rows were read.", count=MAX_PASTED_ROWS))
        lines = lines[:MAX_PASTED_ROWS]
    for line in lines:
        row = PastedRow({})
        for column, raw in zip(pasted.columns, line):
            if column is not None and raw:
                _cell(column, raw, lookup, row)
        if len(line) > len(pasted.columns) and any(line[len(pasted.columns) :]):
            row.problems.append(("", _("cells beyond the %(count)d columns were left out", count=len(pasted.columns))))
        row.cells = _finish(row, lookup)
        pasted.rows.append(row)
    return pasted
