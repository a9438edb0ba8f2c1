"""A KPI worked out for one employee and one period, with its trace, written nowhere.

The formula editor's preview: the KPI is evaluated exactly as a run evaluates it (metrics
aggregated in the database for the whole organisation, so team and department scopes and
target splits come out as in a run; the formula over every employee at once), and the one
employee's row is taken out with its inputs, target, score and notes. The missing-data policy is
applied as on a scorecard, so the notes read the same. When the employee has no data for it,
the preview says why and suggests people who have (`preview_data`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from ..config.validation import Config
from ..formula import FunctionRegistry
from ..org.access import Visibility
from .kpis import KpiPlan, evaluate_period
from .metrics import describe_metric
from .people import People
from .periods import Period
from .preview_data import Suggestion, check_data, kpi_metrics
from .scorecards import ScoreBook, _policy_note
from .scoring import Scorer
from .shapes import MissingPolicy, PlainValue


class PreviewError(LookupError):
    """The employee cannot be previewed (not an active employee)."""


@dataclass
class KpiPreview:
    kpi: str
    employee: str
    name: str
    department: str
    period: str
    formula: str
    value: float | None
    target: float | None
    target_source: str | None
    #: the formula's inputs by name, with this employee's values
    inputs: dict[str, PlainValue]
    #: what each metric among the inputs counts: `sum(deals.amount) where status == 'won'`
    metrics: dict[str, str]
    score: float | None
    scoring: str
    policy: MissingPolicy
    excluded: bool = False
    error: str | None = None
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    #: why the employee has no data for the KPI (None: they have), and people who have
    no_data: str | None = None
    suggestions: list[Suggestion] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _number(value: float) -> float | None:
    """A value of a number column (np.float64): None for NaN."""
    return None if math.isnan(value) else float(value)


def _plain(value: PlainValue) -> PlainValue:
    if value is None:
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (float, np.floating)) and math.isnan(value):
        return None
    return float(value) if isinstance(value, (int, float, np.number)) else value


def preview_kpi(
    session: Session,
    config: Config,
    functions: FunctionRegistry,
    slug: str,
    employee_code: str,
    period: Period,
    visible: Visibility | None = None,
) -> KpiPreview:
    """KPI `slug` of `config` for one employee; the configuration must be valid (checked). People
    with data are suggested among those `visible` allows (nobody without it)."""
    plan = KpiPlan(config, functions)
    people = People.load(session, period)
    position = people.position_of(employee_code)
    if position is None:
        raise PreviewError(f"no active employee '{employee_code}'")
    values = evaluate_period(session, plan, people, period, [slug])
    book = ScoreBook(plan, functions, values)
    columns = book.kpi(slug)
    kpi = plan.kpis[slug]
    policy = kpi.get("missing", "zero")

    value = _number(columns.values[position])
    points = _number(columns.points[position])
    notes = list(columns.notes.get(position, []))
    error = columns.errors.get(position)
    if error is None and position in columns.scoring_errors:
        error = f"scoring: {columns.scoring_errors[position]}"
    excluded = False
    if error is None and points is None:
        why = "no value"
        if value is not None:
            why = "the scoring rule gave no points"
        elif notes:
            why = notes.pop()
        if policy == "fail":
            error = f"{why} (missing-data policy: fail)"
        else:
            notes.append(_policy_note(policy, why))
            if policy == "zero":
                points = 0.0
            else:
                excluded = True
    if error is not None:
        points = None

    inputs = {name: _plain(v) for name, v in book.inputs(slug, np.array([position], dtype=np.int64))[0].items()}
    metrics = config.get("metrics", {})
    described = {}
    for name in inputs:
        base = name.split(".", 1)[1] if name.startswith(("prev.", "target.")) else name
        if base in metrics and base not in described:
            described[base] = describe_metric(metrics[base])
    metric_inputs = kpi_metrics(plan, [slug])
    data = check_data(
        session,
        config,
        plan.metrics,
        metric_inputs,
        people,
        position,
        period,
        value is None and all(v is None for name, v in inputs.items() if not name.startswith("target.")),
        visible,
    )
    sources = columns.target_sources
    department_id = int(people.department_ids[position])
    return KpiPreview(
        kpi=slug,
        employee=employee_code,
        name=people.names[position],
        department=people.department_code(department_id),
        period=str(period),
        formula=kpi["formula"],
        value=value,
        target=_number(columns.targets[position]),
        target_source=sources[position] if sources is not None else None,
        inputs=inputs,
        metrics=described,
        score=points,
        scoring=Scorer.describe_rule(kpi["scoring"]),
        policy=policy,
        excluded=excluded,
        error=error,
        notes=notes,
        warnings=[w for w in values.warnings if employee_code in w],
        no_data=data.no_data,
        suggestions=data.suggestions,
    )
