"""One scorecard item in plain words: its formula with the values put in, its scoring rule, its
target's source and its attainment."""

from __future__ import annotations

import ast
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Literal, NotRequired, TypeAlias, TypedDict

from ..shapes import Document, ItemKind, Label, PlainValue
from .reasons import POLICY_EXCLUDE, POLICY_ZERO, explain_error, explain_note, explain_reason, explain_target_source
from .rules import TemplateRules
from .wording import (
    NO_VALUE,
    Translate,
    english,
    finite,
    format_number,
    format_points,
    format_value,
    format_weight,
    label_text,
)

if TYPE_CHECKING:  # the scorecard objects explained: read, not built, here
    from ..export import ScorecardItem

_PRECEDENCE: dict[type[ast.operator], int] = {ast.Add: 1, ast.Sub: 1, ast.Mult: 2, ast.Div: 2}
_SYMBOLS: dict[type[ast.operator], str] = {ast.Add: "+", ast.Sub: "−", ast.Mult: "×", ast.Div: "÷"}

#: what an item's attainment is measured against: its target, or the most it can score
Basis: TypeAlias = Literal["target", "score"]


class ExplainedItem(TypedDict):
    """One item of a scorecard in words and formatted values (`explain_item`)."""

    key: str
    kind: ItemKind
    label: Label | str | None
    section: str | None
    value: float | None
    score: float | None
    weight: float | None
    points: float | None
    value_text: str
    target_text: str
    score_text: str
    weight_text: str
    points_text: str
    excluded: bool
    error: str | None
    sentence: str
    notes: list[str]
    #: the notes the sentence does not already tell (the missing-data policy's is in it)
    other_notes: list[str]
    target_source: str | None
    formula: str | None
    metrics: dict[str, str]
    scoring: str | None
    max_score: float | None
    max_points: float | None
    attainment: float | None
    attainment_basis: Basis | None
    #: with an earlier scorecard (`explain_scorecard`)
    previous_points: NotRequired[float | None]
    delta: NotRequired[float | None]
    delta_text: NotRequired[str]


def _dotted(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        return f"{node.value.id}.{node.attr}"
    return None


def _parse(formula: str | None) -> ast.expr | None:
    if not formula:
        return None
    try:
        return ast.parse(formula, mode="eval").body
    except SyntaxError:
        return None


def _names(tree: ast.expr | None) -> list[str]:
    if tree is None:
        return []
    found: list[str] = []
    for node in ast.walk(tree):
        name = _dotted(node)
        if name is not None and not (isinstance(node, ast.Name) and _is_prefix(node, tree)):
            found.append(name)
    return list(dict.fromkeys(found))


def _is_prefix(node: ast.Name, tree: ast.expr) -> bool:
    """`target` in `target.sales` is not a name of its own."""
    return any(isinstance(parent, ast.Attribute) and parent.value is node for parent in ast.walk(tree))


class _ItemWords:
    """Labels and formatted values for the names one KPI formula reads."""

    def __init__(
        self, kpi: Document, inputs: Mapping[str, PlainValue] | None, rules: TemplateRules, lang: str, _: Translate
    ):
        self.kpi, self.inputs, self.rules, self.lang, self._ = kpi, inputs or {}, rules, lang, _
        self.tree = _parse(kpi.get("formula"))
        self.names = _names(self.tree)
        self.plain = {name.split(".", 1)[-1] for name in self.names if not name.startswith("target.")}

    def subject(self, slug: str) -> str:
        """A metric's or KPI's label."""
        for catalogue in (self.rules.metrics, self.rules.kpis):
            if slug in catalogue:
                return label_text(catalogue[slug].get("label"), self.lang) or slug
        return slug

    def label(self, name: str) -> str:
        _ = self._
        prefix, _dot, rest = name.partition(".")
        if not rest:
            return self.subject(name)
        if prefix == "target":
            return _("target") if rest in self.plain else _("target for %(name)s", name=self.subject(rest))
        if prefix == "prev":
            return _("%(name)s last period", name=self.subject(rest))
        if prefix == "kpi":
            return self.subject(rest)
        if prefix == "employee":
            if rest == "tenure_months":
                return _("months of service")
            return label_text((self.rules.attributes.get(rest) or {}).get("label"), self.lang) or rest
        return name

    def value(self, name: str) -> str:
        value = self.inputs.get(name)
        prefix, _dot, rest = name.partition(".")
        kpi = self.rules.kpis.get(rest if prefix in ("kpi", "target", "prev") else name)
        if kpi is not None:
            return format_value(value, kpi.get("format"), kpi.get("unit"))
        return format_number(value)

    def render(self, node: ast.expr, parent: int = 0, right: bool = False) -> str | None:
        """The formula with each name's label and value, in arithmetic signs; None for anything
        but + − × ÷ over names and numbers."""
        name = _dotted(node)
        if name is not None:
            return f"{self.label(name)} {self.value(name)}"
        if isinstance(node, ast.Constant) and finite(node.value):
            return format_number(node.value, 6)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            inner = self.render(node.operand, 3)
            return None if inner is None else f"−{inner}"
        if isinstance(node, ast.BinOp) and type(node.op) in _PRECEDENCE:
            precedence = _PRECEDENCE[type(node.op)]
            left = self.render(node.left, precedence)
            right_text = self.render(node.right, precedence, True)
            if left is None or right_text is None:
                return None
            text = f"{left} {_SYMBOLS[type(node.op)]} {right_text}"
            if precedence < parent or (right and precedence == parent):
                text = f"({text})"
            return text
        return None

    def calculation(self, value_text: str) -> str:
        _ = self._
        if self.tree is not None and _dotted(self.tree) is not None:  # the formula is one name
            return f"{self.label(self.names[0])} {value_text}"
        rendered = self.render(self.tree) if self.tree is not None else None
        if rendered is not None:
            return f"{rendered} = {value_text}"
        inputs = ", ".join(f"{self.label(name)} {self.value(name)}" for name in self.names if name in self.inputs)
        if not inputs:
            return _("%(kpi)s = %(value)s", kpi=self.subject(self.kpi.get("slug", "")), value=value_text)
        return _(
            "%(kpi)s from %(inputs)s = %(value)s",
            kpi=label_text(self.kpi.get("label"), self.lang),
            inputs=inputs,
            value=value_text,
        )


def band_range(bands: list[Document], index: int, format: str | None, unit: str | None) -> str:
    """Band `index` (bands listed from the highest minimum down) covers [its min, the previous min)."""
    low = format_value(bands[index]["min"], format, unit)
    if index == 0:
        return f"≥ {low}"
    return f"{low} – < {format_value(bands[index - 1]['min'], format, unit)}"


def describe_scoring(
    rule: Document | None, value: float | None, score: float | None, kpi: Document, _: Translate = english
) -> str:
    """How the scoring rule turned this value into points, in words."""
    if not rule:
        return ""
    format, unit = kpi.get("format"), kpi.get("unit")
    if rule["type"] == "linear":
        text = _(
            "linear from %(value_from)s (%(points_from)s points) to %(value_to)s (%(points_to)s points)",
            value_from=format_value(rule["value_from"], format, unit),
            points_from=format_number(rule["points_from"]),
            value_to=format_value(rule["value_to"], format, unit),
            points_to=format_number(rule["points_to"]),
        )
        if rule.get("floor") is not None:
            text += _(", never below %(floor)s", floor=format_number(rule["floor"]))
        if rule.get("cap") is not None:
            text += _(", capped at %(cap)s", cap=format_number(rule["cap"]))
        if finite(score) and rule.get("cap") is not None and math.isclose(score, rule["cap"]) and finite(value):
            text += _(" — the cap applies")
        return text
    if rule["type"] == "bands":
        bands = rule["bands"]
        if finite(value):
            for index, band in enumerate(bands):
                if value >= band["min"]:
                    return _(
                        "band %(band)s of %(count)s: %(range)s",
                        band=index + 1,
                        count=len(bands),
                        range=band_range(bands, index, format, unit),
                    )
            return _("below every band (under %(lowest)s)", lowest=format_value(bands[-1]["min"], format, unit))
        listed = ", ".join(
            f"{band_range(bands, index, format, unit)} → {format_number(band['points'])}"
            for index, band in enumerate(bands)
        )
        return _(
            "bands %(bands)s, otherwise %(otherwise)s",
            bands=listed,
            otherwise=format_number(rule.get("otherwise") or 0),
        )
    return _("scoring formula %(formula)s", formula=rule.get("formula", ""))


def _attainment(
    entry: ScorecardItem, kpi: Document, words: _ItemWords | None, score: float | None, top: float | None
) -> tuple[float | None, Basis | None]:
    """How far the item got: against its target where it has one, else its score against the most
    it can score. (ratio, basis: "target" or "score")."""
    value, target = entry.get("value"), entry.get("target")
    if words is not None and finite(value):
        targets = [n for n in words.names if n.startswith("target.")]
        tree = words.tree
        if (
            isinstance(tree, ast.BinOp)
            and isinstance(tree.op, ast.Div)
            and (_dotted(tree.right) or "").startswith("target.")
        ):  # sales / target.sales is itself the attainment
            return value, "target"
        if not targets and finite(target) and target:  # measured against a target of the KPI's own
            if kpi.get("direction") == "lower":
                return (target / value if value else None), "target"
            return value / target, "target"
    if finite(score) and top:
        return score / top, "score"
    return None, None


def explain_item(entry: ScorecardItem, rules: TemplateRules, lang: str = "en", _: Translate = english) -> ExplainedItem:
    """One item of a scorecard (a trace entry with its definition) in words and formatted values."""
    rules = rules.in_language(lang)
    key = entry["key"]
    kind = entry.get("kind") or ("manual" if key in rules.manual else "kpi")
    kpi = (rules.kpis.get(key) or {}) if kind == "kpi" else {}
    label = entry.get("label") or kpi.get("label") or rules.manual.get(key)
    value, score, weight, points = entry.get("value"), entry.get("score"), entry.get("weight"), entry.get("points")
    excluded, error = bool(entry.get("excluded")), entry.get("error")
    notes = list(entry.get("notes") or [])
    format = kpi.get("format") or entry.get("format")
    unit = label_text(kpi.get("unit") or entry.get("unit"), lang) or None

    if kind == "manual":
        value_text = format_points(value) if finite(value) else NO_VALUE
        target_text = NO_VALUE
        words = None
    else:
        value_text = format_value(value, format, unit)
        words = _ItemWords({**kpi, "slug": key}, entry.get("inputs"), rules, lang, _)
        target = entry.get("target")
        own_target = not any(n.startswith("target.") for n in words.names)
        target_text = format_value(target, format, unit) if own_target else format_number(target)

    # the reason the policy applied, when there is one: the policy note's own words
    policy_reason = None
    for note in notes:
        for pattern in (POLICY_ZERO, POLICY_EXCLUDE):
            if match := pattern.match(note):
                policy_reason = explain_reason(match["why"], _)
    if words is None:  # a manual item
        calculation = _("rated %(points)s points", points=format_points(value)) if finite(value) else _("No rating yet")
    else:
        calculation = words.calculation(value_text if finite(value) else _("no value"))

    weight_text, points_text = format_weight(weight), format_points(points)
    if error:
        sentence = _("%(calculation)s: %(error)s", calculation=calculation, error=explain_error(error, _))
    elif excluded and (kind == "manual" or policy_reason in (None, _("no value"))):
        sentence = _(
            "%(calculation)s → left out by the missing-data policy; its weight goes to the other items",
            calculation=calculation,
        )
    elif excluded:
        sentence = _(
            "%(calculation)s → left out (%(reason)s); its weight goes to the other items",
            calculation=calculation,
            reason=policy_reason,
        )
    elif kind == "manual":
        sentence = _(
            "%(calculation)s × weight %(weight)s = %(points)s points",
            calculation=calculation,
            weight=weight_text,
            points=points_text,
        )
    elif policy_reason is not None:
        sentence = _(
            "%(calculation)s → %(score)s points (%(reason)s, 0 by the missing-data policy) "
            "× weight %(weight)s = %(points)s points",
            calculation=calculation,
            score=format_points(score),
            reason=policy_reason,
            weight=weight_text,
            points=points_text,
        )
    else:
        sentence = _(
            "%(calculation)s → %(score)s points (%(rule)s) × weight %(weight)s = %(points)s points",
            calculation=calculation,
            score=format_points(score),
            rule=describe_scoring(kpi.get("scoring"), value, score, kpi, _),
            weight=weight_text,
            points=points_text,
        )

    top = rules.max_score(key, kind)
    counted = not excluded and not error and finite(score) and finite(weight)
    ratio, basis = _attainment(entry, kpi, words, score, top) if not excluded and not error else (None, None)
    max_points = top * weight / 100 if counted and top is not None and weight is not None else None
    return {
        "key": key,
        "kind": kind,
        "label": label,
        "section": entry.get("section"),
        "value": value,
        "score": score,
        "weight": weight,
        "points": points,
        "value_text": value_text,
        "target_text": target_text,
        "score_text": format_points(score),
        "weight_text": weight_text,
        "points_text": points_text,
        "excluded": excluded,
        "error": error,
        "sentence": sentence,
        "notes": [explain_note(note, _) for note in notes],
        "other_notes": [
            explain_note(note, _) for note in notes if not (POLICY_ZERO.match(note) or POLICY_EXCLUDE.match(note))
        ],
        "target_source": explain_target_source(entry.get("target_source"), rules, lang, _),
        "formula": kpi.get("formula") or entry.get("formula"),
        "metrics": entry.get("metrics") or {},
        "scoring": describe_scoring(kpi.get("scoring"), None, None, kpi, _) if kind == "kpi" else None,
        "max_score": top,
        "max_points": max_points,
        "attainment": ratio,
        "attainment_basis": basis,
    }
