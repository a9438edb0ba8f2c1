"""A whole scorecard in plain words: its sections of explained items, its error, the comparison
with an earlier scorecard, and the gains."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypedDict

from ..shapes import Label
from .gains import Gain, gains
from .items import Basis, ExplainedItem, explain_item
from .reasons import explain_error
from .rules import TemplateRules
from .wording import (
    NO_VALUE,
    Translate,
    english,
    finite,
    format_delta,
    format_percent,
    format_points,
    format_weight,
    label_text,
)

if TYPE_CHECKING:  # the scorecard objects explained: read, not built, here
    from ..export import ScorecardObject


class SectionView(TypedDict):
    name: str | None
    label: Label | str | None
    items: list[ExplainedItem]
    weight_text: str
    points_text: str


class Comparison(TypedDict):
    """The earlier scorecard a scorecard is compared with."""

    period: str
    total: float | None
    grade: str | None
    total_text: str
    delta: float | None
    delta_text: str


class Attainment(TypedDict):
    key: str
    label: str
    ratio: float
    basis: Basis | None
    text: str


class ScorecardView(TypedDict):
    """A scorecard as the pages show it (`explain_scorecard`)."""

    employee: str
    name: str
    department: str
    period: str
    template: str
    template_label: Label | str
    version: int | None
    run: int | None
    locked: bool | None
    total: float | None
    total_text: str
    grade: str | None
    grade_label: Label | None
    rank_department: int | None
    rank_company: int | None
    error: str | None
    error_text: str | None
    sections: list[SectionView]
    items: list[ExplainedItem]
    previous: Comparison | None
    gains: list[Gain]
    attainment: list[Attainment]


def _card_error(error: str | None, items: list[ExplainedItem], lang: str, _: Translate) -> str | None:
    """Why a scorecard has no total: each failing item by its label, in words."""
    if not error:
        return None
    if error == "every item was excluded for missing data":
        return _("every item was left out for missing data")
    labels = {item["key"]: label_text(item["label"], lang) or item["key"] for item in items}
    parts: list[str] = []
    for part in error.split("; "):
        key, _colon, reason = part.partition(": ")
        parts.append(
            f"{labels[key]}: {explain_error(reason, _)}" if key in labels and reason else explain_error(part, _)
        )
    return "; ".join(parts)


def explain_scorecard(
    card: ScorecardObject,
    rules: TemplateRules,
    lang: str = "en",
    _: Translate = english,
    previous: ScorecardObject | None = None,
) -> ScorecardView:
    """A scorecard object (with definitions) as the pages show it: sections of explained items,
    the comparison with `previous` (an earlier scorecard of the same employee), and the gains."""
    rules = rules.in_language(lang)
    items = [explain_item(entry, rules, lang, _) for entry in card["items"]]
    before = {entry["key"]: entry for entry in (previous or {}).get("items", [])}
    for item in items:
        old = before.get(item["key"])
        item["previous_points"] = old.get("points") if old else None
        item["delta"] = (
            (item["points"] - old["points"]) if old and finite(item["points"]) and finite(old.get("points")) else None
        )
        item["delta_text"] = format_delta(item["delta"]) if item["delta"] is not None else NO_VALUE

    order = [section.get("name") for section in rules.sections]
    for item in items:
        if item["section"] not in order:
            order.append(item["section"])
    sections: list[SectionView] = []
    for name in order:
        members = [item for item in items if item["section"] == name]
        if not members:
            continue
        definition = rules.section(name)
        weight = sum(item["weight"] for item in members if finite(item["weight"]))
        points = sum(item["points"] for item in members if finite(item["points"]))
        sections.append(
            {
                "name": name,
                "label": definition.get("label") or name,
                "items": members,
                "weight_text": format_weight(weight),
                "points_text": format_points(points),
            }
        )

    comparison: Comparison | None = None
    if previous is not None:
        delta = (
            card["total"] - previous["total"] if finite(card.get("total")) and finite(previous.get("total")) else None
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
