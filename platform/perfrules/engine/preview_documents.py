"""A metric and a template, as they are being edited, worked out for one employee and one period,
written nowhere.

Both are computed exactly as a run computes them: the metric aggregated in the database for the
whole organisation (so team and department scopes come out as in a run), the template's KPIs
over everyone at once and the template scored for the one employee with the run's weights,
missing-data policies and grades, each item's trace told in plain words as on a scorecard
(`engine.explain`). The configuration given must be valid (checked) and hold the edited document.
When the employee has no data for it, the preview says why and suggests people who have
(`preview_data`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from typing import Any, cast

import numpy as np
import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..config.validation import Config
from ..formula import FunctionRegistry
from ..org.access import Visibility
from .explain import TemplateRules, Translate, english, explain_item
from .export import ITEM_DEFAULTS, ScorecardItem
from .kpis import KpiPlan, evaluate_period
from .metrics import compute_metrics, describe_metric, metric_specs
from .models import ManualValue
from .people import People
from .periods import Period
from .preview import PreviewError
from .preview_data import Suggestion, check_data, counted_records, kpi_metrics, no_data_reason, suggest
from .scorecards import ScoreBook, item_definitions, score_template
from .shapes import Document
from .templates import assign_templates, tie_message

#: what an aggregate gives, in words, of a field
_AGGREGATES = {
    "count": "the number of",
    "sum": "the sum of {field} over",
    "avg": "the average {field} over",
    "min": "the lowest {field} among",
    "max": "the highest {field} among",
    "count_distinct": "the number of different {field} values among",
}
_SCOPES = {
    "self": "of {employee}",
    "team": "of {employee} and everyone reporting to them",
    "department": "of everyone in {employee}'s department ({department}) and the departments below it",
}


def _subject(people: People, employee_code: str) -> int:
    position = people.position_of(employee_code)
    if position is None:
        raise PreviewError(f"no active employee '{employee_code}'")
    return position


def _number(value: float) -> float | None:
    return None if math.isnan(value) else float(value)


@dataclasses.dataclass
class MetricPreview:
    metric: str
    employee: str
    name: str
    department: str
    period: str
    #: `sum(deals.amount) where status == 'won'` (`describe_metric`)
    description: str
    #: what was counted, in a sentence: the aggregate, the records, whose, which days, the filter
    counted: str
    value: float | None
    #: the records the metric counted: its filter, window and scope
    records: int
    #: the days it counted, first and last (ISO dates)
    start: str
    end: str
    scope: str
    no_data: str | None = None
    suggestions: list[Suggestion] = dataclasses.field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def preview_metric(
    session: Session,
    config: Config,
    functions: FunctionRegistry,
    slug: str,
    employee_code: str,
    period: Period,
    visible: Visibility | None = None,
) -> MetricPreview:
    """Metric `slug` of `config` for one employee, with the records it counted."""
    metric = config["metrics"][slug]
    people = People.load(session, period)
    position = _subject(people, employee_code)
    specs = metric_specs({"datasets": config["datasets"], "metrics": {slug: metric}}, functions)
    value = _number(compute_metrics(session, config, specs, [slug], people, period)[slug][position])
    records = int(counted_records(session, config, specs, [slug], people, period)[position])
    spec = specs[slug]
    start, end = period.window(spec.window, spec.months)
    last = end - dt.timedelta(days=1)
    department = people.department_code(int(people.department_ids[position]))
    counted = (
        _AGGREGATES[spec.aggregate].format(field=spec.field)
        + f" the {records} {spec.dataset} record{'s' if records != 1 else ''} "
        + _SCOPES[spec.scope].format(employee=employee_code, department=department)
        + f" dated {start.isoformat()} to {last.isoformat()}"
        + (f" where {metric['filter']}" if metric.get("filter") else "")
    )
    reason = no_data_reason(employee_code, period, specs, [slug], records, value is None)
    found: list[Suggestion] = []
    if reason is not None and visible is not None:
        found = suggest(session, config, specs, [slug], period, visible, int(people.ids[position]))
    return MetricPreview(
        metric=slug,
        employee=employee_code,
        name=people.names[position],
        department=department,
        period=str(period),
        description=describe_metric(metric),
        counted=counted,
        value=value,
        records=records,
        start=start.isoformat(),
        end=last.isoformat(),
        scope=spec.scope,
        no_data=reason,
        suggestions=found,
    )


@dataclasses.dataclass
class TemplatePreview:
    template: str
    employee: str
    name: str
    department: str
    period: str
    total: float | None
    grade: str | None
    error: str | None
    #: each item: its trace and definition explained (`explain_item`), with its inputs and target
    items: list[dict[str, Any]]
    #: the template applies to the employee (by department and role), in the draft as edited
    applies: bool
    #: the template the employee is assessed on instead, when another applies
    assigned: str | None
    notes: list[str] = dataclasses.field(default_factory=list)
    warnings: list[str] = dataclasses.field(default_factory=list)
    no_data: str | None = None
    suggestions: list[Suggestion] = dataclasses.field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def preview_template(
    session: Session,
    config: Config,
    functions: FunctionRegistry,
    slug: str,
    employee_code: str,
    period: Period,
    visible: Visibility | None = None,
    lang: str = "en",
    translate: Translate = english,
) -> TemplatePreview:
    """Template `slug` of `config` scored for one employee, whether or not it applies to them;
    each item explained in `lang` ("zh" or "en") through `translate`."""
    template: Document = config["templates"][slug]
    plan = KpiPlan(config, functions)
    people = People.load(session, period)
    position = _subject(people, employee_code)
    employee_id = int(people.ids[position])
    kpi_slugs = sorted({item["kpi"] for s in template["sections"] for item in s["items"] if item.get("kpi")})
    values = evaluate_period(session, plan, people, period, kpi_slugs)
    manual = {
        (employee_id, item): value
        for item, value in session.execute(
            sa.select(ManualValue.item, ManualValue.value).where(
                ManualValue.period == str(period), ManualValue.employee_id == employee_id
            )
        )
    }
    card = score_template(
        template, np.array([position], dtype=np.int64), people, ScoreBook(plan, functions, values), manual
    )[0]

    definitions = item_definitions(config, slug)
    rules = TemplateRules.from_snapshot(config, slug)
    items: list[dict[str, Any]] = []
    for trace in card.items:
        entry = cast(ScorecardItem, {**ITEM_DEFAULTS, "notes": [], **trace, **definitions.get(trace["key"], {})})
        explained = explain_item(entry, rules, lang, translate)
        items.append({**explained, "inputs": trace.get("inputs", {}), "target": trace.get("target")})

    notes = list(card.notes)
    assigned, ties = assign_templates(config, people, period.cycle)
    applies = assigned[position] == slug
    if position in ties:
        notes.append(tie_message(ties[position]))
    elif assigned[position] is None:
        notes.append(f"no template applies to {employee_code}; this one would not score them in a run")
    elif not applies:
        notes.append(f"{employee_code} is assessed on template '{assigned[position]}', not this one")
    if template.get("cycles") and period.cycle not in template["cycles"]:
        notes.append(f"the template is not evaluated in {period.cycle} periods ({', '.join(template['cycles'])})")

    data = check_data(
        session,
        config,
        plan.metrics,
        kpi_metrics(plan, kpi_slugs),
        people,
        position,
        period,
        all(item["value"] is None for item in card.items),
        visible,
    )
    return TemplatePreview(
        template=slug,
        employee=employee_code,
        name=people.names[position],
        department=people.department_code(int(people.department_ids[position])),
        period=str(period),
        total=card.total,
        grade=card.grade,
        error=card.error,
        items=items,
        applies=applies,
        assigned=assigned[position] if not applies else None,
        notes=notes,
        warnings=[w for w in values.warnings if employee_code in w],
        no_data=data.no_data,
        suggestions=data.suggestions,
    )
