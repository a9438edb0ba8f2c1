"""The shapes of what the engine computes and stores: the numpy columns it works with, the JSON it
writes on runs and scorecards, and the configuration documents it reads."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, NotRequired, TypeAlias, TypedDict, cast

import numpy as np
from numpy.typing import NDArray

from ..formula import ColumnResult

# --- columns: index i of every array is the i-th employee of `People` (or of those being scored) ---

#: numbers, NaN where there is no value
Floats: TypeAlias = NDArray[np.float64]
#: one true/false per row
Flags: TypeAlias = NDArray[np.bool_]
#: text or true/false values of employee attributes, None where there is none
Texts: TypeAlias = NDArray[np.object_]
#: indexes into the `People` arrays
Positions: TypeAlias = NDArray[np.int64]
#: a named input of the formulas: numbers, or an attribute's text or true/false values
Column: TypeAlias = Floats | Texts
#: one value of a column as plain Python, as a trace shows it
PlainValue: TypeAlias = float | bool | str | None


def number_values(result: ColumnResult) -> Floats:
    """The values of a formula compiled with `expect=NUMBER` (KPIs, scoring rules)."""
    # ColumnResult.values is float64 for a number formula and bool for a condition; these are numbers
    return cast(Floats, result.values)


# --- configuration ------------------------------------------------------------------------------

#: one configuration document (`Config[kind][slug]`), or a part of one (a section, an item, a band,
#: a scoring rule): validated YAML, read by key
Document: TypeAlias = dict[str, Any]
#: a configuration label: `{zh: …, en: …}`
Label: TypeAlias = Mapping[str, str]

#: whose records a metric counts: the employee's own, their team's (them and everyone reporting to
#: them), or their department's (and the departments below it)
MetricScope: TypeAlias = Literal["self", "team", "department"]
#: what an item without a value gives: 0 points, its weight to the others, or no total
MissingPolicy: TypeAlias = Literal["zero", "exclude", "fail"]
#: whether more is better
Direction: TypeAlias = Literal["higher", "lower"]
#: the type of an employee attribute (`employee_attributes`)
AttributeType: TypeAlias = Literal["number", "text", "boolean"]
ItemKind: TypeAlias = Literal["kpi", "manual"]

# --- the JSON of scorecards and runs --------------------------------------------------------------


class ItemTrace(TypedDict):
    """One item of a stored scorecard: what is particular to the employee. Keys at their defaults
    (`export.ITEM_DEFAULTS`) are left out."""

    key: str
    value: float | None
    score: float | None
    #: the item's weight in the total, in percent
    weight: float
    points: float | None
    #: KPI items: the formula's inputs by name
    inputs: NotRequired[dict[str, PlainValue]]
    target: NotRequired[float]
    #: how the target was found (see `targets`)
    target_source: NotRequired[str]
    error: NotRequired[str]
    excluded: NotRequired[bool]
    notes: NotRequired[list[str]]


RunStatus: TypeAlias = Literal["running", "succeeded", "failed"]


class RunScopeExtra(TypedDict, total=False):
    """What a caller adds to a run's scope."""

    #: the schedule whose scope a console run evaluates
    schedule: str
    #: when a scheduled run was due (ISO 8601)
    fired_at: str


class RunScope(RunScopeExtra):
    """What a run was asked to cover."""

    templates: list[str]
    department: str | None


class RunErrorEntry(TypedDict):
    """A failed item or employee of a run (neither, for a warning about the whole run)."""

    employee: str | None
    item: str | None
    message: str


#: why an active employee in a run's scope got no scorecard: no template applies to their department
#: and role, or two or more apply equally (the run cannot tell which one is meant)
LeftOutReason: TypeAlias = Literal["no_template", "ambiguous"]


class LeftOutEntry(TypedDict):
    """An employee a run left out, with their department and role as the run saw them."""

    employee: str
    employee_id: int
    name: str
    #: department code
    department: str
    #: role code, None without a role
    role: str | None
    reason: LeftOutReason
    #: the templates that apply equally (reason `ambiguous`); empty otherwise
    templates: list[str]


#: counts by name: the evaluation's (employees, scorecards, failed, other_cycle, without_template,
#: ambiguous, queries), the write's (skipped_locked), and whatever the run's listeners count
#: (`events`), which the engine does not know
RunCounts: TypeAlias = dict[str, int]
#: seconds by step: aggregate, evaluate, total, and once written, write and reviews
RunTimings: TypeAlias = dict[str, float]
