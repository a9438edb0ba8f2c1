"""Scorecards out of the database: as plain objects (JSON, the API), and as CSV and XLSX files
whose text cells cannot run as spreadsheet formulas."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, NotRequired, TypeAlias, TypedDict, Unpack, cast

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..config.models import ConfigVersion
from ..config.validation import Config
from ..org.models import Department, Employee
from ..spreadsheet import neutralise
from .models import Scorecard
from .scorecards import ItemDefinition, item_definitions
from .shapes import Direction, ItemKind, Label, MissingPolicy, PlainValue


class ItemDefaults(TypedDict):
    target: None
    error: None
    excluded: bool
    notes: list[str]


#: keys a stored trace leaves out when they hold these values
ITEM_DEFAULTS: ItemDefaults = {"target": None, "error": None, "excluded": False, "notes": []}
CARD_COLUMNS = (
    "employee",
    "name",
    "department",
    "template",
    "period",
    "total",
    "grade",
    "rank_department",
    "rank_company",
    "error",
)


class Calibration(TypedDict):
    """A grade set by calibration (校准) beside the computed one, with why, by whom and when."""

    grade: str
    reason: str
    by: str
    at: str | None


ITEM_COLUMNS = ("section", "item", "value", "target", "score", "weight", "points", "item_error", "notes")


class ScorecardItem(TypedDict):
    """An item of a scorecard object: its trace (`ItemTrace`) with the defaults filled in, and with
    definitions, what the configuration says of it (`item_definitions`)."""

    key: str
    value: float | None
    score: float | None
    weight: float
    points: float | None
    target: float | None
    error: str | None
    excluded: bool
    notes: list[str]
    inputs: NotRequired[dict[str, PlainValue]]
    target_source: NotRequired[str]
    # with definitions
    kind: NotRequired[ItemKind]
    section: NotRequired[str]
    label: NotRequired[Label | None]
    policy: NotRequired[MissingPolicy]
    formula: NotRequired[str | None]
    unit: NotRequired[str | Label | None]
    format: NotRequired[str | None]
    direction: NotRequired[Direction]
    metrics: NotRequired[dict[str, str]]
    scoring: NotRequired[str | None]
    form: NotRequired[str | None]


#: a scorecard as a plain object (`scorecard_object`): employee, name, department, template,
#: period, total, grade, ranks, error, locked, version, run, items (`ScorecardItem`), and when
#: calibrated, calibrated_grade and calibration. A JSON object that the API adds to (a review's
#: state, calibration keys set to null).
ScorecardObject: TypeAlias = dict[str, Any]


class ScorecardFilters(TypedDict, total=False):
    template: str | None
    #: scorecards of employees (when scored) in these departments
    department_ids: Iterable[int] | None
    employee_id: int | None


def scorecard_query(
    period: str | None = None,
    *,
    template: str | None = None,
    department_ids: Iterable[int] | None = None,
    employee_id: int | None = None,
) -> sa.Select[Scorecard, str, str, str]:
    query = (
        sa.select(Scorecard, Employee.code, Employee.name, Department.code)
        .join(Employee, Employee.id == Scorecard.employee_id)
        .join(Department, Department.id == Scorecard.department_id)
    )
    if period is not None:
        query = query.where(Scorecard.period == period)
    if template is not None:
        query = query.where(Scorecard.template == template)
    if department_ids is not None:
        query = query.where(Scorecard.department_id.in_(list(department_ids)))
    if employee_id is not None:
        query = query.where(Scorecard.employee_id == employee_id)
    return query.order_by(
        Scorecard.period, Scorecard.template, Scorecard.rank_company.is_(None), Scorecard.rank_company, Employee.code
    )


def scorecard_object(
    card: Scorecard,
    code: str,
    name: str,
    department: str,
    definitions: Mapping[str, ItemDefinition] | None = None,
    calibration: Calibration | None = None,
) -> ScorecardObject:
    """A scorecard as a plain object; with `definitions` (see `item_definitions`), each item
    carries its label, formula, scoring rule and policy as well as the trace. With a
    `calibration`, `calibrated_grade` and `calibration` (reason, by, at) beside the computed
    `grade`."""
    items = [
        # mypy cannot check a merge whose optional keys come from one part or another: the defaults,
        # the trace's keys over them, then the definition's, which no trace has; each item its own
        # list of notes, so that changing one item's changes no other's
        cast(ScorecardItem, {**ITEM_DEFAULTS, "notes": [], **item, **(definitions or {}).get(item["key"], {})})
        for item in card.items
    ]
    result: ScorecardObject = {
        "employee": code,
        "name": name,
        "department": department,
        "template": card.template,
        "period": card.period,
        "total": card.total,
        "grade": card.grade,
        "rank_department": card.rank_department,
        "rank_company": card.rank_company,
        "error": card.error,
        "locked": card.locked,
        "version": card.version_number,
        "run": card.run_id,
        "items": items,
    }
    if calibration is not None:
        result["calibrated_grade"] = calibration["grade"]
        result["calibration"] = {"reason": calibration["reason"], "by": calibration["by"], "at": calibration["at"]}
    return result


class Definitions:
    """Item definitions per (version, template), each version's snapshot read once."""

    def __init__(self, session: Session):
        self.session = session
        self._snapshots: dict[int | None, Config] = {}
        self._definitions: dict[tuple[int | None, str], dict[str, ItemDefinition]] = {}

    def __call__(self, version_number: int | None, template: str) -> dict[str, ItemDefinition]:
        key = (version_number, template)
        if key not in self._definitions:
            if version_number not in self._snapshots:
                self._snapshots[version_number] = (
                    self.session.scalar(sa.select(ConfigVersion.snapshot).where(ConfigVersion.number == version_number))
                    or {}
                )
            self._definitions[key] = item_definitions(self._snapshots[version_number], template)
        return self._definitions[key]


def load_scorecards(
    session: Session,
    period: str,
    calibrations: Mapping[tuple[str, int], Calibration] | None = None,
    **filters: Unpack[ScorecardFilters],
) -> list[ScorecardObject]:
    """The period's scorecards as plain objects, with their calibrated grades when given (by
    period and employee id)."""
    definitions = Definitions(session)
    adjusted = calibrations or {}
    return [
        scorecard_object(
            card,
            code,
            name,
            department,
            definitions(card.version_number, card.template),
            adjusted.get((card.period, card.employee_id)),
        )
        for card, code, name, department in session.execute(scorecard_query(period, **filters))
    ]


def to_json(cards: list[ScorecardObject]) -> str:
    return json.dumps(cards, ensure_ascii=False, indent=2)


def _item_rows(cards: list[ScorecardObject]) -> Iterator[list[object]]:
    for card in cards:
        head = [card[column] for column in CARD_COLUMNS]
        for item in card["items"]:
            yield head + [
                item.get("section"),
                item["key"],
                item.get("value"),
                item.get("target"),
                item.get("score"),
                item.get("weight"),
                item.get("points"),
                item.get("error"),
                "; ".join(item.get("notes") or []),
            ]


def to_csv(cards: list[ScorecardObject]) -> str:
    """One row per item, the scorecard's columns repeated; every cell neutralised."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([*CARD_COLUMNS, *ITEM_COLUMNS])
    for row in _item_rows(cards):
        writer.writerow([neutralise(cell) for cell in row])
    return buffer.getvalue()


def _cell(value: object) -> float | str | None:
    """Numbers stay numbers (they cannot run); text is neutralised."""
    if value is None or (isinstance(value, (int, float)) and not isinstance(value, bool)):
        return value
    return neutralise(value)


def to_xlsx(cards: list[ScorecardObject]) -> bytes:
    """Two sheets: one row per scorecard, and one row per item."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    summary = workbook.create_sheet("scorecards")
    summary.append(list(CARD_COLUMNS))
    for card in cards:
        summary.append([_cell(card[column]) for column in CARD_COLUMNS])
    items = workbook.create_sheet("items")
    items.append([*CARD_COLUMNS, *ITEM_COLUMNS])
    for row in _item_rows(cards):
        items.append([_cell(cell) for cell in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
