"""Scorecards in plain words: values formatted by their KPI's unit and format, each item's trace
told as a sentence, the comparison with an earlier scorecard, and where the most points are to be
gained.

Plain Python over a scorecard object (`export.scorecard_object` with definitions) and the rules of
the configuration version it was scored by (`TemplateRules`), so that pages, exports and the API
can all tell the same story. Every sentence goes through a `_` callable with gettext's signature
(`_(msgid, **variables)`): the web passes Flask-Babel's `gettext`, others keep the English default.
Configuration labels (`{zh: …, en: …}`) are shown in `lang` ("zh" or "en").

The modules, each building on those before it: `wording` (numbers and labels), `rules` (what a
version says of a template), `reasons` (the engine's notes and errors as sentences), `items` (one
item), `gains` (where points are to be gained), `scorecard` (a whole scorecard). This package
gathers what the pages, the API and the tests use.
"""

from .gains import gains
from .items import describe_scoring, explain_item
from .reasons import explain_error, explain_note, explain_reason, explain_target_source
from .rules import RuleBook, TemplateRules, max_score
from .scorecard import explain_scorecard
from .wording import (
    Translate,
    english,
    format_delta,
    format_number,
    format_percent,
    format_points,
    format_value,
    format_weight,
    label_text,
)

__all__ = [
    "RuleBook",
    "TemplateRules",
    "Translate",
    "describe_scoring",
    "english",
    "explain_error",
    "explain_item",
    "explain_note",
    "explain_reason",
    "explain_scorecard",
    "explain_target_source",
    "format_delta",
    "format_number",
    "format_percent",
    "format_points",
    "format_value",
    "format_weight",
    "gains",
    "label_text",
    "max_score",
]
