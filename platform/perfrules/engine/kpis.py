"""KPIs for one period: every input they name, gathered as columns, and their formulas evaluated
over all employees at once, in dependency order.

Names a KPI formula may use: metric slugs, `target.X` (a metric's or KPI's target), `prev.X` (the
value of metric or KPI X in the previous period), `kpi.X` (another KPI this period) and
`employee.*` attributes. `prev.X` is worked out one level deep: inside the previous period's
evaluation, `prev.*` names have no value.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from sqlalchemy.orm import Session

from ..config.validation import Config, kpi_names
from ..formula import NUMBER, ColumnResult, CompiledFormula, FunctionRegistry, compile_formula
from .metrics import MetricSpec, MetricStats, compute_metrics, metric_specs
from .people import People
from .periods import Period
from .shapes import AttributeType, Column, Document, Floats, Texts, number_values
from .targets import PreviousValues, Resolved, TargetBook


class PlanError(ValueError):
    """The configuration cannot be evaluated as it stands."""


class KpiPlan:
    """A configuration's metrics and KPI formulas, compiled once for any number of periods."""

    def __init__(self, config: Config, functions: FunctionRegistry):
        self.config = config
        self.metrics: dict[str, MetricSpec] = metric_specs(config, functions)
        catalogue = kpi_names(config)
        self.kpis: dict[str, Document] = config.get("kpis", {})
        self.formulas: dict[str, CompiledFormula] = {
            slug: compile_formula(kpi["formula"], catalogue, functions=functions, expect=NUMBER)
            for slug, kpi in self.kpis.items()
        }
        #: `employee.<slug>` → the attribute's type: number, text or boolean
        self.attribute_types: dict[str, AttributeType] = {
            f"employee.{slug}": a["type"] for slug, a in config.get("employee_attributes", {}).items()
        }

    def closure(self, slugs: Iterable[str]) -> list[str]:
        """The KPIs `slugs` need, dependencies first."""
        order: list[str] = []
        state: dict[str, Literal["open", "done"]] = {}
        for start in slugs:
            stack = [(start, False)]
            while stack:
                slug, expanded = stack.pop()
                if expanded:
                    state[slug] = "done"
                    order.append(slug)
                    continue
                if state.get(slug) == "done":
                    continue
                if state.get(slug) == "open":
                    raise PlanError(f"KPIs depend on each other in a cycle through kpi.{slug}")
                if slug not in self.formulas:
                    raise PlanError(f"unknown KPI '{slug}'")
                state[slug] = "open"
                stack.append((slug, True))
                for name in self.formulas[slug].names:
                    if name.startswith("kpi.") and state.get(name[4:]) != "done":
                        stack.append((name[4:], False))
        return order


@dataclass
class PeriodValues:
    """Everything evaluated for one period, aligned with `people`."""

    period: Period
    #: every name the formulas read: metrics, targets, `prev.*`, `kpi.*` and `employee.*`
    columns: dict[str, Column] = field(default_factory=dict)
    #: per target name, where each employee's value came from
    target_sources: dict[str, list[str | None]] = field(default_factory=dict)
    kpis: dict[str, ColumnResult] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


@dataclass
class Timings:
    aggregate: float = 0.0
    evaluate: float = 0.0
    queries: int = 0


def evaluate_period(
    session: Session,
    plan: KpiPlan,
    people: People,
    period: Period,
    kpi_slugs: Sequence[str],
    timings: Timings | None = None,
    depth: int = 0,
) -> PeriodValues:
    timings = timings if timings is not None else Timings()
    order = plan.closure(kpi_slugs)
    book = TargetBook(plan.config, people)
    # a KPI's own target is shown next to it even when its formula does not name it
    own_targets = {f"target.{slug}" for slug in order if slug in book.entries}
    names = sorted({name for slug in order for name in plan.formulas[slug].names} | own_targets)
    result = PeriodValues(period)
    metrics = [n for n in names if n in plan.metrics]
    stats = MetricStats()
    result.columns.update(compute_metrics(session, plan.config, plan.metrics, metrics, people, period, stats))
    timings.aggregate += stats.seconds
    timings.queries += stats.queries

    previous: PeriodValues | None = None
    prev_names = [n[5:] for n in names if n.startswith("prev.")]
    split_by_share = any(
        e.get("split") == "last_share" for t in plan.config.get("targets", {}).values() for e in t["entries"]
    )
    if depth == 0 and (prev_names or split_by_share):
        wanted_metrics = [n for n in prev_names if n in plan.metrics]
        if split_by_share:
            wanted_metrics += [
                e["name"]
                for t in plan.config.get("targets", {}).values()
                for e in t["entries"]
                if e.get("split") == "last_share" and e["name"] in plan.metrics
            ]
        previous = PeriodValues(period.previous())
        stats = MetricStats()
        previous.columns.update(
            compute_metrics(
                session, plan.config, plan.metrics, sorted(set(wanted_metrics)), people, period.previous(), stats
            )
        )
        timings.aggregate += stats.seconds
        timings.queries += stats.queries
        prev_kpis = [n for n in prev_names if n in plan.formulas]
        if prev_kpis:
            earlier = evaluate_period(session, plan, people, period.previous(), prev_kpis, timings, depth + 1)
            previous.kpis.update(earlier.kpis)

    began = time.perf_counter()
    last_values: PreviousValues | None = (lambda name: previous.columns.get(name)) if previous is not None else None
    size = len(people)
    for name in names:
        if name.startswith("target."):
            resolved: Resolved = book.resolve(name[7:], period, last_values)
            result.columns[name] = resolved.values
            result.target_sources[name] = resolved.sources
        elif name.startswith("prev."):
            slug = name[5:]
            if previous is None:  # one level deep only
                result.columns[name] = np.full(size, np.nan)
            elif slug in plan.metrics:
                result.columns[name] = previous.columns[slug]
            else:
                result.columns[name] = number_values(previous.kpis[slug])
        elif name == "employee.tenure_months":
            result.columns[name] = people.tenure_months(period.end)
        elif name.startswith("employee."):
            result.columns[name] = _attribute_column(people, name[9:], plan.attribute_types[name])
    result.warnings.extend(book.warnings)
    for slug in order:
        formula = plan.formulas[slug]
        for name in formula.names:
            if name.startswith("kpi."):
                result.columns[name] = number_values(result.kpis[name[4:]])
        result.kpis[slug] = formula.evaluate_columns({n: result.columns[n] for n in formula.names}, size)
    timings.evaluate += time.perf_counter() - began
    return result


def _attribute_column(people: People, slug: str, kind: AttributeType) -> Floats | Texts:
    raw = [attributes.get(slug) for attributes in people.attributes]
    if kind == "number":
        return np.array(
            [float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else np.nan for v in raw],
            dtype=np.float64,
        )
    column: Texts = np.empty(len(raw), dtype=object)
    column[:] = [v if (isinstance(v, bool) if kind == "boolean" else isinstance(v, str)) else None for v in raw]
    return column
