"""Whether a preview's employee has data, and who does.

A preview of a metric, a KPI or a template for someone without records in its period shows only
zeros and missing values, which says nothing about the rule being written. The records that
count are those the metrics involved would count — their datasets, filters, date windows and
scopes — worked out as a run works them out (grouped queries over everyone, never one per
employee). When the chosen employee has none, or every value is missing, the preview says so and
suggests up to three people the user may see who do have such records: one grouped query over
the records of the period.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypedDict

import numpy as np
import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..config.validation import Config
from ..data.models import Record
from ..org.access import Visibility
from ..org.models import Department, Employee
from .kpis import KpiPlan
from .metrics import MetricSpec, compute_metrics, record_columns
from .people import People
from .periods import Period
from .shapes import Floats

SUGGESTED = 3


class Suggestion(TypedDict):
    """Someone with data for the preview: their code, name, department and the records that count."""

    employee: str
    name: str
    department: str
    records: int


@dataclasses.dataclass
class DataCheck:
    """Why the employee has no data for the preview (None: they have), and who has."""

    no_data: str | None = None
    suggestions: list[Suggestion] = dataclasses.field(default_factory=list)


def kpi_metrics(plan: KpiPlan, kpi_slugs: Iterable[str]) -> list[str]:
    """The metrics KPIs read in their period, directly or through other KPIs (`kpi.x`)."""
    return sorted(
        {name for slug in plan.closure(kpi_slugs) for name in plan.formulas[slug].names if name in plan.metrics}
    )


def _counting(spec: MetricSpec) -> MetricSpec:
    """The records a metric counts: its filter, window and scope, whatever it aggregates."""
    return dataclasses.replace(spec, slug=f"records:{spec.slug}", aggregate="count", field=None)


def counted_records(
    session: Session,
    config: Config,
    specs: Mapping[str, MetricSpec],
    slugs: Sequence[str],
    people: People,
    period: Period,
) -> Floats:
    """For everyone, the records the metrics `slugs` count (a record two metrics count, twice)."""
    counting = {spec.slug: spec for spec in (_counting(specs[slug]) for slug in slugs)}
    columns = compute_metrics(session, config, counting, list(counting), people, period)
    total: Floats = np.zeros(len(people))
    for column in columns.values():
        total += column
    return total


def _windows(specs: Mapping[str, MetricSpec], slugs: Sequence[str], period: Period) -> list[str]:
    """'deals 2026-10-01 – 2026-10-31' for each dataset and window the metrics read."""
    found: dict[str, None] = {}
    for slug in slugs:
        start, end = period.window(specs[slug].window, specs[slug].months)
        found[f"{specs[slug].dataset} {start.isoformat()} – {(end - dt.timedelta(days=1)).isoformat()}"] = None
    return list(found)


def no_data_reason(
    employee: str,
    period: Period,
    specs: Mapping[str, MetricSpec],
    slugs: Sequence[str],
    records: float,
    every_value_missing: bool,
) -> str | None:
    """Why `employee` has no data (no records count, or every value is missing), or None."""
    if slugs and records == 0:
        return f"no records count for {employee}: {', '.join(_windows(specs, slugs, period))}"
    if every_value_missing:
        return f"every value is missing for {employee} in {period}"
    return None


def suggest(
    session: Session,
    config: Config,
    specs: Mapping[str, MetricSpec],
    slugs: Sequence[str],
    period: Period,
    visible: Visibility,
    except_id: int,
    limit: int = SUGGESTED,
) -> list[Suggestion]:
    """Up to `limit` active employees `visible` allows, other than `except_id`, with the most own
    records that the metrics `slugs` count in `period`: one grouped query."""
    conditions: dict[tuple[str, dt.date, dt.date, str], sa.ColumnElement[bool]] = {}
    for slug in slugs:
        spec = specs[slug]
        start, end = period.window(spec.window, spec.months)
        key = (spec.dataset, start, end, spec.filter.text if spec.filter is not None else "")
        if key in conditions:
            continue
        parts: list[sa.ColumnElement[Any]] = [
            Record.dataset == spec.dataset,
            Record.occurred_on >= start,
            Record.occurred_on < end,
        ]
        if spec.filter is not None:
            parts.append(spec.filter.to_sql(record_columns(config["datasets"][spec.dataset])))
        conditions[key] = sa.and_(*parts)
    if not conditions:
        return []
    records = sa.func.count(Record.id).label("records")
    query = (
        sa.select(Employee.code, Employee.name, Department.code, records)
        .join(Employee, Employee.id == Record.owner_id)
        .join(Department, Department.id == Employee.department_id)
        .where(
            sa.or_(*conditions.values()),
            Employee.active.is_(True),
            Employee.id != except_id,
            visible.condition(Employee.department_id, Employee.id),
        )
        .group_by(Employee.id, Employee.code, Employee.name, Department.code)
        .order_by(records.desc(), Employee.code)
        .limit(limit)
    )
    return [
        {"employee": code, "name": name, "department": department, "records": int(count)}
        for code, name, department, count in session.execute(query)
    ]


def check_data(
    session: Session,
    config: Config,
    specs: Mapping[str, MetricSpec],
    slugs: Sequence[str],
    people: People,
    position: int,
    period: Period,
    every_value_missing: bool,
    visible: Visibility | None,
) -> DataCheck:
    """Whether the employee at `position` has data for metrics `slugs` (or, without metrics, any
    value); if not, why, and who has (among those `visible` allows; nobody when it is None)."""
    records = float(counted_records(session, config, specs, slugs, people, period)[position]) if slugs else 0.0
    reason = no_data_reason(people.codes[position], period, specs, slugs, records, every_value_missing)
    if reason is None:
        return DataCheck()
    found = (
        suggest(session, config, specs, slugs, period, visible, int(people.ids[position]))
        if visible is not None
        else []
    )
    return DataCheck(reason, found)
