"""Metrics (指标): aggregates of CRM records per employee, computed inside the database.

Every metric of one dataset and one date window comes out of a single grouped query, each metric
a conditional aggregate (`SUM(CASE WHEN filter THEN amount END)`), so the number of queries
depends on the configuration, never on the number of employees. Team and department metrics
are rolled up from the same per-owner partial results with numpy; only a team `count_distinct`
needs its own query (distinct values cannot be added up).
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
from .people import Memberships, People
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


class _Group:
    """The metrics one query computes: one dataset, one date window."""

    def __init__(self, dataset: Document, start: dt.date, end: dt.date):
        self.dataset = dataset
        self.start, self.end = start, end
        self.types = {f["name"]: f["type"] for f in dataset["fields"]}
        self.columns = {name: _field_expression(kind, name) for name, kind in self.types.items()}
        self.selected: list[SqlValue] = []
        #: metric slug → how to read its value(s) from a result row
        self.readers: dict[str, tuple[Aggregate, list[int]]] = {}
        self.distinct_pairs: list[MetricSpec] = []

    def _add(self, expression: SqlValue) -> int:
        self.selected.append(expression)
        return len(self.selected)  # column 0 is the owner

    def add(self, spec: MetricSpec) -> None:
        condition = spec.filter.to_sql(self.columns) if spec.filter is not None else None
        value = self.columns[spec.field] if spec.field else sa.literal(1)
        if condition is not None:
            value = sa.case((condition, value))
        aggregate, team = spec.aggregate, spec.scope != "self"
        if aggregate == "count":
            self.readers[spec.slug] = (
                "count",
                [self._add(sa.func.count(value) if condition is not None or spec.field else sa.func.count())],
            )
        elif aggregate == "sum":
            self.readers[spec.slug] = ("sum", [self._add(sa.func.sum(value))])
        elif aggregate == "avg":
            if team:  # an average over a team is its total over its count, not an average of averages
                self.readers[spec.slug] = ("avg", [self._add(sa.func.sum(value)), self._add(sa.func.count(value))])
            else:
                self.readers[spec.slug] = ("avg", [self._add(sa.func.avg(value))])
        elif aggregate in ("min", "max"):
            function = sa.func.min if aggregate == "min" else sa.func.max
            self.readers[spec.slug] = (aggregate, [self._add(function(value))])
        elif team:
            self.distinct_pairs.append(spec)
        else:
            self.readers[spec.slug] = ("count_distinct", [self._add(sa.func.count(sa.distinct(value)))])

    def _where(self, query: _Query) -> _Query:
        return query.where(
            Record.dataset == self.dataset["slug"], Record.occurred_on >= self.start, Record.occurred_on < self.end
        )

    def query(self) -> sa.Select[*tuple[Any, ...]]:
        """(owner id, then each selected aggregate) per owner."""
        return self._where(sa.select(Record.owner_id, *self.selected)).group_by(Record.owner_id)

    def pairs_query(self, spec: MetricSpec) -> sa.Select[int, Any]:
        """The distinct (owner id, value) pairs of a team `count_distinct`."""
        value = self.columns[spec.field]
        query = self._where(sa.select(Record.owner_id, value).distinct())
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
            groups[key] = _Group(config["datasets"][spec.dataset], start, end)
        groups[key].add(spec)

    size = len(people)
    results: dict[str, Floats] = {}
    for group in groups.values():
        began = time.perf_counter()
        rows: Sequence[Any] = []
        if group.selected:
            # the driver's own tuples straight into numpy: every column is a number, so no
            # per-row result processing is needed, and it cost a third of the query's time
            rows = session.connection().execute(group.query()).cursor.fetchall()
            stats.queries += 1
        # None (an aggregate over no values) becomes NaN
        table = np.array(rows, dtype=np.float64).reshape(len(rows), len(group.selected) + 1)
        positions = people.positions(table[:, 0].astype(np.int64))
        known = positions >= 0
        table, positions = table[known, 1:], positions[known]
        for slug, (aggregate, columns) in group.readers.items():
            spec = specs[slug]
            team = spec.scope != "self"
            # a team average is rolled up from sums and counts, both 0 for an owner without records
            zero_when_empty = aggregate in ZERO_WHEN_EMPTY or (team and aggregate == "avg")
            own = [_spread(table[:, c - 1], positions, size, zero_when_empty) for c in columns]
            results[slug] = _roll_up(aggregate, own, people.memberships(spec.scope), size) if team else own[0]
        for spec in group.distinct_pairs:
            pairs = session.connection().execute(group.pairs_query(spec)).all()
            stats.queries += 1
            results[spec.slug] = _distinct_roll_up(pairs, people, spec.scope)
        stats.seconds += time.perf_counter() - began
    return {slug: results[slug] for slug in slugs}


def _spread(column: Floats, positions: NDArray[np.intp], size: int, zero_when_empty: bool) -> Floats:
    out = np.zeros(size) if zero_when_empty else np.full(size, np.nan)
    out[positions] = column
    if zero_when_empty:
        out[np.isnan(out)] = 0.0  # SUM over rows whose field is empty
    return out


def _roll_up(aggregate: Aggregate, own: list[Floats], pairs: Memberships, size: int) -> Floats:
    holders, members = pairs
    if aggregate in ("count", "sum"):
        out = np.zeros(size)
        np.add.at(out, holders, own[0][members])
        return out
    if aggregate == "avg":
        total, count = np.zeros(size), np.zeros(size)
        np.add.at(total, holders, own[0][members])
        np.add.at(count, holders, own[1][members])
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(count > 0, total / np.where(count > 0, count, 1), np.nan)
    values = own[0][members]
    present = ~np.isnan(values)
    if aggregate == "min":
        out = np.full(size, np.inf)
        np.minimum.at(out, holders[present], values[present])
    else:
        out = np.full(size, -np.inf)
        np.maximum.at(out, holders[present], values[present])
    out[np.isinf(out)] = np.nan
    return out


def _distinct_roll_up(pairs: Iterable[sa.Row[int, Any]], people: People, scope: MetricScope) -> Floats:
    values_of: dict[int, set[object]] = {}
    for owner_id, value in pairs:
        position = people.index.get(owner_id)
        if position is not None:
            values_of.setdefault(position, set()).add(value)
    holders, members = people.memberships(scope)
    team_values: dict[int, set[object]] = {}
    for holder, member in zip(holders.tolist(), members.tolist()):
        if member in values_of:
            team_values.setdefault(holder, set()).update(values_of[member])
    out = np.zeros(len(people))
    for holder, values in team_values.items():
        out[holder] = len(values)
    return out
