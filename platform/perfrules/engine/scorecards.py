"""Scorecards (绩效考核表): each employee's items scored, weighted and explained, with a total,
a grade and ranks.

An item's weight in the total is its section's share of the sections times its share of its
section's items, in percent. Items excluded for missing data (policy `exclude`) give their weight
to the rest of their section; a section with every item excluded gives its weight to the other
sections. An item's points are its score × its weight / 100, and the total is the sum of points.

A failing item (an error, or missing data under policy `fail`) keeps its trace, and the
scorecard gets no total or grade: a total without one of its items would mislead.

The stored trace holds what is particular to the employee (inputs, value, target, score, weight,
points, notes), leaving out keys at their defaults (`export.ITEM_DEFAULTS`). What the
configuration says of an item (section, label, formula, metrics, scoring rule, policy) is the same
for everyone on a version, which is immutable: `item_definitions` adds it when shown.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal, Protocol, TypeAlias, TypedDict, cast

import numpy as np
from numpy.typing import NDArray

from ..config.validation import Config
from ..formula import FunctionRegistry
from .kpis import KpiPlan, PeriodValues
from .metrics import describe_metric
from .people import People
from .scoring import Scorer
from .shapes import (
    Direction,
    Document,
    Flags,
    Floats,
    ItemKind,
    ItemTrace,
    Label,
    MissingPolicy,
    PlainValue,
    Positions,
    number_values,
)

MANUAL_DEFAULT_POLICY: MissingPolicy = "exclude"
#: (employee id, manual item) → its value
ManualValues: TypeAlias = Mapping[tuple[int, str], float]


@dataclass
class ScorecardResult:
    position: int
    employee_id: int
    employee: str
    department_id: int
    template: str
    items: list[ItemTrace]
    total: float | None = None
    grade: str | None = None
    error: str | None = None
    rank_department: int | None = None
    rank_company: int | None = None
    notes: list[str] = field(default_factory=list)


def _by_row(pairs: list[tuple[str, Flags]]) -> dict[int, list[str]]:
    rows: dict[int, list[str]] = {}
    for message, mask in pairs:
        for position in np.flatnonzero(mask).tolist():
            found = rows.setdefault(position, [])
            if message not in found:
                found.append(message)
    return rows


def _plain(values: NDArray[Any]) -> list[PlainValue]:
    """Python values with None for NaN, for traces."""
    if values.dtype.kind == "f":
        return [None if v != v else v for v in values.tolist()]
    return [bool(v) if isinstance(v, np.bool_) else v for v in values.tolist()]


def _numbers(values: Floats) -> list[float | None]:
    """Numbers with None for NaN, for traces (`_plain` of a float column)."""
    return [None if v != v else v for v in values.tolist()]


@dataclass
class KpiColumns:
    """One KPI's results for every employee."""

    names: tuple[str, ...]
    values: Floats
    #: position → the error that stopped the row / the scoring rule
    errors: dict[int, str]
    scoring_errors: dict[int, str | None]
    notes: dict[int, list[str]]
    targets: Floats
    #: position → how its target was found (None: no target, or the KPI is measured against none)
    target_sources: list[str | None] | None
    points: Floats


class ScoreBook:
    """Scores of every KPI the templates use, for every employee, computed once per run."""

    def __init__(self, plan: KpiPlan, functions: FunctionRegistry, values: PeriodValues):
        self.plan = plan
        self.values = values
        self.functions = functions
        self._kpis: dict[str, KpiColumns] = {}

    def target_name(self, slug: str) -> str | None:
        """The target an item is measured against: the KPI's own, else the one its formula names."""
        own = f"target.{slug}"
        if own in self.values.columns:
            return own
        named = [n for n in self.plan.formulas[slug].names if n.startswith("target.")]
        return named[0] if len(named) == 1 else None

    def inputs(self, slug: str, positions: Positions) -> list[dict[str, PlainValue]]:
        """For each position, the KPI's inputs by name."""
        names = self.kpi(slug).names
        columns = [_plain(self.values.columns[name][positions]) for name in names]
        if len(names) == 1:  # the common cases, without zip's per-row work
            (first,), (values,) = names, columns
            return [{first: value} for value in values]
        if len(names) == 2:
            (first, second), (firsts, seconds) = names, columns
            return [{first: a, second: b} for a, b in zip(firsts, seconds)]
        return [dict(zip(names, row)) for row in zip(*columns)] if names else [{} for _ in positions]

    def kpi(self, slug: str) -> KpiColumns:
        if slug not in self._kpis:
            result = self.values.kpis[slug]
            target_name = self.target_name(slug)
            values = number_values(result)
            # target columns are numbers (`TargetBook.resolve`), not attributes' text
            targets = cast(Floats, self.values.columns[target_name]) if target_name else np.full(len(result), np.nan)
            points, scoring_failed, reasons = Scorer(self.plan.kpis[slug]["scoring"], self.functions).score(
                values, targets
            )
            errors: dict[int, str] = {}
            for message, mask in result.reasons:
                for position in np.flatnonzero(mask).tolist():
                    errors.setdefault(position, message)
            self._kpis[slug] = KpiColumns(
                self.plan.formulas[slug].names,
                values,
                errors,
                {p: reasons[p] for p in np.flatnonzero(scoring_failed).tolist()},
                _by_row(result.notes),
                targets,
                self.values.target_sources.get(target_name) if target_name else None,
                points,
            )
        return self._kpis[slug]


@dataclass
class _KpiItem:
    """What a KPI item adds: the KPI's columns, and per employee scored the inputs by name and the
    target."""

    columns: KpiColumns
    inputs: list[dict[str, PlainValue]]
    targets: list[float | None]


@dataclass
class _Item:
    """One template item over the employees being scored, as arrays."""

    key: str
    kind: ItemKind
    section_index: int
    weight: float
    policy: MissingPolicy
    value: Floats
    score: Floats
    #: no value (or no points), so the policy decides
    lacking: Flags
    failed: Flags
    why: str
    #: KPI items only
    kpi: _KpiItem | None = None


def _items(
    template: Document, positions: Positions, people: People, book: ScoreBook, manual: ManualValues
) -> list[_Item]:
    items: list[_Item] = []
    for index, section in enumerate(template["sections"]):
        for item in section["items"]:
            if item.get("kpi"):
                kpi = book.kpi(item["kpi"])
                value = kpi.values[positions]
                points = kpi.points[positions]
                failed = (
                    np.array([p in kpi.errors or p in kpi.scoring_errors for p in positions.tolist()], dtype=bool)
                    if kpi.errors or kpi.scoring_errors
                    else np.zeros(len(positions), dtype=bool)
                )
                policy = item.get("missing") or book.plan.kpis[item["kpi"]].get("missing", "zero")
                items.append(
                    _Item(
                        item["kpi"],
                        "kpi",
                        index,
                        item["weight"],
                        policy,
                        value,
                        points,
                        np.isnan(points) & ~failed,
                        failed,
                        "no value",
                        _KpiItem(kpi, book.inputs(item["kpi"], positions), _numbers(kpi.targets[positions])),
                    )
                )
            else:
                ids = people.ids[positions].tolist()
                value = np.array([manual.get((i, item["manual"]), np.nan) for i in ids], dtype=np.float64)
                items.append(
                    _Item(
                        item["manual"],
                        "manual",
                        index,
                        item["weight"],
                        item.get("missing") or MANUAL_DEFAULT_POLICY,
                        value,
                        value.copy(),
                        np.isnan(value),
                        np.zeros(len(positions), dtype=bool),
                        "no rating yet",
                    )
                )
    return items


def score_template(
    template: Document, positions: Positions, people: People, book: ScoreBook, manual: ManualValues
) -> list[ScorecardResult]:
    """Scorecards of everyone on one template: weights, points and totals worked out as arrays,
    then each item's trace written out."""
    size = len(positions)
    items = _items(template, positions, people, book, manual)
    scores = np.column_stack([item.score for item in items])
    excluded = np.column_stack([item.lacking & (item.policy == "exclude") for item in items])
    failed = np.column_stack([item.failed | (item.lacking & (item.policy == "fail")) for item in items])
    for column, item in enumerate(items):
        if item.policy == "zero":
            scores[item.lacking, column] = 0.0

    weights = np.zeros((size, len(items)))
    section_weights = np.zeros((size, len(template["sections"])))
    for index, section in enumerate(template["sections"]):
        columns = [c for c, item in enumerate(items) if item.section_index == index]
        counted = ~excluded[:, columns] * np.array([items[c].weight for c in columns])
        total = counted.sum(axis=1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            weights[:, columns] = np.where(total > 0, counted / total, 0.0)
        section_weights[:, index] = np.where(total[:, 0] > 0, section["weight"], 0.0)
    section_total = section_weights.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        section_share = np.where(section_total[:, None] > 0, section_weights / section_total[:, None], 0.0)
    for column, item in enumerate(items):
        weights[:, column] *= 100.0 * section_share[:, item.section_index]
    points = scores * weights / 100.0
    points[excluded] = np.nan
    # summed in item order, exactly as anyone adding up the items' points would
    totals: list[float] = np.nansum(points, axis=1).tolist()

    # each item's trace for everyone at once; then scorecards take one entry from every item
    traces = [
        _entries(item, positions, scores[:, c], weights[:, c], points[:, c], excluded[:, c])
        for c, item in enumerate(items)
    ]
    slug = template["slug"]
    failed_rows: list[bool] = np.any(failed, axis=1).tolist()
    counted_rows: list[bool] = (section_total > 0).tolist()
    grades = _grades(template["grades"], np.array(totals))
    cards: list[ScorecardResult] = []
    for row, (position, employee_id, code, department_id) in enumerate(
        zip(
            positions.tolist(),
            people.ids[positions].tolist(),
            [people.codes[p] for p in positions.tolist()],
            people.department_ids[positions].tolist(),
        )
    ):
        entries = [trace[row] for trace in traces]
        card = ScorecardResult(position, employee_id, code, department_id, slug, entries)
        if failed_rows[row]:
            card.error = "; ".join(f"{e['key']}: {e['error']}" for e in entries if e.get("error"))
        elif not counted_rows[row]:
            card.error = "every item was excluded for missing data"
        else:
            card.total = totals[row]
            card.grade = grades[row]
            if card.grade is None:
                card.notes.append("the total is below every grade band")
        cards.append(card)
    return cards


def _grades(bands: list[Document], totals: Floats) -> list[str | None]:
    """Each total's grade: the first band (highest minimum first) whose minimum it reaches."""
    reached = totals[:, None] >= np.array([band["min"] for band in bands])[None, :]
    first = reached.argmax(axis=1)
    return [bands[i]["grade"] if ok else None for i, ok in zip(first.tolist(), np.any(reached, axis=1).tolist())]


def _entries(
    item: _Item,
    positions: Positions,
    scores: Floats,
    weights: Floats,
    points: Floats,
    excluded: Flags,
) -> list[ItemTrace]:
    """One item's trace entry for every employee scored."""
    key = item.key
    values = _numbers(item.value)
    columns = zip(values, _numbers(scores), weights.tolist(), _numbers(points))
    entries: list[ItemTrace]
    if item.kpi is not None:
        entries = [
            {"key": key, "value": value, "score": score, "weight": weight, "points": point, "inputs": inputs}
            for (value, score, weight, point), inputs in zip(columns, item.kpi.inputs)
        ]
        for entry, target in zip(entries, item.kpi.targets):
            if target is not None:
                entry["target"] = target
    else:
        entries = [
            {"key": key, "value": value, "score": score, "weight": weight, "points": point}
            for value, score, weight, point in columns
        ]
    notes: dict[int, list[str]] = {}
    if item.kpi is not None:
        kpi = item.kpi.columns
        position_list = positions.tolist()
        if kpi.target_sources is not None:
            for entry, source in zip(entries, [kpi.target_sources[p] for p in position_list]):
                if source:
                    entry["target_source"] = source
        if kpi.notes or kpi.errors or kpi.scoring_errors:
            row_of = {position: row for row, position in enumerate(position_list)}
            for position, position_notes in kpi.notes.items():
                if position in row_of:
                    notes[row_of[position]] = list(position_notes)
            for position, reason in kpi.scoring_errors.items():
                if position in row_of:
                    entries[row_of[position]]["error"] = f"scoring: {reason}"
            for position, error in kpi.errors.items():
                if position in row_of:
                    entries[row_of[position]]["error"] = error
    for row in np.flatnonzero(item.lacking).tolist():
        why = item.why
        if item.kind == "kpi":
            row_notes = notes.get(row, [])
            # the last note says why there is no value ("division by zero"); the policy completes it
            if values[row] is not None:
                why = "the scoring rule gave no points"
            elif row_notes:
                why = row_notes.pop()
        if item.policy == "fail":
            entries[row]["error"] = f"{why} (missing-data policy: fail)"
        else:
            notes.setdefault(row, []).append(_policy_note(item.policy, why))
    for row in np.flatnonzero(excluded).tolist():
        entries[row]["excluded"] = True
    for row, row_notes in notes.items():
        if row_notes:
            entries[row]["notes"] = row_notes
    return entries


@lru_cache(maxsize=4096)
def _policy_note(policy: str, why: str) -> str:
    if policy == "zero":
        return f"{why} → 0 by policy"
    return f"{why} → excluded by policy, weights re-normalised"


class KpiDefinition(TypedDict):
    """What the configuration says of a KPI item."""

    kind: Literal["kpi"]
    section: str
    label: Label | None
    formula: str | None
    unit: str | Label | None
    format: str | None
    direction: Direction
    #: metric → what it counts (`describe_metric`)
    metrics: dict[str, str]
    #: the scoring rule in words (`Scorer.describe_rule`); None for a KPI the configuration lacks
    scoring: str | None
    policy: MissingPolicy


class ManualDefinition(TypedDict):
    """What the configuration says of a manual item."""

    kind: Literal["manual"]
    section: str
    label: Label
    form: str | None
    policy: MissingPolicy


ItemDefinition: TypeAlias = KpiDefinition | ManualDefinition


def item_definitions(config: Config, template_slug: str) -> dict[str, ItemDefinition]:
    """What the configuration says of each item of a template: label, formula, the metrics it
    reads, scoring rule, missing-data policy."""
    template = config.get("templates", {}).get(template_slug)
    if template is None:
        return {}
    kpis, metrics = config.get("kpis", {}), config.get("metrics", {})
    definitions: dict[str, ItemDefinition] = {}
    for section in template["sections"]:
        for item in section["items"]:
            if item.get("kpi"):
                kpi = kpis.get(item["kpi"], {})
                definitions[item["kpi"]] = {
                    "kind": "kpi",
                    "section": section["name"],
                    "label": kpi.get("label"),
                    "formula": kpi.get("formula"),
                    "unit": kpi.get("unit"),
                    "format": kpi.get("format"),
                    "direction": kpi.get("direction", "higher"),
                    "metrics": {name: describe_metric(metrics[name]) for name in _formula_metrics(kpi, metrics)},
                    "scoring": Scorer.describe_rule(kpi["scoring"]) if kpi else None,
                    "policy": item.get("missing") or kpi.get("missing", "zero"),
                }
            else:
                definitions[item["manual"]] = {
                    "kind": "manual",
                    "section": section["name"],
                    "label": item["label"],
                    "form": item.get("form"),
                    "policy": item.get("missing") or MANUAL_DEFAULT_POLICY,
                }
    return definitions


def _formula_metrics(kpi: Document, metrics: Mapping[str, Document]) -> list[str]:
    """Metric names in a KPI formula, in order, including those behind prev. and target."""
    without_text = re.sub(r"'[^']*'|\"[^\"]*\"", " ", kpi.get("formula", ""))
    words = re.findall(r"[A-Za-z_][A-Za-z0-9_.]*", without_text)
    names = [w.split(".", 1)[1] if w.startswith(("prev.", "target.")) else w for w in words]
    return list(dict.fromkeys(n for n in names if n in metrics))


class Ranked(Protocol):
    """What ranking reads and writes: a computed scorecard (`ScorecardResult`), or a stored one."""

    employee: str
    template: str
    department_id: int
    total: float | None
    rank_department: int | None
    rank_company: int | None


def rank(cards: Iterable[Ranked]) -> None:
    """Competition ranks (1, 2, 2, 4) by total, among scorecards of the same template: in the
    company and in the department. Scorecards without a total are not ranked."""
    # each card with its total, which ranked cards have
    by_template: dict[str, list[tuple[float, Ranked]]] = {}
    for card in cards:
        if card.total is not None:
            by_template.setdefault(card.template, []).append((card.total, card))
    for group in by_template.values():
        _assign_ranks(group, "rank_company")
        by_department: dict[int, list[tuple[float, Ranked]]] = {}
        for total, card in group:
            by_department.setdefault(card.department_id, []).append((total, card))
        for members in by_department.values():
            _assign_ranks(members, "rank_department")


def _assign_ranks(cards: Sequence[tuple[float, Ranked]], attribute: Literal["rank_company", "rank_department"]) -> None:
    ordered = sorted(cards, key=lambda pair: (-pair[0], pair[1].employee))
    previous_total: float | None = None
    previous_rank = 0
    for index, (total, card) in enumerate(ordered, start=1):
        rank_here = previous_rank if total == previous_total else index
        setattr(card, attribute, rank_here)
        previous_total, previous_rank = total, rank_here
