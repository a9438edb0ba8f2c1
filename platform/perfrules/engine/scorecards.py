"""Scorecards (绩效考核表): each employee's items scored, weighted and explained, with a total,
a grade and ranks.

An item's weight in the total is its section's share of the sections times its share of its
section's items, in percent. Items excluded for missing data (policy `exclude`) give their weight
to the rest of their section; a section with every item excluded gives its weight to the other
sections. An item's points are its score × its weight / 100, and the total is the sum of points.

A failing item (an error, or missing data under policy `fail`) keeps its trace, and the
scorecard gets no total or grade: a total without one of its items would mislead.

The stored trace holds what is particular to the employee (inputs, value, target, score, weight,
points, notes). What the configuration says of an item (label, formula, scoring rule, policy) is
the same for everyone on a version, which is immutable: `item_definitions` adds it when shown.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import numpy as np

from ..config.validation import Config
from ..formula import FunctionRegistry
from .kpis import KpiPlan, PeriodValues
from .metrics import describe_metric
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


def _plain(values: np.ndarray) -> list:
    """Python floats with None for NaN, for traces."""
    return [None if v != v else v for v in values.tolist()]


def _by_row(pairs: list[tuple[str, np.ndarray]]) -> dict[int, list[str]]:
    rows: dict[int, list[str]] = {}
    for message, mask in pairs:
        for position in np.flatnonzero(mask).tolist():
            found = rows.setdefault(position, [])
            if message not in found:
                found.append(message)
    return rows


@dataclass
class KpiRows:
    """One KPI's results for every employee, as plain Python values ready for traces."""

    names: tuple[str, ...]
    inputs: dict[str, list]
    values: list
    errors: dict[int, str]
    notes: dict[int, list[str]]
    targets: list
    target_sources: list | None
    points: list
    scoring_errors: dict[int, str]


class ScoreBook:
    """Scores of every KPI the templates use, for every employee, computed once per run."""

    def __init__(self, plan: KpiPlan, functions: FunctionRegistry, values: PeriodValues):
        self.plan = plan
        self.values = values
        self.functions = functions
        self._rows: dict[str, KpiRows] = {}
        self._plain_columns: dict[str, list] = {}

    def target_name(self, slug: str) -> str | None:
        """The target an item is measured against: the KPI's own, else the one its formula names."""
        own = f"target.{slug}"
        if own in self.values.columns:
            return own
        named = [n for n in self.plan.formulas[slug].names if n.startswith("target.")]
        return named[0] if len(named) == 1 else None

    def _column(self, name: str) -> list:
        if name not in self._plain_columns:
            column = self.values.columns[name]
            self._plain_columns[name] = _plain(column) if column.dtype.kind == "f" else \
                [bool(v) if isinstance(v, np.bool_) else v for v in column.tolist()]
        return self._plain_columns[name]

    def rows(self, slug: str) -> KpiRows:
        if slug not in self._rows:
            result = self.values.kpis[slug]
            target_name = self.target_name(slug)
            targets = self.values.columns[target_name] if target_name else np.full(len(result), np.nan)
            points, scoring_failed, reasons = Scorer(self.plan.kpis[slug]["scoring"], self.functions).score(
                result.values, targets)
            errors = {}
            for message, mask in result.reasons:
                for position in np.flatnonzero(mask).tolist():
                    errors.setdefault(position, message)
            names = self.plan.formulas[slug].names
            self._rows[slug] = KpiRows(
                names, {name: self._column(name) for name in names}, _plain(result.values), errors,
                _by_row(result.notes), _plain(targets),
                self.values.target_sources.get(target_name) if target_name else None, _plain(points),
                {p: reasons[p] for p in np.flatnonzero(scoring_failed).tolist()})
        return self._rows[slug]


def build_scorecard(position: int, people: People, template: dict, book: ScoreBook,
                    manual: dict[tuple[int, str], float]) -> ScorecardResult:
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


def _base_item(key: str, kind: str) -> dict:
    return {"key": key, "kind": kind, "value": None, "target": None, "score": None, "weight": 0.0,
            "points": None, "excluded": False, "error": None, "notes": []}


def _apply_policy(entry: dict, policy: str, why: str) -> None:
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
    rows = book.rows(slug)
    policy = item.get("missing") or book.plan.kpis[slug].get("missing", "zero")
    entry = _base_item(slug, "kpi")
    entry["inputs"] = {name: rows.inputs[name][position] for name in rows.names}
    entry["target"] = rows.targets[position]
    if rows.target_sources is not None and rows.target_sources[position]:
        entry["target_source"] = rows.target_sources[position]
    notes = list(rows.notes.get(position, ()))
    value, error = rows.values[position], rows.errors.get(position)
    if value is None and error is None:
        # the last note says why there is no value ("division by zero"); the policy completes it
        _apply_policy(entry, policy, notes.pop() if notes else "no value")
    entry["notes"][:0] = notes
    if error is not None:
        entry["error"] = error
    if value is None:
        return entry
    entry["value"] = value
    if position in rows.scoring_errors:
        entry["error"] = f"scoring: {rows.scoring_errors[position]}"
    elif rows.points[position] is None:
        _apply_policy(entry, policy, "the scoring rule gave no points")
    else:
        entry["score"] = rows.points[position]
    return entry


def _manual_item(position: int, people: People, item: dict, manual: dict) -> dict:
    entry = _base_item(item["manual"], "manual")
    value = manual.get((int(people.ids[position]), item["manual"]))
    if value is None:
        _apply_policy(entry, item.get("missing") or MANUAL_DEFAULT_POLICY, "no rating yet")
    else:
        entry["value"] = entry["score"] = value
    return entry


def item_definitions(config: Config, template_slug: str) -> dict[str, dict]:
    """What the configuration says of each item of a template: label, formula, the metrics it
    reads, scoring rule, missing-data policy."""
    template = config.get("templates", {}).get(template_slug)
    if template is None:
        return {}
    kpis, metrics = config.get("kpis", {}), config.get("metrics", {})
    definitions = {}
    for section in template["sections"]:
        for item in section["items"]:
            if item.get("kpi"):
                kpi = kpis.get(item["kpi"], {})
                definitions[item["kpi"]] = {
                    "label": kpi.get("label"), "formula": kpi.get("formula"), "unit": kpi.get("unit"),
                    "format": kpi.get("format"), "direction": kpi.get("direction", "higher"),
                    "metrics": {name: describe_metric(metrics[name]) for name in _formula_metrics(kpi, metrics)},
                    "scoring": Scorer.describe_rule(kpi["scoring"]) if kpi else None,
                    "policy": item.get("missing") or kpi.get("missing", "zero")}
            else:
                definitions[item["manual"]] = {"label": item["label"], "form": item.get("form"),
                                               "policy": item.get("missing") or MANUAL_DEFAULT_POLICY}
    return definitions


def _formula_metrics(kpi: dict, metrics: dict) -> list[str]:
    """Metric names in a KPI formula, in order, including those behind prev. and target."""
    without_text = re.sub(r"'[^']*'|\"[^\"]*\"", " ", kpi.get("formula", ""))
    words = re.findall(r"[A-Za-z_][A-Za-z0-9_.]*", without_text)
    names = [w.split(".", 1)[1] if w.startswith(("prev.", "target.")) else w for w in words]
    return list(dict.fromkeys(n for n in names if n in metrics))


def rank(cards) -> None:
    """Competition ranks (1, 2, 2, 4) by total, among scorecards of the same template: in the
    company and in the department. Scorecards without a total are not ranked."""
    by_template: dict[str, list] = {}
    for card in cards:
        if card.total is not None:
            by_template.setdefault(card.template, []).append(card)
    for group in by_template.values():
        _assign_ranks(group, "rank_company")
        by_department: dict[int, list] = {}
        for card in group:
            by_department.setdefault(card.department_id, []).append(card)
        for members in by_department.values():
            _assign_ranks(members, "rank_department")


def _assign_ranks(cards: list, attribute: str) -> None:
    ordered = sorted(cards, key=lambda c: (-c.total, c.employee))
    previous_total, previous_rank = None, 0
    for index, card in enumerate(ordered, start=1):
        rank_here = previous_rank if card.total == previous_total else index
        setattr(card, attribute, rank_here)
        previous_total, previous_rank = card.total, rank_here
