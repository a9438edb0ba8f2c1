"""What a configuration version says about one template, for explaining its scorecards: its
sections, grades, KPIs, metrics, attributes and target sets, and the most points a rule gives."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field, replace
from typing import cast

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ...config.models import ConfigVersion
from ...config.validation import Config
from ..shapes import Document, Label
from .wording import finite, label_text


@dataclass
class TemplateRules:
    """What a version's configuration says about one template: its sections and grades, and the
    KPIs, metrics, employee attributes and target sets its items refer to."""

    slug: str
    label: Label | None = None
    sections: list[Document] = field(default_factory=list)
    #: highest minimum first
    grades: list[Document] = field(default_factory=list)
    kpis: dict[str, Document] = field(default_factory=dict)
    metrics: dict[str, Document] = field(default_factory=dict)
    attributes: dict[str, Document] = field(default_factory=dict)
    #: target set → its label
    target_sets: dict[str, Label | None] = field(default_factory=dict)
    #: manual item → its label
    manual: dict[str, Label | None] = field(default_factory=dict)

    @classmethod
    def from_snapshot(cls, snapshot: Config | None, template_slug: str) -> TemplateRules:
        snapshot = snapshot or {}
        template = (snapshot.get("templates") or {}).get(template_slug) or {}
        manual = {
            item["manual"]: item.get("label")
            for section in template.get("sections", [])
            for item in section.get("items", [])
            if item.get("manual")
        }
        return cls(
            template_slug,
            template.get("label"),
            list(template.get("sections", [])),
            sorted(template.get("grades", []), key=lambda band: -band.get("min", 0)),
            dict(snapshot.get("kpis") or {}),
            dict(snapshot.get("metrics") or {}),
            dict(snapshot.get("employee_attributes") or {}),
            {slug: entry.get("label") for slug, entry in (snapshot.get("targets") or {}).items()},
            manual,
        )

    def in_language(self, lang: str) -> TemplateRules:
        """The rules with each KPI's unit as one text in `lang` (a unit may be {zh, en})."""
        if not any(isinstance(kpi.get("unit"), dict) for kpi in self.kpis.values()):
            return self
        kpis = {
            slug: {**kpi, "unit": label_text(kpi["unit"], lang)} if isinstance(kpi.get("unit"), dict) else kpi
            for slug, kpi in self.kpis.items()
        }
        return replace(self, kpis=kpis)

    def section(self, name: str | None) -> Document:
        for section in self.sections:
            if section.get("name") == name:
                return section
        return {"name": name}

    def grade_label(self, grade: str | None) -> Label | None:
        for band in self.grades:
            if band.get("grade") == grade:
                label: Label | None = band.get("label")
                return label
        return None

    def scoring(self, key: str) -> Document | None:
        rule: Document | None = (self.kpis.get(key) or {}).get("scoring")
        return rule

    def max_score(self, key: str, kind: str = "kpi") -> float | None:
        """The most points an item's score can reach: a linear rule's cap (else the higher end of
        its line), the best band, an outer clamp's upper bound; a rating's 100. None when the rule
        does not say (a formula without clamp, a line without a cap that keeps rising)."""
        if kind == "manual":
            return 100.0
        return max_score(self.scoring(key))


class RuleBook:
    """`TemplateRules` per (version, template), each version's snapshot read once."""

    def __init__(self, session: Session):
        self.session = session
        self._snapshots: dict[int | None, Config] = {}
        self._rules: dict[tuple[int | None, str], TemplateRules] = {}

    def snapshot(self, version_number: int | None) -> Config:
        if version_number not in self._snapshots:
            self._snapshots[version_number] = (
                self.session.scalar(sa.select(ConfigVersion.snapshot).where(ConfigVersion.number == version_number))
                or {}
            )
        return self._snapshots[version_number]

    def __call__(self, version_number: int | None, template: str) -> TemplateRules:
        key = (version_number, template)
        if key not in self._rules:
            self._rules[key] = TemplateRules.from_snapshot(self.snapshot(version_number), template)
        return self._rules[key]


def _clamp_upper(formula: str) -> float | None:
    """The upper bound of a scoring formula of the form clamp(…, low, high)."""
    try:
        tree = ast.parse(formula, mode="eval").body
    except SyntaxError:
        return None
    if (
        isinstance(tree, ast.Call)
        and isinstance(tree.func, ast.Name)
        and tree.func.id.lower() == "clamp"
        and len(tree.args) == 3
    ):
        high = tree.args[2]
        if isinstance(high, ast.UnaryOp) and isinstance(high.op, ast.USub) and isinstance(high.operand, ast.Constant):
            return -float(cast(float, high.operand.value))  # the checker negates only numbers
        if isinstance(high, ast.Constant) and finite(high.value):
            return float(high.value)
    return None


def max_score(rule: Document | None) -> float | None:
    if not rule:
        return None
    if rule["type"] == "linear":
        if rule.get("cap") is not None:
            return float(rule["cap"])
        slope = (rule["points_to"] - rule["points_from"]) / (rule["value_to"] - rule["value_from"])
        return None if slope else float(rule["points_to"])  # a rising or falling line without a cap has no top
    if rule["type"] == "bands":
        return float(max([band["points"] for band in rule["bands"]] + [rule.get("otherwise") or 0.0]))
    return _clamp_upper(rule.get("formula", ""))
