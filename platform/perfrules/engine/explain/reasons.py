"""The engine's notes, errors and target sources, told again as sentences in the reader's
language."""

from __future__ import annotations

import re

from .rules import TemplateRules
from .wording import Translate, english, label_text

POLICY_ZERO = re.compile(r"^(?P<why>.*) → 0 by policy$")
POLICY_EXCLUDE = re.compile(r"^(?P<why>.*) → excluded by policy, weights re-normalised$")
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
    if match := POLICY_ZERO.match(note):
        return _("%(reason)s → 0 by the missing-data policy", reason=explain_reason(match["why"], _))
    if match := POLICY_EXCLUDE.match(note):
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
