"""Metrics (指标): aggregates of CRM records per employee, computed inside the database.

Every metric of one dataset and one date window comes out of a single grouped query, each metric
a conditional aggregate (`SUM(CASE WHEN filter THEN amount END)`), so the number of queries
depends on the configuration, never on the number of employees. Team and department metrics
are rolled up from the same per-owner partial results with numpy; only a team `count_distinct`
needs its own query (distinct values cannot be added up).

Team and department metrics follow the organisation on each record's date. When it changed inside
a window (someone moved, joined or left: usually nobody), the window's team metrics come from one
more grouped query, per owner and stretch between the changes (a CASE on the record's date), and
each stretch is rolled up with the organisation of its days: sums and counts add up, averages are
totals over counts, minimums and maximums are taken over every stretch, and a team's distinct
values are one set, whatever stretch they were seen in.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias, TypeVar

import numpy as np
import sqlalchemy as sa
from numpy.typing import NDArray
from sqlalchemy.orm import Session

from ..config.validation import Config, dataset_catalogue
from ..data.models import Record
from ..formula import BOOLEAN, CompiledFormula, FunctionRegistry, compile_formula
from .people import People
from .periods import Period, Window
from .shapes import Document, Floats, MetricScope

Aggregate: TypeAlias = Literal["count", "sum", "avg", "min", "max", "count_distinct"]
#: a SQL expression over a record: a field's value, a filter, an aggregate
SqlValue: TypeAlias = sa.ColumnElement[Any]
#: (dataset, first day, day after the last): the metrics one query computes
GroupKey: TypeAlias = tuple[str, dt.date, dt.date]
_Query = TypeVar("_Query", bound=sa.Select[*tuple[Any, ...]])

NUMERIC = ("integer", "decimal", "money")
#: aggregates that give 0 rather than "no value" for an employee without records
ZERO_WHEN_EMPTY: tuple[Aggregate, ...] = ("count", "sum", "count_distinct")


@dataclass(frozen=True)
class MetricSpec:
    slug: str
    dataset: str
    aggregate: Aggregate
    field: str | None
    filter: CompiledFormula | None
    window: Window
    months: int | None
    scope: MetricScope


def describe_metric(metric: Document) -> str:
    """`sum(deals.amount) where status == 'won'`, with its window and scope when not the defaults."""
    field = f"{metric['dataset']}.{metric['field']}" if metric.get("field") else metric["dataset"]
    text = f"{metric['aggregate']}({field})"
    if metric.get("filter"):
        text += f" where {metric['filter']}"
    window = metric.get("window", "period")
    if window != "period":
        text += f", window {window}" + (f" {metric['months']} months" if metric.get("months") else "")
    if metric.get("scope", "self") != "self":
        text += f", {metric['scope']} scope"
    return text


def metric_specs(config: Config, functions: FunctionRegistry) -> dict[str, MetricSpec]:
    specs: dict[str, MetricSpec] = {}
    datasets = config.get("datasets", {})
    for slug, metric in config.get("metrics", {}).items():
        dataset = datasets[metric["dataset"]]
        condition = None
        if metric.get("filter"):
            # run as checked when published: a version from before options were checked still runs
            catalogue = dataset_catalogue(dataset, options=False)
            condition = compile_formula(metric["filter"], catalogue, functions=functions, expect=BOOLEAN)
        specs[slug] = MetricSpec(
            slug,
            metric["dataset"],
            metric["aggregate"],
            metric.get("field"),
            condition,
            metric.get("window", "period"),
            metric.get("months"),
            metric.get("scope", "self"),
        )
    return specs


def _field_expression(field_type: str, name: str) -> SqlValue:
    value = Record.values[name]
    # the JSON comparator's as_float(), as_boolean() and as_string() are not in the element's type
    expression: SqlValue
    if field_type == "money":  # stored in minor units; metrics and filters speak in yuan
        expression = value.as_float() / 100.0
    elif field_type in NUMERIC:
        expression = value.as_float()
    elif field_type == "boolean":
        expression = value.as_boolean()
    else:
        expression = value.as_string()
    return expression


def record_columns(dataset: Document) -> dict[str, SqlValue]:
    """Each field of a dataset's records as a SQL expression of its type, for filters."""
    return {f["name"]: _field_expression(f["type"], f["name"]) for f in dataset["fields"]}


@dataclass
class MetricStats:
    queries: int = 0
    seconds: float = 0.0


class _Columns:
    """The aggregates one grouped query selects, and how each metric reads its value(s)."""

    def __init__(self) -> None:
        self.selected: list[SqlValue] = []
        #: metric slug → how to read its value(s) from a result row
        self.readers: dict[str, tuple[Aggregate, list[int]]] = {}

    def add(self, expression: SqlValue) -> int:
        self.selected.append(expression)
        return len(self.selected)  # column 0 is the owner


#: the name of the stretch column of a query grouped by owner and stretch
STRETCH = "org_stretch"


class _Group:
    """The metrics of one dataset and one date window: one query, and one more for the team
    metrics when the organisation changed inside the window (on the days `changes`)."""

    def __init__(self, dataset: Document, start: dt.date, end: dt.date, changes: list[dt.date]):
        self.dataset = dataset
        self.start, self.end = start, end
        self.changes = changes
        #: the window's stretches without a change: [start, first change), …, [last change, end)
        self.stretches = list(zip([start, *changes], [*changes, end]))
        self.types = {f["name"]: f["type"] for f in dataset["fields"]}
        self.columns = {name: _field_expression(kind, name) for name, kind in self.types.items()}
        self.own = _Columns()
        self.team = _Columns() if changes else self.own
        self.distinct_pairs: list[MetricSpec] = []

    def add(self, spec: MetricSpec) -> None:
        condition = spec.filter.to_sql(self.columns) if spec.filter is not None else None
        value = self.columns[spec.field] if spec.field else sa.literal(1)
        if condition is not None:
            value = sa.case((condition, value))
        aggregate, team = spec.aggregate, spec.scope != "self"
        into = self.team if team else self.own
        if aggregate == "count":
            into.readers[spec.slug] = (
                "count",
                [into.add(sa.func.count(value) if condition is not None or spec.field else sa.func.count())],
            )
        elif aggregate == "sum":
            into.readers[spec.slug] = ("sum", [into.add(sa.func.sum(value))])
        elif aggregate == "avg":
            if team:  # an average over a team is its total over its count, not an average of averages
                into.readers[spec.slug] = ("avg", [into.add(sa.func.sum(value)), into.add(sa.func.count(value))])
            else:
                into.readers[spec.slug] = ("avg", [into.add(sa.func.avg(value))])
        elif aggregate in ("min", "max"):
            function = sa.func.min if aggregate == "min" else sa.func.max
            into.readers[spec.slug] = (aggregate, [into.add(function(value))])
        elif team:
            self.distinct_pairs.append(spec)
        else:
            into.readers[spec.slug] = ("count_distinct", [into.add(sa.func.count(sa.distinct(value)))])

    def _where(self, query: _Query) -> _Query:
        return query.where(
            Record.dataset == self.dataset["slug"], Record.occurred_on >= self.start, Record.occurred_on < self.end
        )

    def _stretch(self) -> sa.Label[int]:
        """The number of the stretch a record's date falls in."""
        return sa.case(
            *((Record.occurred_on < change, number) for number, change in enumerate(self.changes)),
            else_=len(self.changes),
        ).label(STRETCH)

    def query(self) -> sa.Select[*tuple[Any, ...]]:
        """(owner id, then each selected aggregate) per owner."""
        return self._where(sa.select(Record.owner_id, *self.own.selected)).group_by(Record.owner_id)

    def team_query(self) -> sa.Select[*tuple[Any, ...]]:
        """(owner id, stretch, then each team aggregate) per owner and stretch."""
        return self._where(sa.select(Record.owner_id, self._stretch(), *self.team.selected)).group_by(
            Record.owner_id, sa.literal_column(STRETCH)
        )

    def pairs_query(self, spec: MetricSpec) -> sa.Select[*tuple[Any, ...]]:
        """The distinct (owner id, value) pairs of a team `count_distinct`; (owner id, stretch,
        value) when the organisation changed inside the window."""
        value = self.columns[spec.field]
        stretch = [self._stretch()] if self.changes else []
        query = self._where(sa.select(Record.owner_id, *stretch, value).distinct())
        if spec.filter is not None:
            query = query.where(spec.filter.to_sql(self.columns))
        return query.where(value.is_not(None))


def compute_metrics(
    session: Session,
    config: Config,
    specs: Mapping[str, MetricSpec],
    slugs: Sequence[str],
    people: People,
    period: Period,
    stats: MetricStats | None = None,
) -> dict[str, Floats]:
    """Each requested metric as a float array aligned with `people` (NaN where there is no value)."""
    stats = stats if stats is not None else MetricStats()
    groups: dict[GroupKey, _Group] = {}
    for slug in slugs:
        spec = specs[slug]
        start, end = period.window(spec.window, spec.months)
        key = (spec.dataset, start, end)
        if key not in groups:
            groups[key] = _Group(config["datasets"][spec.dataset], start, end, people.changes(start, end))
        groups[key].add(spec)

    size = len(people)
    results: dict[str, Floats] = {}
    for group in groups.values():
        began = time.perf_counter()
        table = _table(session, group.query(), group.own, stats)
        positions = people.positions(table[:, 0].astype(np.int64))
        known = positions >= 0
        for slug, (aggregate, columns) in group.own.readers.items():
            if specs[slug].scope == "self":
                own = table[known, columns[0]]
                results[slug] = _spread(own, positions[known], size, aggregate in ZERO_WHEN_EMPTY)
        if group.team.readers:
            # per owner (and stretch, column 1, when the organisation changed inside the window)
            team_table = _table(session, group.team_query(), group.team, stats) if group.changes else table
            first = 2 if group.changes else 1
            for slug, (aggregate, columns) in group.team.readers.items():
                spec = specs[slug]
                if spec.scope == "self":
                    continue
                holders, values = _gather(team_table, first, columns, group, people, spec.scope, aggregate)
                results[slug] = _roll_up(aggregate, holders, values, size)
        for spec in group.distinct_pairs:
            pairs = session.connection().execute(group.pairs_query(spec)).all()
            stats.queries += 1
            results[spec.slug] = _distinct_roll_up(pairs, group, people, spec.scope)
        stats.seconds += time.perf_counter() - began
    return {slug: results[slug] for slug in slugs}


def _table(session: Session, query: sa.Select[*tuple[Any, ...]], columns: _Columns, stats: MetricStats) -> Floats:
    """A grouped query's rows as a float table (None, an aggregate over no values, becomes NaN)."""
    rows: Sequence[Any] = []
    width = len(query.selected_columns)
    if columns.selected:
        # the driver's own tuples straight into numpy: every column is a number, so no
        # per-row result processing is needed, and it cost a third of the query's time
        rows = session.connection().execute(query).cursor.fetchall()
        stats.queries += 1
    return np.array(rows, dtype=np.float64).reshape(len(rows), width)


def _gather(
    table: Floats,
    first: int,
    columns: list[int],
    group: _Group,
    people: People,
    scope: MetricScope,
    aggregate: Aggregate,
) -> tuple[NDArray[np.int64], list[Floats]]:
    """For a team metric, each (holder, member) pair of every stretch of the group's window, with
    the member's value(s) of that stretch: (holder positions, one array per read column)."""
    # a team average is rolled up from sums and counts, both 0 for an owner without records
    empty = 0.0 if aggregate in ZERO_WHEN_EMPTY or aggregate == "avg" else np.nan
    holders: list[NDArray[np.int64]] = []
    values: list[list[Floats]] = [[] for _ in columns]
    for number, (start, end) in enumerate(group.stretches):
        rows = table[table[:, 1] == number] if group.changes else table
        owners = rows[:, 0].astype(np.int64)  # in owner order: the query groups by owner first
        order = np.argsort(owners, kind="stable")
        owners, rows = owners[order], rows[order]
        pair_holders, members, roster = people.memberships(scope, start, end)
        # each employee of the roster's row, looked up once, then spread over their pairs
        found = np.minimum(np.searchsorted(owners, roster), max(len(owners) - 1, 0))
        has_rows = (owners[found] == roster) if len(owners) else np.zeros(len(roster), dtype=bool)
        holders.append(pair_holders)
        for i, c in enumerate(columns):
            value = np.full(len(roster), empty)
            value[has_rows] = rows[found[has_rows], first + c - 1]
            if empty == 0.0:
                value[np.isnan(value)] = 0.0  # SUM over rows whose field is empty
            values[i].append(value[members])
    return np.concatenate(holders), [np.concatenate(parts) for parts in values]


def _spread(column: Floats, positions: NDArray[np.intp], size: int, zero_when_empty: bool) -> Floats:
    out = np.zeros(size) if zero_when_empty else np.full(size, np.nan)
    out[positions] = column
    if zero_when_empty:
        out[np.isnan(out)] = 0.0  # SUM over rows whose field is empty
    return out


def _roll_up(aggregate: Aggregate, holders: NDArray[np.int64], gathered: list[Floats], size: int) -> Floats:
    """Each holder's value from their members' values (`_gather`)."""
    if aggregate in ("count", "sum"):
        out = np.zeros(size)
        np.add.at(out, holders, gathered[0])
        return out
    if aggregate == "avg":
        total, count = np.zeros(size), np.zeros(size)
        np.add.at(total, holders, gathered[0])
        np.add.at(count, holders, gathered[1])
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(count > 0, total / np.where(count > 0, count, 1), np.nan)
    values = gathered[0]
    present = ~np.isnan(values)
    if aggregate == "min":
        out = np.full(size, np.inf)
        np.minimum.at(out, holders[present], values[present])
    else:
        out = np.full(size, -np.inf)
        np.maximum.at(out, holders[present], values[present])
    out[np.isinf(out)] = np.nan
    return out


def _distinct_roll_up(pairs: Iterable[Sequence[Any]], group: _Group, people: People, scope: MetricScope) -> Floats:
    """Each holder's number of distinct values among their members' records: one set per holder,
    so a value seen in two stretches counts once."""
    values_of: dict[tuple[int, int], set[object]] = {}  # (stretch, owner id) → values
    for row in pairs:
        owner_id, stretch, value = (row[0], row[1], row[2]) if group.changes else (row[0], 0, row[1])
        values_of.setdefault((stretch, owner_id), set()).add(value)
    team_values: dict[int, set[object]] = {}
    for number, (start, end) in enumerate(group.stretches):
        holders, members, roster = people.memberships(scope, start, end)
        for holder, member in zip(holders.tolist(), roster[members].tolist()):
            seen = values_of.get((number, member))
            if seen:
                team_values.setdefault(holder, set()).update(seen)
    out = np.zeros(len(people))
    for holder, values in team_values.items():
        out[holder] = len(values)
    return out
