"""Where the most points are to be gained: for each item, what it takes to get more."""

from __future__ import annotations

from typing import TypedDict

from ..shapes import Document, Label
from .items import ExplainedItem, band_range
from .rules import TemplateRules
from .wording import Translate, english, finite, format_number, format_points, format_value


class Gain(TypedDict):
    """An item with points still to be gained, and what it takes."""

    key: str
    label: Label | str | None
    points: float
    max_points: float
    gain: float
    points_text: str
    max_points_text: str
    gain_text: str
    hint: str


def _value_for_points(rule: Document, points: float) -> float | None:
    slope = (rule["points_to"] - rule["points_from"]) / (rule["value_to"] - rule["value_from"])
    value: float | None = None if not slope else rule["value_from"] + (points - rule["points_from"]) / slope
    return value


def gain_hint(item: ExplainedItem, rules: TemplateRules, _: Translate = english) -> str:
    """What it takes to get more of an item's points."""
    if item["kind"] == "manual":
        return _("a rating of up to %(points)s points", points=format_number(item["max_score"]))
    kpi = rules.kpis.get(item["key"]) or {}
    rule, format, unit = kpi.get("scoring"), kpi.get("format"), kpi.get("unit")
    if not rule:
        return ""
    top = item["max_score"]
    if rule["type"] == "linear":
        needed = _value_for_points(rule, top) if top is not None else None  # `gains` hints items with a top
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
        weight = item["weight"]
        extra = (points - score) * weight / 100 if weight is not None else None  # `gains`: items with a weight
        text = _(
            "next band %(range)s gives %(points)s points (+%(extra)s in the total)",
            range=band_range(bands, index, format, unit),
            points=format_number(points),
            extra=format_points(extra),
        )
        best_points, best_index = max(better)
        if best_index != index:
            text += _(
                "; the top band %(range)s gives %(points)s",
                range=band_range(bands, best_index, format, unit),
                points=format_number(best_points),
            )
        return text
    return _("up to %(points)s points", points=format_number(top))


def gains(
    items: list[ExplainedItem], rules: TemplateRules, _: Translate = english, minimum: float = 0.05
) -> list[Gain]:
    """Items by the points still to be gained (the most points the item can give at its weight,
    less its points now), largest first. Items left out, failing or without a known maximum are
    not ranked."""
    found: list[Gain] = []
    for item in items:
        points, max_points = item["points"], item["max_points"]
        if max_points is None or points is None or not finite(points):
            continue
        gain = max_points - points
        if gain >= minimum:
            found.append(
                {
                    "key": item["key"],
                    "label": item["label"],
                    "points": points,
                    "max_points": max_points,
                    "gain": gain,
                    "points_text": format_points(points),
                    "max_points_text": format_points(max_points),
                    "gain_text": format_points(gain),
                    "hint": gain_hint(item, rules, _),
                }
            )
    return sorted(found, key=lambda found_item: (-found_item["gain"], found_item["key"]))
