"""Importing records into a dataset: every row validated, all-or-nothing by default, idempotent.

Rows are keyed by external id: a row that exists with the same content is left alone, one whose
content changed is updated, a new one is inserted. Importing the same file twice changes nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..audit import record_change
from ..org.models import Employee
from .bulk import insert_records
from .fields import FieldError, field_parser
from .models import Record

EXTERNAL_ID = "external_id"
MAX_EXTERNAL_ID = 128
WRITE_BATCH = 5000


@dataclass(frozen=True)
class RowProblem:
    row: int          # the row's number in the source: the line in a CSV, the row in a sheet
    column: str
    value: Any
    reason: str

    def __str__(self) -> str:
        shown = "" if self.value in (None, "") else f" {str(self.value)[:60]!r}"
        column = f", column {self.column!r}" if self.column else ""
        return f"row {self.row}{column}:{shown} {self.reason}"


@dataclass
class ImportReport:
    dataset: str
    read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    problems: list[RowProblem] = field(default_factory=list)
    #: rejected rows as read, with their problems, for the rejects file
    rejected_rows: list[tuple[int, dict, list[RowProblem]]] = field(default_factory=list)
    written: bool = False

    def summary(self) -> str:
        return (f"{self.dataset}: read {self.read}, inserted {self.inserted}, updated {self.updated}, "
                f"unchanged {self.unchanged}, rejected {self.rejected}")


class ImportRefused(ValueError):
    """The import as a whole cannot go ahead (wrong columns, unknown dataset)."""


def employee_codes(session: Session) -> dict[str, int]:
    return dict(session.execute(sa.select(Employee.code, Employee.id)).all())


class RowParser:
    """Turns raw rows into record values for one dataset, collecting problems."""

    def __init__(self, dataset: dict, codes: dict[str, int], columns: list[str]):
        self.dataset = dataset
        self.codes = codes
        fields_by_name = {f["name"]: f for f in dataset["fields"]}
        unknown = [c for c in columns if c != EXTERNAL_ID and c not in fields_by_name]
        missing = [name for name in [EXTERNAL_ID] + [f["name"] for f in dataset["fields"] if f.get("required")]
                   + [dataset["owner_field"], dataset["date_field"]] if name not in columns]
        if unknown or missing:
            parts = []
            if missing:
                parts.append(f"missing column(s): {', '.join(dict.fromkeys(missing))}")
            if unknown:
                parts.append(f"unknown column(s): {', '.join(unknown)} "
                             f"(dataset {dataset['slug']} has {EXTERNAL_ID}, "
                             f"{', '.join(fields_by_name)})")
            raise ImportRefused("; ".join(parts))
        self.columns = [c for c in columns if c != EXTERNAL_ID]
        self.parsers = {name: field_parser(fields_by_name[name], codes) for name in self.columns}
        self.required = {f["name"] for f in dataset["fields"] if f.get("required")} | {
            dataset["owner_field"], dataset["date_field"]}
        self.owner_field = dataset["owner_field"]
        self.date_field = dataset["date_field"]
        self.seen: dict[str, int] = {}

    def parse(self, number: int, raw: dict) -> tuple[dict | None, list[RowProblem]]:
        problems = []
        external_id = raw.get(EXTERNAL_ID)
        external_id = "" if external_id is None else str(external_id).strip()
        if not external_id:
            problems.append(RowProblem(number, EXTERNAL_ID, "", "an external id is required"))
        elif len(external_id) > MAX_EXTERNAL_ID:
            problems.append(RowProblem(number, EXTERNAL_ID, external_id,
                                       f"longer than {MAX_EXTERNAL_ID} characters"))
        elif external_id in self.seen:
            problems.append(RowProblem(number, EXTERNAL_ID, external_id,
                                       f"duplicate external id (first on row {self.seen[external_id]})"))
        else:
            self.seen[external_id] = number
        values = {}
        for name in self.columns:
            raw_value = raw.get(name)
            if raw_value is None or (isinstance(raw_value, str) and not raw_value.strip()):
                if name in self.required:
                    problems.append(RowProblem(number, name, "", "a value is required"))
                continue
            if isinstance(raw_value, str) and raw_value.lstrip().startswith("="):
                problems.append(RowProblem(number, name, raw_value,
                                           "spreadsheet formulas are not accepted; export values only"))
                continue
            try:
                values[name] = self.parsers[name](raw_value)
            except FieldError as exc:
                problems.append(RowProblem(number, name, raw_value, str(exc)))
        if problems:
            return None, problems
        occurred = values[self.date_field]
        return {"external_id": external_id, "owner_id": self.codes[values[self.owner_field]],
                "occurred_on": dt.date.fromisoformat(occurred[:10]), "values": values}, []


def import_records(session: Session, dataset: dict, columns: list[str],
                   rows: Iterable[tuple[int, dict]], *, actor: str, source: str,
                   skip_invalid: bool = False,
                   progress: Callable[[int], None] | None = None) -> ImportReport:
    """Validate `rows` ((row number, {column: raw value}) pairs) and upsert them.

    With problems and without `skip_invalid`, nothing is written.
    """
    parser = RowParser(dataset, employee_codes(session), columns)
    report = ImportReport(dataset["slug"])
    parsed: list[dict] = []
    for number, raw in rows:
        report.read += 1
        record, problems = parser.parse(number, raw)
        if problems:
            report.rejected += 1
            report.problems.extend(problems)
            report.rejected_rows.append((number, raw, problems))
        else:
            parsed.append(record)
        if progress and report.read % 1000 == 0:
            progress(1000)
    if progress:
        progress(report.read % 1000)
    if report.rejected and not skip_invalid:
        return report
    _upsert(session, dataset["slug"], parsed, report)
    report.written = True
    record_change(session, actor=actor, action="data.import", kind="dataset", key=dataset["slug"],
                  after={"source": source, "read": report.read, "inserted": report.inserted,
                         "updated": report.updated, "unchanged": report.unchanged,
                         "rejected": report.rejected})
    return report


def _upsert(session: Session, dataset: str, records: list[dict], report: ImportReport) -> None:
    existing = {
        external_id: (record_id, owner_id, occurred_on, values)
        for record_id, external_id, owner_id, occurred_on, values in session.execute(
            sa.select(Record.id, Record.external_id, Record.owner_id, Record.occurred_on, Record.values)
            .where(Record.dataset == dataset))
    }
    inserts, updates = [], []
    now = dt.datetime.now(dt.timezone.utc)
    for record in records:
        found = existing.get(record["external_id"])
        if found is None:
            inserts.append(record)
        elif (found[1], found[2], found[3]) == (record["owner_id"], record["occurred_on"], record["values"]):
            report.unchanged += 1
        else:
            updates.append({"id": found[0], "owner_id": record["owner_id"],
                            "occurred_on": record["occurred_on"], "values": record["values"],
                            "updated_at": now})
    insert_records(session, ((dataset, r["external_id"], r["owner_id"], r["occurred_on"], r["values"])
                             for r in inserts))
    for start in range(0, len(updates), WRITE_BATCH):
        session.execute(sa.update(Record), updates[start:start + WRITE_BATCH])
    report.inserted, report.updated = len(inserts), len(updates)
