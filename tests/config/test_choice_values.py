"""A filter compares a choice field only with one of its options, and a step condition compares
`grade` only with a grade some template gives: anything else would never match, so the
configuration is refused at the value, with the values and "did you mean"."""

from __future__ import annotations

from perfrules.config.validation import check_config, dataset_catalogue
from perfrules.formula import BOOLEAN, builtin_functions, compile_formula
from perfrules.problems import Problem

ACTIVITIES = {
    "slug": "activities",
    "label": {"zh": "活动", "en": "Activities"},
    "owner_field": "owner",
    "date_field": "day",
    "fields": [
        {"name": "owner", "label": {"zh": "负责人", "en": "Owner"}, "type": "employee"},
        {"name": "day", "label": {"zh": "日期", "en": "Date"}, "type": "date"},
        {
            "name": "type",
            "label": {"zh": "类型", "en": "Type"},
            "type": "choice",
            "options": [
                {"value": value, "label": {"zh": value, "en": value}} for value in ("meeting", "call", "visit")
            ],
        },
    ],
}
TEMPLATE = {
    "slug": "rep",
    "sections": [],
    "grades": [{"grade": "A", "min": 80}, {"grade": "B", "min": 0}],
}


def config(metric_filter: str, condition: str) -> dict:
    return {
        "datasets": {"activities": ACTIVITIES},
        "metrics": {
            "meetings": {"slug": "meetings", "dataset": "activities", "aggregate": "count", "filter": metric_filter}
        },
        "templates": {"rep": TEMPLATE},
        "approval_flows": {
            "review": {
                "slug": "review",
                "steps": [{"name": "hr", "actor": "role:hr", "condition": condition}],
            }
        },
    }


def test_an_unknown_option_or_grade_is_refused_with_the_values_and_the_place():
    problems = check_config(config("type == 'meting'", "total < 60 or grade == 'Z'"), builtin_functions())
    assert problems == [
        Problem(
            "metrics.meetings.filter",
            "type is never 'meting': its values are 'meeting', 'call', 'visit' — did you mean 'meeting'?\n"
            "    type == 'meting'\n"
            "             ^^^^^^",
        ),
        Problem(
            "approval_flows.review.steps[0].condition",
            "grade is never 'Z': its values are 'A', 'B'\n    total < 60 or grade == 'Z'\n                            ^",
        ),
    ]


def test_options_and_grades_that_exist_are_accepted():
    assert check_config(config("type in ('meeting', 'visit')", "grade == 'A'"), builtin_functions()) == []
    # without a template there are no grades to check against
    without_templates = config("'call' != type", "grade == 'S'")
    del without_templates["templates"]
    assert check_config(without_templates, builtin_functions()) == []


def test_a_published_filter_is_evaluated_as_it_was_checked():
    """Versions published before options were checked still run (they count nothing, as before)."""
    compiled = compile_formula("type == 'meting'", dataset_catalogue(ACTIVITIES, options=False), expect=BOOLEAN)
    assert compiled.evaluate({"type": "meeting"}).value is False
