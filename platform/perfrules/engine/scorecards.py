"""Scorecards (绩效考核表): each employee's items scored, weighted and explained, with a total,
a grade and ranks.

An item's weight in the total is its section's share of the sections times its share of its
section's items, in percent. Items excluded for missing data (policy `exclude`) give their weight
to the rest of their section; a section with every item excluded gives its weight to the other
sections. An item's points are its score × its weight / 100, and the total is the sum of points.

A failing item (an error, or missing data under policy `fail`) keeps its trace, and the
scorecard gets no total or grade: a total without one of its items would mislead.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..formula import FunctionRegistry
from .kpis import KpiPlan, PeriodValues
from .people import People
from .scoring import Scorer

MANUAL_DEFAULT_POLICY = "exclude"


@dataclass
class ScorecardResult:
    position: int
    employee_id: int
    employee: str
    department_id: int
    template: str
    items: list[dict]
    total: float | None = None
    grade: str | None = None
    error: str | None = None
    rank_department: int | None = None
    rank_company: int | None = None
    notes: list[str] = field(default_factory=list)


def _clean(value) -> float | None:
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) else value


class ScoreBook:
    """Scores of every KPI the templates use, for every employee, computed once per run."""

    def __init__(self, plan: KpiPlan, functions: FunctionRegistry, values: PeriodValues):
        self.plan = plan
        self.values = values
        self.functions = functions
        self._scores: dict[str, tuple] = {}
        self._scorers: dict[str, Scorer] = {}

    def scorer(self, slug: str) -> Scorer:
        if slug not in self._scorers:
            self._scorers[slug] = Scorer(self.plan.kpis[slug]["scoring"], self.functions)
        return self._scorers[slug]

    def target_name(self, slug: str) -> str | None:
        """The target an item is measured against: the KPI's own, else the one its formula names."""
        own = f"target.{slug}"
        if own in self.values.columns:
            return own
        named = [n for n in self.plan.formulas[slug].names if n.startswith("target.")]
        return named[0] if len(named) == 1 else None

    def scores(self, slug: str):
        if slug not in self._scores:
            result = self.values.kpis[slug]
            target_name = self.target_name(slug)
            targets = self.values.columns[target_name] if target_name else np.full(len(result), np.nan)
            self._scores[slug] = (*self.scorer(slug).score(result.values, targets), targets)
        return self._scores[slug]


def build_scorecard(position: int, people: People, template: dict, book: ScoreBook,
                    manual: dict[tuple[int, str], float]) -> ScorecardResult:
    values = book.values
    card = ScorecardResult(position, int(people.ids[position]), people.codes[position],
                           int(people.department_ids[position]), template["slug"], [])
    sections = []
    for section in template["sections"]:
        entries = []
        for item in section["items"]:
            entry = _kpi_item(position, item, book) if item.get("kpi") else \
                _manual_item(position, people, item, manual)
            entry["section"] = section["name"]
            entries.append((item["weight"], entry))
            card.items.append(entry)
        sections.append((section["weight"], entries))

    counted_sections = [(w, [(iw, e) for iw, e in entries if not e["excluded"]]) for w, entries in sections]
    counted_sections = [(w, entries) for w, entries in counted_sections if entries]
    section_total = sum(w for w, _ in counted_sections)
    for section_weight, entries in counted_sections:
        item_total = sum(w for w, _ in entries)
        for item_weight, entry in entries:
            entry["weight"] = 100.0 * section_weight / section_total * item_weight / item_total
            if entry["score"] is not None:
                entry["points"] = entry["score"] * entry["weight"] / 100.0
    failed = [e for e in card.items if e["error"]]
    if failed:
        card.error = "; ".join(f"{e['key']}: {e['error']}" for e in failed)
    elif not counted_sections:
        card.error = "every item was excluded for missing data"
    else:
        card.total = math.fsum(e["points"] for e in card.items if e["points"] is not None)
        card.grade = next((g["grade"] for g in template["grades"] if card.total >= g["min"]), None)
        if card.grade is None:
            card.notes.append("the total is below every grade band")
    return card


def _base_item(key: str, kind: str, label, policy: str) -> dict:
    return {"key": key, "kind": kind, "label": label, "value": None, "target": None, "score": None,
            "weight": 0.0, "points": None, "excluded": False, "error": None, "policy": policy, "notes": []}


def _apply_policy(entry: dict, why: str) -> None:
    policy = entry["policy"]
    if policy == "zero":
        entry["score"] = 0.0
        entry["notes"].append(f"{why} → 0 by policy")
    elif policy == "exclude":
        entry["excluded"] = True
        entry["notes"].append(f"{why} → excluded by policy, weights re-normalised")
    else:
        entry["error"] = f"{why} (missing-data policy: fail)"


def _kpi_item(position: int, item: dict, book: ScoreBook) -> dict:
    slug = item["kpi"]
    kpi = book.plan.kpis[slug]
    formula = book.plan.formulas[slug]
    values = book.values
    entry = _base_item(slug, "kpi", kpi["label"], item.get("missing") or kpi.get("missing", "zero"))
    entry["formula"] = formula.text
    entry["inputs"] = {name: _input_value(values.columns[name][position]) for name in formula.names}
    entry["scoring"] = book.scorer(slug).describe()
    result = values.kpis[slug]
    row = result.row(position)
    notes = list(row.notes)
    target_name = book.target_name(slug)
    points, errors, reasons, targets = book.scores(slug)
    entry["target"] = _clean(targets[position])
    if target_name and values.target_sources.get(target_name) and values.target_sources[target_name][position]:
        entry["target_source"] = values.target_sources[target_name][position]
    if row.value is None and not row.error:
        # the last note says why there is no value ("division by zero"); the policy completes it
        _apply_policy(entry, notes.pop() if notes else "no value")
    entry["notes"][:0] = notes
    if row.error:
        entry["error"] = row.error
    if row.value is None:
        return entry
    entry["value"] = row.value
    if errors[position]:
        entry["error"] = f"scoring: {reasons[position]}"
    elif math.isnan(points[position]):
        _apply_policy(entry, "the scoring rule gave no points")
    else:
        entry["score"] = float(points[position])
    return entry


def _manual_item(position: int, people: People, item: dict, manual: dict) -> dict:
    entry = _base_item(item["manual"], "manual", item["label"], item.get("missing") or MANUAL_DEFAULT_POLICY)
    if item.get("form"):
        entry["form"] = item["form"]
    value = manual.get((int(people.ids[position]), item["manual"]))
    if value is None:
        _apply_policy(entry, "no rating yet")
    else:
        entry["value"] = entry["score"] = value
    return entry


def _input_value(value):
    if isinstance(value, (float, np.floating)):
        return None if math.isnan(value) else float(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


def rank(cards: list[ScorecardResult]) -> None:
    """Competition ranks (1, 2, 2, 4) by total, among scorecards of the same template: in the
    company and in the department. Scorecards without a total are not ranked."""
    by_template: dict[str, list[ScorecardResult]] = {}
    for card in cards:
        if card.total is not None:
            by_template.setdefault(card.template, []).append(card)
    for group in by_template.values():
        _assign_ranks(group, "rank_company")
        by_department: dict[int, list[ScorecardResult]] = {}
        for card in group:
            by_department.setdefault(card.department_id, []).append(card)
        for members in by_department.values():
            _assign_ranks(members, "rank_department")


def _assign_ranks(cards: list[ScorecardResult], attribute: str) -> None:
    ordered = sorted(cards, key=lambda c: (-c.total, c.employee))
    previous_total, previous_rank = None, 0
    for index, card in enumerate(ordered, start=1):
        rank_here = previous_rank if card.total == previous_total else index
        setattr(card, attribute, rank_here)
        previous_total, previous_rank = card.total, rank_here
