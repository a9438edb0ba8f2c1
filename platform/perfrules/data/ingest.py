"""Importing records into a dataset: every row validated, all-or-nothing by default, idempotent.

Rows are keyed by external id: a row that exists with the same content is left alone, one whose
content changed is updated, a new one is inserted. Importing the same file twice changes nothing.
"""

from __future__ import annotations

import datetime as dt
import gc
import json
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from json.encoder import encode_basestring
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..audit import record_change
from ..cells import FieldError
from ..org.models import Employee
from .bulk import encode_values, insert_records
from .fields import JSON_WRITERS, column_parser, field_parser
from .models import Record

EXTERNAL_ID = "external_id"
MAX_EXTERNAL_ID = 128
WRITE_BATCH = 5000
#: rows parsed and written together
CHUNK = 20_000


@dataclass(frozen=True)
class RowProblem:
    row: int  # the row's number in the source: the line in a CSV, the row in a sheet
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
        return (
            f"{self.dataset}: read {self.read}, inserted {self.inserted}, updated {self.updated}, "
            f"unchanged {self.unchanged}, rejected {self.rejected}"
        )


class ImportRefused(ValueError):
    """The import as a whole cannot go ahead (wrong columns, unknown dataset)."""


def employee_codes(session: Session) -> dict[str, int]:
    return dict(session.execute(sa.select(Employee.code, Employee.id)).all())


class RowParser:
    """Turns raw rows into record values for one dataset, collecting problems.

    Duplicate external ids are checked by the importer, in order, across chunks.
    """

    def __init__(self, dataset: dict, codes: dict[str, int], columns: list[str]):
        fields_by_name = {f["name"]: f for f in dataset["fields"]}
        unknown = [c for c in columns if c != EXTERNAL_ID and c not in fields_by_name]
        missing = [
            name
            for name in [EXTERNAL_ID]
            + [f["name"] for f in dataset["fields"] if f.get("required")]
            + [dataset["owner_field"], dataset["date_field"]]
            if name not in columns
        ]
        if unknown or missing:
            parts = []
            if missing:
                parts.append(f"missing column(s): {', '.join(dict.fromkeys(missing))}")
            if unknown:
                parts.append(
                    f"unknown column(s): {', '.join(unknown)} "
                    f"(dataset {dataset['slug']} has {EXTERNAL_ID}, "
                    f"{', '.join(fields_by_name)})"
                )
            raise ImportRefused("; ".join(parts))
        required = {f["name"] for f in dataset["fields"] if f.get("required")} | {
            dataset["owner_field"],
            dataset["date_field"],
        }
        self.codes = codes
        self.plan = [
            (name, field_parser(fields_by_name[name], codes), name in required)
            for name in columns
            if name != EXTERNAL_ID
        ]
        self.columns = [
            (name, column_parser(fields_by_name[name], codes), name in required)
            for name in columns
            if name != EXTERNAL_ID
        ]
        # a complete row's JSON, written straight from its values (twice as fast as json.dumps)
        names = [name for name, _, _ in self.columns]
        self.json_template = "{" + ",".join(f"{encode_basestring(name)}:%s" for name in names) + "}"
        self.json_writers = [JSON_WRITERS[fields_by_name[name]["type"]] for name in names]
        self.owner_field = dataset["owner_field"]
        self.date_field = dataset["date_field"]

    def parse_chunk(self, chunk: list[tuple[int, dict]]) -> list[tuple[str, tuple | None, list[RowProblem]]]:
        """Every row of a chunk: column by column when the whole chunk is plain and valid (fast),
        otherwise row by row with explanations."""
        raws = [raw for _, raw in chunk]
        external_ids = [raw.get(EXTERNAL_ID) for raw in raws]
        if all(
            value.__class__ is str and 0 < len(value) <= MAX_EXTERNAL_ID and value == value.strip()
            for value in external_ids
        ):
            names, columns, complete = [], [], True
            for name, parse_column, required in self.columns:
                values = parse_column([raw.get(name) for raw in raws])
                if values is None or (required and None in values):
                    break
                complete = complete and None not in values
                names.append(name)
                columns.append(values)
            else:
                owner = names.index(self.owner_field)
                date = names.index(self.date_field)
                codes = self.codes
                days: dict[str, dt.date] = {}  # many rows share a day
                parsed: list[tuple[str, tuple | None, list[RowProblem]]] = []
                template, writers = self.json_template, self.json_writers
                # every external id is a str: checked above, value by value
                for external_id, row in zip(cast(list[str], external_ids), zip(*columns)):
                    if complete:
                        values_json = template % tuple([write(v) for write, v in zip(writers, row)])
                    else:
                        values_json = encode_values(
                            {name: value for name, value in zip(names, row) if value is not None}
                        )
                    day = row[date][:10]
                    occurred_on = days.get(day) or days.setdefault(day, dt.date.fromisoformat(day))
                    parsed.append((external_id, (codes[row[owner]], occurred_on, values_json), []))
                return parsed
        return [self.parse(number, raw) for number, raw in chunk]

    def parse(self, number: int, raw: dict) -> tuple[str, tuple | None, list[RowProblem]]:
        """(external id, (owner_id, occurred_on, values as JSON) or None, problems) for one row."""
        problems = []
        external_id = raw.get(EXTERNAL_ID)
        external_id = "" if external_id is None else str(external_id).strip()
        if not external_id:
            problems.append(RowProblem(number, EXTERNAL_ID, "", "an external id is required"))
        elif len(external_id) > MAX_EXTERNAL_ID:
            problems.append(RowProblem(number, EXTERNAL_ID, external_id, f"longer than {MAX_EXTERNAL_ID} characters"))
        values = {}
        for name, parse, required in self.plan:
            raw_value = raw.get(name)
            if raw_value.__class__ is str:
                raw_value = raw_value.strip()
                if raw_value.startswith("="):
                    problems.append(
                        RowProblem(number, name, raw_value, "spreadsheet formulas are not accepted; export values only")
                    )
                    continue
            if raw_value is None or raw_value == "":
                if required:
                    problems.append(RowProblem(number, name, "", "a value is required"))
                continue
            try:
                values[name] = parse(raw_value)
            except FieldError as exc:
                problems.append(RowProblem(number, name, raw_value, str(exc)))
        if problems:
            return external_id, None, problems
        occurred = values[self.date_field]
        return (
            external_id,
            (self.codes[values[self.owner_field]], dt.date.fromisoformat(occurred[:10]), encode_values(values)),
            problems,
        )


def _chunks(rows: Iterable, size: int) -> Iterator[list]:
    chunk = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


@contextmanager
def _without_cyclic_gc():
    """An import allocates millions of small objects that never form cycles; the cyclic garbage
    collector would walk the growing heap over and over (measured: a third of the import's time)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def import_records(
    session: Session,
    dataset: dict,
    columns: list[str],
    rows: Iterable[tuple[int, dict]],
    *,
    actor: str,
    source: str,
    skip_invalid: bool = False,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Validate `rows` ((row number, {column: raw value}) pairs) and upsert them.

    Rows are written as they are validated, inside a savepoint; with problems and without
    `skip_invalid` the savepoint is rolled back and nothing is written.
    """
    with _without_cyclic_gc():
        return _import(
            session, dataset, columns, rows, actor=actor, source=source, skip_invalid=skip_invalid, progress=progress
        )


def _import(
    session: Session,
    dataset: dict,
    columns: list[str],
    rows: Iterable[tuple[int, dict]],
    *,
    actor: str,
    source: str,
    skip_invalid: bool,
    progress: Callable[[int], None] | None,
) -> ImportReport:
    codes = employee_codes(session)
    parser = RowParser(dataset, codes, columns)
    report = ImportReport(dataset["slug"])
    slug = dataset["slug"]
    # stored values as text: on SQLite it is exactly what an unchanged row encodes to, so most
    # comparisons need no JSON decoding (PostgreSQL's JSONB text differs, and is decoded)
    existing = {
        external_id: (record_id, owner_id, occurred_on, values_text)
        for record_id, external_id, owner_id, occurred_on, values_text in session.execute(
            sa.select(
                Record.id, Record.external_id, Record.owner_id, Record.occurred_on, sa.cast(Record.values, sa.Text)
            ).where(Record.dataset == slug)
        )
    }
    seen: dict[str, int] = {}
    unique = _UniqueValues(dataset, existing)
    savepoint = session.begin_nested()
    for chunk in _chunks(rows, CHUNK):
        good = []
        for (number, raw), (external_id, record, problems) in zip(chunk, parser.parse_chunk(chunk)):
            if external_id in seen:
                problems = [
                    *problems,
                    RowProblem(
                        number, EXTERNAL_ID, external_id, f"duplicate external id (first on row {seen[external_id]})"
                    ),
                ]
            elif external_id:
                seen[external_id] = number
            extra = raw.get(None)  # readers.EXTRA_CELLS: cells past the header would be lost
            if extra:
                problems = [
                    *problems,
                    RowProblem(
                        number,
                        "(past the last column)",
                        ", ".join(map(str, extra)),
                        f"{len(extra)} cell(s) beyond the header's columns (a number "
                        "with a comma needs quotes in a CSV file)",
                    ),
                ]
            if not problems and unique.fields:
                assert record is not None, "the parser gives a record to every row it finds nothing wrong with"
                problems = unique.check(number, external_id, record[2])
            if problems:
                report.rejected += 1
                report.problems.extend(problems)
                report.rejected_rows.append((number, raw, problems))
            elif not report.rejected or skip_invalid:
                assert record is not None, "the parser gives a record to every row it finds nothing wrong with"
                good.append((external_id, *record))
        report.read += len(chunk)
        _write(session, slug, good, existing, report)
        if progress:
            progress(len(chunk))
    if report.rejected and not skip_invalid:
        savepoint.rollback()
        report.inserted = report.updated = report.unchanged = 0
        return report
    savepoint.commit()
    report.written = True
    record_change(
        session,
        actor=actor,
        action="data.import",
        kind="dataset",
        key=slug,
        after={
            "source": source,
            "read": report.read,
            "inserted": report.inserted,
            "updated": report.updated,
            "unchanged": report.unchanged,
            "rejected": report.rejected,
        },
    )
    return report


class _UniqueValues:
    """Values of the dataset's unique fields: each may belong to one record only, across the
    records already stored and the rows of this import."""

    def __init__(self, dataset: dict, existing: dict):
        self.fields = [f["name"] for f in dataset["fields"] if f.get("unique")]
        self.owners: dict[str, dict] = {name: {} for name in self.fields}
        self.rows: dict[str, dict] = {name: {} for name in self.fields}
        if self.fields:
            for external_id, (_, _, _, values_text) in existing.items():
                values = json.loads(values_text)
                for name in self.fields:
                    if values.get(name) is not None:
                        self.owners[name][values[name]] = external_id

    def check(self, number: int, external_id: str, values_json: str) -> list[RowProblem]:
        values = json.loads(values_json)
        problems = []
        for name in self.fields:
            value = values.get(name)
            if value is None:
                continue
            holder = self.owners[name].get(value)
            if holder is not None and holder != external_id:
                where = f"row {self.rows[name][value]}" if value in self.rows[name] else f"record {holder}"
                problems.append(RowProblem(number, name, value, f"must be unique; {where} already has it"))
            else:
                self.owners[name][value] = external_id
                self.rows[name][value] = number
        return problems


def _write(session: Session, dataset: str, records: list[tuple], existing: dict, report: ImportReport) -> None:
    inserts, updates = [], []
    now = dt.datetime.now(dt.UTC)
    for external_id, owner_id, occurred_on, values_json in records:
        found = existing.get(external_id)
        if found is None:
            inserts.append((dataset, external_id, owner_id, occurred_on, values_json))
            continue
        same_place = (found[1], found[2]) == (owner_id, occurred_on)
        if same_place and (found[3] == values_json or json.loads(found[3]) == json.loads(values_json)):
            report.unchanged += 1
        else:
            values = json.loads(values_json)
            updates.append(
                {"id": found[0], "owner_id": owner_id, "occurred_on": occurred_on, "values": values, "updated_at": now}
            )
    report.inserted += insert_records(session, inserts)
    for start in range(0, len(updates), WRITE_BATCH):
        session.execute(sa.update(Record), updates[start : start + WRITE_BATCH])
    report.updated += len(updates)
