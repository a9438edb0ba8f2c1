"""Scorecards in plain words: values formatted by their KPI's unit and format, each item's trace
told as a sentence, the comparison with an earlier scorecard, and where the most points are to be
gained.

Plain Python over a scorecard object (`export.scorecard_object` with definitions) and the rules of
the configuration version it was scored by (`TemplateRules`), so that pages, exports and the API
can all tell the same story. Every sentence goes through a `_` callable with gettext's signature
(`_(msgid, **variables)`): the web passes Flask-Babel's `gettext`, others keep the English default.
Configuration labels (`{zh: …, en: …}`) are shown in `lang` ("zh" or "en").
"""

from __future__ import annotations

import ast
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..config.models import ConfigVersion

Translate = Callable[..., str]
NO_VALUE = "—"


def english(msgid: str, **variables) -> str:
    """The default `_`: the English source string with its variables filled in."""
    return msgid % variables if variables else msgid


def label_text(value, lang: str = "en") -> str:
    """A configuration label in `lang`, falling back to the other language."""
    if isinstance(value, dict):
        return value.get(lang) or value.get("zh") or value.get("en") or ""
    return "" if value is None else str(value)


# --- numbers -------------------------------------------------------------------------------------


def _finite(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def format_number(value, decimals: int = 2) -> str:
    """Thousands separated, at most `decimals` decimals, no trailing zeros: 1,234,000 · 4.5."""
    if not _finite(value):
        return NO_VALUE
    text = f"{value:,.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def format_percent(ratio, decimals: int = 1) -> str:
    """A ratio as a percentage: 1.028 → 102.8%, 1.2 → 120%."""
    return NO_VALUE if not _finite(ratio) else f"{format_number(ratio * 100, decimals)}%"


def format_value(value, format: str | None = None, unit: str | None = None) -> str:
    """A KPI's value as its definition says to show it: `percent` values as percentages, others as
    numbers, with the unit after them (12 次)."""
    if not _finite(value):
        return NO_VALUE
    text = format_percent(value) if format == "percent" else format_number(value)
    return f"{text} {unit}" if unit and format != "percent" else text


def format_points(points) -> str:
    """Points, totals and scores: one decimal, always (105.4, 60.0)."""
    if not _finite(points):
        return NO_VALUE
    text = f"{points:,.1f}"
    return "0.0" if text == "-0.0" else text


def format_weight(weight) -> str:
    """An item's weight in the total, in percent: 42%, 33.3%."""
    return NO_VALUE if not _finite(weight) else f"{format_number(weight, 1)}%"


def format_delta(delta) -> str:
    """A change in points: +3.2, −0.5, ±0.0."""
    if not _finite(delta):
        return NO_VALUE
    rounded = round(delta, 1)
    if rounded == 0:
        return "±0.0"
    return f"+{rounded:,.1f}" if rounded > 0 else f"−{-rounded:,.1f}"


# --- the rules of a template on one version ------------------------------------------------------


@dataclass
class TemplateRules:
    """What a version's configuration says about one template: its sections and grades, and the
    KPIs, metrics, employee attributes and target sets its items refer to."""

    slug: str
    label: dict | str | None = None
    sections: list[dict] = field(default_factory=list)
    grades: list[dict] = field(default_factory=list)
    kpis: dict[str, dict] = field(default_factory=dict)
    metrics: dict[str, dict] = field(default_factory=dict)
    attributes: dict[str, dict] = field(default_factory=dict)
    target_sets: dict[str, dict] = field(default_factory=dict)
    #: manual item → its label
    manual: dict[str, dict] = field(default_factory=dict)

    @classmethod
    def from_snapshot(cls, snapshot: dict | None, template_slug: str) -> TemplateRules:
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

    def section(self, name: str) -> dict:
        for section in self.sections:
            if section.get("name") == name:
                return section
        return {"name": name}

    def grade_label(self, grade: str | None):
        for band in self.grades:
            if band.get("grade") == grade:
                return band.get("label")
        return None

    def scoring(self, key: str) -> dict | None:
        return (self.kpis.get(key) or {}).get("scoring")

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
        self._snapshots: dict[int | None, dict] = {}
        self._rules: dict[tuple, TemplateRules] = {}

    def snapshot(self, version_number: int | None) -> dict:
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
            return -float(high.operand.value)
        if isinstance(high, ast.Constant) and _finite(high.value):
            return float(high.value)
    return None


def max_score(rule: dict | None) -> float | None:
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


# --- words ---------------------------------------------------------------------------------------

_POLICY_ZERO = re.compile(r"^(?P<why>.*) → 0 by policy$")
_POLICY_EXCLUDE = re.compile(r"^(?P<why>.*) → excluded by policy, weights re-normalised$")
_POLICY_FAIL = re.compile(r"^(?P<why>.*) \(missing-data policy: fail\)$")
_DIVISION = re.compile(r"^division by zero: (?P<expression>.*)$")
_TOO_LARGE = re.compile(r"^the result is too large: (?P<expression>.*)$")


def explain_reason(text: str, _: Translate = english) -> str:
    """Why an item has no value, from the engine's words."""
    if text == "no value":
        return _("no value")
    if text == "no rating yet":
        return _("no rating yet")
    if text == "the scoring rule gave no points":
        return _("the scoring rule gave no points")
    if match := _DIVISION.match(text):
        return _("division by zero in %(expression)s", expression=match["expression"])
    if match := _TOO_LARGE.match(text):
        return _("the result is too large in %(expression)s", expression=match["expression"])
    return text


def explain_note(note: str, _: Translate = english) -> str:
    """A trace note in plain words: 'division by zero: a / b → 0 by policy' → 'division by zero
    (a / b) → 0 by the missing-data policy'."""
    if match := _POLICY_ZERO.match(note):
        return _("%(reason)s → 0 by the missing-data policy", reason=explain_reason(match["why"], _))
    if match := _POLICY_EXCLUDE.match(note):
        return _(
            "%(reason)s → left out by the missing-data policy; its weight goes to the other items",
            reason=explain_reason(match["why"], _),
        )
    return explain_reason(note, _)


def explain_error(error: str, _: Translate = english) -> str:
    if match := _POLICY_FAIL.match(error):
        return _("%(reason)s, and the missing-data policy fails the scorecard", reason=explain_reason(match["why"], _))
    if error.startswith("scoring: "):
        return _("the scoring rule failed: %(reason)s", reason=error.removeprefix("scoring: "))
    return explain_reason(error, _)


_TARGET_HOLDERS = [
    (re.compile(r"^employee target, (?P<set>[^:]+): (?P<detail>.*)$"), "employee"),
    (re.compile(r"^role (?P<role>\S+) default, (?P<set>[^:]+): (?P<detail>.*)$"), "role"),
    (re.compile(r"^department (?P<department>\S+) default, (?P<set>[^:]+): (?P<detail>.*)$"), "department"),
    (re.compile(r"^department (?P<department>\S+) total, (?P<set>[^:]+): (?P<detail>.*)$"), "share"),
]
_SPLIT = re.compile(r", split (?P<how>.+?) among (?P<count>\d+) members(?: in role (?P<role>\S+))?$")
_LESS = re.compile(r", less own targets of (?P<who>.+?)(?=, split |$)")


def _split_how(how: str, _: Translate) -> str:
    if how == "equally":
        return _("equally")
    if how == "by last period's share":
        return _("by last period's share")
    if how == "equally (nobody had a value last period)":
        return _("equally (nobody had a value last period)")
    if match := re.match(r"^by the weights in '(?P<attribute>[^']+)'$", how):
        return _("by the weights in '%(attribute)s'", attribute=match["attribute"])
    if match := re.match(r"^equally \(no member has a positive '(?P<attribute>[^']+)'\)$", how):
        return _("equally (no member has a positive '%(attribute)s')", attribute=match["attribute"])
    return how


def explain_target_source(
    source: str | None, rules: TemplateRules | None = None, lang: str = "en", _: Translate = english
) -> str | None:
    """Where a target came from, in words: whose entry, which target set (by its label), and how it
    was spread over the months or shared out."""
    if not source:
        return None
    for pattern, holder in _TARGET_HOLDERS:
        match = pattern.match(source)
        if match is None:
            continue
        set_slug = match["set"]
        set_label = label_text((rules.target_sets if rules else {}).get(set_slug), lang) or set_slug
        detail = match["detail"]
        split_text = less_text = ""
        if split := _SPLIT.search(detail):
            split_text = (
                _(
                    "shared out %(how)s among %(count)s members in role %(role)s",
                    how=_split_how(split["how"], _),
                    count=split["count"],
                    role=split["role"],
                )
                if split["role"]
                else _(
                    "shared out %(how)s among %(count)s members", how=_split_how(split["how"], _), count=split["count"]
                )
            )
            detail = detail[: split.start()]
        if less := _LESS.search(detail):
            less_text = _("less the own targets of %(who)s", who=less["who"])
            detail = detail[: less.start()]
        detail = detail.replace("(in proportion to months)", _("(spread evenly over the months)")).replace(
            "(by month shares)", _("(by month shares)")
        )
        if holder == "employee":
            text = _("your own target in “%(set)s”: %(detail)s", set=set_label, detail=detail)
        elif holder == "role":
            text = _(
                "the default for role %(role)s in “%(set)s”: %(detail)s",
                role=match["role"],
                set=set_label,
                detail=detail,
            )
        elif holder == "department":
            text = _(
                "the default for department %(department)s in “%(set)s”: %(detail)s",
                department=match["department"],
                set=set_label,
                detail=detail,
            )
        else:
            text = _(
                "a share of department %(department)s's total in “%(set)s”: %(detail)s",
                department=match["department"],
                set=set_label,
                detail=detail,
            )
        return "; ".join(part for part in (text, less_text, split_text) if part)
    return source


# --- one item ------------------------------------------------------------------------------------

_PRECEDENCE = {ast.Add: 1, ast.Sub: 1, ast.Mult: 2, ast.Div: 2}
_SYMBOLS = {ast.Add: "+", ast.Sub: "−", ast.Mult: "×", ast.Div: "÷"}


def _dotted(node) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        return f"{node.value.id}.{node.attr}"
    return None


def _parse(formula: str | None):
    if not formula:
        return None
    try:
        return ast.parse(formula, mode="eval").body
    except SyntaxError:
        return None


def _names(tree) -> list[str]:
    if tree is None:
        return []
    found = []
    for node in ast.walk(tree):
        name = _dotted(node)
        if name is not None and not (isinstance(node, ast.Name) and _is_prefix(node, tree)):
            found.append(name)
    return list(dict.fromkeys(found))


def _is_prefix(node: ast.Name, tree) -> bool:
    """`target` in `target.sales` is not a name of its own."""
    return any(isinstance(parent, ast.Attribute) and parent.value is node for parent in ast.walk(tree))


class _ItemWords:
    """Labels and formatted values for the names one KPI formula reads."""

    def __init__(self, kpi: dict, inputs: dict, rules: TemplateRules, lang: str, _: Translate):
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

    def render(self, node, parent: int = 0, right: bool = False) -> str | None:
        """The formula with each name's label and value, in arithmetic signs; None for anything
        but + − × ÷ over names and numbers."""
        name = _dotted(node)
        if name is not None:
            return f"{self.label(name)} {self.value(name)}"
        if isinstance(node, ast.Constant) and _finite(node.value):
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


def _band_range(bands: list[dict], index: int, format: str | None, unit: str | None) -> str:
    """Band `index` (bands listed from the highest minimum down) covers [its min, the previous min)."""
    low = format_value(bands[index]["min"], format, unit)
    if index == 0:
        return f"≥ {low}"
    return f"{low} – < {format_value(bands[index - 1]['min'], format, unit)}"


def describe_scoring(rule: dict | None, value, score, kpi: dict, _: Translate = english) -> str:
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
        if _finite(score) and rule.get("cap") is not None and math.isclose(score, rule["cap"]) and _finite(value):
            text += _(" — the cap applies")
        return text
    if rule["type"] == "bands":
        bands = rule["bands"]
        if _finite(value):
            for index, band in enumerate(bands):
                if value >= band["min"]:
                    return _(
                        "band %(band)s of %(count)s: %(range)s",
                        band=index + 1,
                        count=len(bands),
                        range=_band_range(bands, index, format, unit),
                    )
            return _("below every band (under %(lowest)s)", lowest=format_value(bands[-1]["min"], format, unit))
        listed = ", ".join(
            f"{_band_range(bands, index, format, unit)} → {format_number(band['points'])}"
            for index, band in enumerate(bands)
        )
        return _(
            "bands %(bands)s, otherwise %(otherwise)s",
            bands=listed,
            otherwise=format_number(rule.get("otherwise") or 0),
        )
    return _("scoring formula %(formula)s", formula=rule.get("formula", ""))


def _attainment(entry: dict, kpi: dict, words: _ItemWords | None, score, top) -> tuple[float | None, str | None]:
    """How far the item got: against its target where it has one, else its score against the most
    it can score. (ratio, basis: "target" or "score")."""
    value, target = entry.get("value"), entry.get("target")
    if words is not None and _finite(value):
        targets = [n for n in words.names if n.startswith("target.")]
        tree = words.tree
        if (
            isinstance(tree, ast.BinOp)
            and isinstance(tree.op, ast.Div)
            and (_dotted(tree.right) or "").startswith("target.")
        ):  # sales / target.sales is itself the attainment
            return value, "target"
        if not targets and _finite(target) and target:  # measured against a target of the KPI's own
            if kpi.get("direction") == "lower":
                return (target / value if value else None), "target"
            return value / target, "target"
    if _finite(score) and top:
        return score / top, "score"
    return None, None


def explain_item(entry: dict, rules: TemplateRules, lang: str = "en", _: Translate = english) -> dict:
    """One item of a scorecard (a trace entry with its definition) in words and formatted values."""
    key = entry["key"]
    kind = entry.get("kind") or ("manual" if key in rules.manual else "kpi")
    kpi = (rules.kpis.get(key) or {}) if kind == "kpi" else {}
    label = entry.get("label") or kpi.get("label") or rules.manual.get(key)
    value, score, weight, points = entry.get("value"), entry.get("score"), entry.get("weight"), entry.get("points")
    excluded, error = bool(entry.get("excluded")), entry.get("error")
    notes = list(entry.get("notes") or [])
    format, unit = kpi.get("format") or entry.get("format"), kpi.get("unit") or entry.get("unit")

    if kind == "manual":
        value_text = format_points(value) if _finite(value) else NO_VALUE
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
        for pattern in (_POLICY_ZERO, _POLICY_EXCLUDE):
            if match := pattern.match(note):
                policy_reason = explain_reason(match["why"], _)
    if kind == "manual":
        calculation = (
            _("rated %(points)s points", points=format_points(value)) if _finite(value) else _("No rating yet")
        )
    else:
        calculation = words.calculation(value_text if _finite(value) else _("no value"))

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
    counted = not excluded and not error and _finite(score) and _finite(weight)
    ratio, basis = _attainment(entry, kpi, words, score, top) if not excluded and not error else (None, None)
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
        #: the notes the sentence does not already tell (the missing-data policy's is in it)
        "other_notes": [
            explain_note(note, _) for note in notes if not (_POLICY_ZERO.match(note) or _POLICY_EXCLUDE.match(note))
        ],
        "target_source": explain_target_source(entry.get("target_source"), rules, lang, _),
        "formula": kpi.get("formula") or entry.get("formula"),
        "metrics": entry.get("metrics") or {},
        "scoring": describe_scoring(kpi.get("scoring"), None, None, kpi, _) if kind == "kpi" else None,
        "max_score": top,
        "max_points": top * weight / 100 if counted and top is not None else None,
        "attainment": ratio,
        "attainment_basis": basis,
    }


# --- where points are to be gained ---------------------------------------------------------------


def _value_for_points(rule: dict, points: float) -> float | None:
    slope = (rule["points_to"] - rule["points_from"]) / (rule["value_to"] - rule["value_from"])
    return None if not slope else rule["value_from"] + (points - rule["points_from"]) / slope


def gain_hint(item: dict, rules: TemplateRules, _: Translate = english) -> str:
    """What it takes to get more of an item's points."""
    if item["kind"] == "manual":
        return _("a rating of up to %(points)s points", points=format_number(item["max_score"]))
    kpi = rules.kpis.get(item["key"]) or {}
    rule, format, unit = kpi.get("scoring"), kpi.get("format"), kpi.get("unit")
    if not rule:
        return ""
    top = item["max_score"]
    if rule["type"] == "linear":
        needed = _value_for_points(rule, top)
        if needed is None:
            return ""
        rising = rule["points_to"] > rule["points_from"]
        if rising:
            return _(
                "%(value)s or more gives the item's full %(points)s points",
                value=format_value(needed, format, unit),
                points=format_number(top),
            )
        return _(
            "%(value)s or less gives the item's full %(points)s points",
            value=format_value(needed, format, unit),
            points=format_number(top),
        )
    if rule["type"] == "bands":
        bands, score = rule["bands"], item["score"] or 0.0
        better = [(band["points"], index) for index, band in enumerate(bands) if band["points"] > score]
        if not better:
            return ""
        points, index = min(better)
        extra = (points - score) * item["weight"] / 100
        text = _(
            "next band %(range)s gives %(points)s points (+%(extra)s in the total)",
            range=_band_range(bands, index, format, unit),
            points=format_number(points),
            extra=format_points(extra),
        )
        best_points, best_index = max(better)
        if best_index != index:
            text += _(
                "; the top band %(range)s gives %(points)s",
                range=_band_range(bands, best_index, format, unit),
                points=format_number(best_points),
            )
        return text
    return _("up to %(points)s points", points=format_number(top))


def gains(items: list[dict], rules: TemplateRules, _: Translate = english, minimum: float = 0.05) -> list[dict]:
    """Items by the points still to be gained (the most points the item can give at its weight,
    less its points now), largest first. Items left out, failing or without a known maximum are
    not ranked."""
    found = []
    for item in items:
        if item["max_points"] is None or not _finite(item["points"]):
            continue
        gain = item["max_points"] - item["points"]
        if gain >= minimum:
            found.append(
                {
                    "key": item["key"],
                    "label": item["label"],
                    "points": item["points"],
                    "max_points": item["max_points"],
                    "gain": gain,
                    "points_text": format_points(item["points"]),
                    "max_points_text": format_points(item["max_points"]),
                    "gain_text": format_points(gain),
                    "hint": gain_hint(item, rules, _),
                }
            )
    return sorted(found, key=lambda found_item: (-found_item["gain"], found_item["key"]))


# --- a whole scorecard ---------------------------------------------------------------------------


def _card_error(error: str | None, items: list[dict], lang: str, _: Translate) -> str | None:
    """Why a scorecard has no total: each failing item by its label, in words."""
    if not error:
        return None
    if error == "every item was excluded for missing data":
        return _("every item was left out for missing data")
    labels = {item["key"]: label_text(item["label"], lang) or item["key"] for item in items}
    parts = []
    for part in error.split("; "):
        key, _colon, reason = part.partition(": ")
        parts.append(
            f"{labels[key]}: {explain_error(reason, _)}" if key in labels and reason else explain_error(part, _)
        )
    return "; ".join(parts)


def explain_scorecard(
    card: dict, rules: TemplateRules, lang: str = "en", _: Translate = english, previous: dict | None = None
) -> dict:
    """A scorecard object (with definitions) as the pages show it: sections of explained items,
    the comparison with `previous` (an earlier scorecard of the same employee), and the gains."""
    items = [explain_item(entry, rules, lang, _) for entry in card["items"]]
    before = {entry["key"]: entry for entry in (previous or {}).get("items", [])}
    for item in items:
        old = before.get(item["key"])
        item["previous_points"] = old.get("points") if old else None
        item["delta"] = (
            (item["points"] - old["points"]) if old and _finite(item["points"]) and _finite(old.get("points")) else None
        )
        item["delta_text"] = format_delta(item["delta"]) if item["delta"] is not None else NO_VALUE

    order = [section.get("name") for section in rules.sections]
    for item in items:
        if item["section"] not in order:
            order.append(item["section"])
    sections = []
    for name in order:
        members = [item for item in items if item["section"] == name]
        if not members:
            continue
        definition = rules.section(name)
        weight = sum(item["weight"] for item in members if _finite(item["weight"]))
        points = sum(item["points"] for item in members if _finite(item["points"]))
        sections.append(
            {
                "name": name,
                "label": definition.get("label") or name,
                "items": members,
                "weight_text": format_weight(weight),
                "points_text": format_points(points),
            }
        )

    comparison = None
    if previous is not None:
        delta = (
            card["total"] - previous["total"] if _finite(card.get("total")) and _finite(previous.get("total")) else None
        )
        comparison = {
            "period": previous["period"],
            "total": previous.get("total"),
            "grade": previous.get("grade"),
            "total_text": format_points(previous.get("total")),
            "delta": delta,
            "delta_text": format_delta(delta) if delta is not None else NO_VALUE,
        }
    return {
        "employee": card["employee"],
        "name": card["name"],
        "department": card["department"],
        "period": card["period"],
        "template": card["template"],
        "template_label": rules.label or card["template"],
        "version": card.get("version"),
        "run": card.get("run"),
        "locked": card.get("locked"),
        "total": card.get("total"),
        "total_text": format_points(card.get("total")),
        "grade": card.get("grade"),
        "grade_label": rules.grade_label(card.get("grade")),
        "rank_department": card.get("rank_department"),
        "rank_company": card.get("rank_company"),
        "error": card.get("error"),
        "error_text": _card_error(card.get("error"), items, lang, _),
        "sections": sections,
        "items": items,
        "previous": comparison,
        "gains": gains(items, rules, _),
        "attainment": [
            {
                "key": item["key"],
                "label": label_text(item["label"], lang),
                "ratio": item["attainment"],
                "basis": item["attainment_basis"],
                "text": format_percent(item["attainment"]),
            }
            for item in items
            if item["attainment"] is not None
        ],
    }
