"""Scorecards in plain words (engine.explain): formatting, sentences, target sources, gains, the
comparison with an earlier scorecard — over hand-made traces, without a database."""

from __future__ import annotations

import copy

import pytest

from perfrules.engine.explain import (
    TemplateRules,
    describe_scoring,
    explain_item,
    explain_note,
    explain_scorecard,
    explain_target_source,
    format_delta,
    format_number,
    format_percent,
    format_points,
    format_value,
    format_weight,
    gains,
    max_score,
)

SNAPSHOT = {
    "metrics": {
        "sales": {"slug": "sales", "label": {"zh": "销售额", "en": "Sales"}},
        "deals_won": {"slug": "deals_won", "label": {"zh": "赢单数", "en": "Won"}},
        "deals_lost": {"slug": "deals_lost", "label": {"zh": "输单数", "en": "Lost"}},
        "visits": {"slug": "visits", "label": {"zh": "拜访数", "en": "Visits"}},
    },
    "kpis": {
        "attainment": {
            "slug": "attainment",
            "label": {"zh": "完成率", "en": "Attainment"},
            "formula": "sales / target.sales",
            "format": "percent",
            "scoring": {
                "type": "linear",
                "value_from": 0,
                "value_to": 1.2,
                "points_from": 0,
                "points_to": 120,
                "floor": 0,
                "cap": 120,
            },
        },
        "win_rate": {
            "slug": "win_rate",
            "label": {"zh": "赢单率", "en": "Win rate"},
            "format": "percent",
            "formula": "deals_won / (deals_won + deals_lost)",
            "missing": "exclude",
            "scoring": {
                "type": "bands",
                "bands": [{"min": 0.5, "points": 100}, {"min": 0.25, "points": 60}],
                "otherwise": 20,
            },
        },
        "growth": {
            "slug": "growth",
            "label": {"zh": "环比增长", "en": "Growth"},
            "formula": "sales / prev.sales - 1",
            "scoring": {"type": "formula", "formula": "clamp(50 + value * 100, 0, 100)"},
        },
        "visit_count": {
            "slug": "visit_count",
            "label": {"zh": "拜访次数", "en": "Visits"},
            "formula": "visits",
            "unit": "次",
            "scoring": {
                "type": "bands",
                "bands": [{"min": 12, "points": 100}, {"min": 8, "points": 80}],
                "otherwise": 30,
            },
        },
        "quality": {
            "slug": "quality",
            "label": {"zh": "质量", "en": "Quality"},
            "formula": "IF(deals_won > 0, deals_won / (deals_won + deals_lost), 0)",
            "format": "percent",
            "scoring": {"type": "linear", "value_from": 0, "value_to": 1, "points_from": 0, "points_to": 100},
        },
    },
    "targets": {"t2026": {"label": {"zh": "年度目标", "en": "Targets 2026"}}},
    "templates": {
        "rep": {
            "slug": "rep",
            "label": {"zh": "销售考核", "en": "Rep"},
            "sections": [
                {
                    "name": "results",
                    "label": {"zh": "业绩", "en": "Results"},
                    "weight": 70,
                    "items": [{"kpi": "attainment", "weight": 60}, {"kpi": "win_rate", "weight": 40}],
                },
                {
                    "name": "process",
                    "label": {"zh": "过程", "en": "Process"},
                    "weight": 30,
                    "items": [
                        {"kpi": "growth", "weight": 50},
                        {"manual": "rating", "label": {"zh": "上级评分", "en": "Manager rating"}, "weight": 50},
                    ],
                },
            ],
            "grades": [
                {"grade": "A", "min": 85, "label": {"zh": "优秀", "en": "Excellent"}},
                {"grade": "S", "min": 95, "label": {"zh": "卓越", "en": "Outstanding"}},
                {"grade": "D", "min": 0, "label": {"zh": "待改进", "en": "Needs improvement"}},
            ],
        }
    },
}
RULES = TemplateRules.from_snapshot(SNAPSHOT, "rep")


def entry(key, **values):
    section = {"attainment": "results", "win_rate": "results"}.get(key, "process")
    return {"key": key, "section": section, "target": None, "error": None, "excluded": False, "notes": [], **values}


R1_ATTAINMENT = entry(
    "attainment",
    value=1.2,
    target=20000.0,
    score=120.0,
    weight=42.0,
    points=50.4,
    inputs={"sales": 24000.0, "target.sales": 20000.0},
    target_source="employee target, t2026: 2026-10",
)


def test_numbers_are_formatted_for_reading():
    assert format_number(1234000) == "1,234,000" and format_number(915726.3099999) == "915,726.31"
    assert format_number(4.5) == "4.5" and format_number(-0.001) == "0" and format_number(None) == "—"
    assert format_number(float("nan")) == "—" and format_number(True) == "—"
    assert format_percent(1.028) == "102.8%" and format_percent(1.2) == "120%" and format_percent(2 / 3) == "66.7%"
    assert format_value(0.875, "percent") == "87.5%" and format_value(12, None, "次") == "12 次"
    assert format_value(None, "percent") == "—"
    assert format_points(105.4) == "105.4" and format_points(60) == "60.0" and format_points(-0.01) == "0.0"
    assert format_weight(42.0) == "42%" and format_weight(100 / 3) == "33.3%"
    assert format_delta(3.24) == "+3.2" and format_delta(-6.6) == "−6.6" and format_delta(0.01) == "±0.0"


def test_rules_come_from_the_version_snapshot():
    assert [band["grade"] for band in RULES.grades] == ["S", "A", "D"]  # highest minimum first
    assert RULES.grade_label("S") == {"zh": "卓越", "en": "Outstanding"} and RULES.grade_label("X") is None
    assert RULES.section("process")["weight"] == 30 and RULES.section("nope") == {"name": "nope"}
    assert RULES.manual == {"rating": {"zh": "上级评分", "en": "Manager rating"}}
    assert TemplateRules.from_snapshot({}, "rep").sections == []


@pytest.mark.parametrize(
    "rule, top",
    [
        ({"type": "linear", "value_from": 0, "value_to": 1.2, "points_from": 0, "points_to": 120, "cap": 120}, 120),
        (
            {"type": "linear", "value_from": 0, "value_to": 1, "points_from": 0, "points_to": 100},
            None,
        ),  # rises for ever
        ({"type": "linear", "value_from": 0, "value_to": 1, "points_from": 70, "points_to": 70}, 70),
        ({"type": "bands", "bands": [{"min": 90, "points": 40}, {"min": 0, "points": 100}]}, 100),
        ({"type": "bands", "bands": [{"min": 0.5, "points": 60}], "otherwise": 80}, 80),
        ({"type": "formula", "formula": "clamp(value * 250, 0, 100)"}, 100),
        ({"type": "formula", "formula": "value * 250"}, None),
        (None, None),
    ],
)
def test_the_most_an_item_can_score(rule, top):
    assert max_score(rule) == top
    assert RULES.max_score("rating", "manual") == 100


def test_an_attainment_in_plain_words():
    item = explain_item(R1_ATTAINMENT, RULES)
    assert item["sentence"] == (
        "Sales 24,000 ÷ target 20,000 = 120% → 120.0 points (linear from 0% (0 points) to 120% (120 points), "
        "never below 0, capped at 120 — the cap applies) × weight 42% = 50.4 points"
    )
    assert (item["value_text"], item["target_text"], item["score_text"], item["weight_text"], item["points_text"]) == (
        "120%",
        "20,000",
        "120.0",
        "42%",
        "50.4",
    )
    assert item["target_source"] == "your own target in “Targets 2026”: 2026-10"
    assert item["attainment"] == 1.2 and item["attainment_basis"] == "target"
    assert item["max_score"] == 120 and item["max_points"] == pytest.approx(50.4)


def test_bands_brackets_and_constants_in_words():
    win = explain_item(
        entry(
            "win_rate", value=0.25, score=60.0, weight=40.0, points=24.0, inputs={"deals_won": 1.0, "deals_lost": 3.0}
        ),
        RULES,
    )
    assert win["sentence"] == (
        "Won 1 ÷ (Won 1 + Lost 3) = 25% → 60.0 points (band 2 of 2: 25% – < 50%) × weight 40% = 24.0 points"
    )
    assert win["scoring"] == "bands ≥ 50% → 100, 25% – < 50% → 60, otherwise 20"
    low = describe_scoring(SNAPSHOT["kpis"]["win_rate"]["scoring"], 0.1, 20, SNAPSHOT["kpis"]["win_rate"])
    assert low == "below every band (under 25%)"
    growth = explain_item(
        entry(
            "growth", value=1.0, score=100.0, weight=15.0, points=15.0, inputs={"sales": 24000.0, "prev.sales": 12000.0}
        ),
        RULES,
    )
    assert growth["sentence"].startswith(
        "Sales 24,000 ÷ Sales last period 12,000 − 1 = 1 → 100.0 points "
        "(scoring formula clamp(50 + value * 100, 0, 100))"
    )
    visits = explain_item(
        entry("visit_count", value=9.0, score=80.0, weight=10.0, points=8.0, inputs={"visits": 9.0}), RULES
    )
    assert visits["sentence"].startswith("Visits 9 次 → 80.0 points (band 2 of 2: 8 次 – < 12 次)")
    assert visits["value_text"] == "9 次"


def test_a_formula_with_functions_lists_its_inputs():
    item = explain_item(
        entry("quality", value=0.5, score=50.0, weight=10.0, points=5.0, inputs={"deals_won": 1.0, "deals_lost": 1.0}),
        RULES,
    )
    assert item["sentence"].startswith("Quality from Won 1, Lost 1 = 50% → 50.0 points")


def test_missing_values_errors_and_policies():
    zero = explain_item(
        entry(
            "attainment",
            value=None,
            target=0.0,
            score=0.0,
            weight=30.0,
            points=0.0,
            inputs={"sales": 500.0, "target.sales": 0.0},
            notes=["division by zero: sales / target.sales → 0 by policy"],
        ),
        RULES,
    )
    assert zero["sentence"] == (
        "Sales 500 ÷ target 0 = no value → 0.0 points (division by zero in sales / target.sales, "
        "0 by the missing-data policy) × weight 30% = 0.0 points"
    )
    assert zero["notes"] == ["division by zero in sales / target.sales → 0 by the missing-data policy"]
    assert zero["other_notes"] == [] and (zero["attainment"], zero["attainment_basis"]) == (0.0, "score")

    excluded = explain_item(
        entry(
            "growth",
            value=None,
            score=None,
            weight=0.0,
            points=None,
            excluded=True,
            inputs={"sales": 6000.0, "prev.sales": 0.0},
            notes=["division by zero: sales / prev.sales → excluded by policy, weights re-normalised"],
        ),
        RULES,
    )
    assert excluded["sentence"] == (
        "Sales 6,000 ÷ Sales last period 0 − 1 = no value → left out (division by zero "
        "in sales / prev.sales); its weight goes to the other items"
    )
    assert excluded["max_points"] is None and excluded["points_text"] == "—"

    failed = explain_item(
        entry(
            "attainment",
            value=None,
            score=None,
            weight=42.0,
            points=None,
            inputs={"sales": 1.0, "target.sales": None},
            error="no value (missing-data policy: fail)",
        ),
        RULES,
    )
    assert failed["sentence"] == (
        "Sales 1 ÷ target — = no value: no value, and the missing-data policy fails the scorecard"
    )

    unrated = explain_item(
        entry(
            "rating",
            kind="manual",
            value=None,
            score=None,
            weight=0.0,
            points=None,
            excluded=True,
            notes=["no rating yet → excluded by policy, weights re-normalised"],
        ),
        RULES,
    )
    assert unrated["sentence"] == (
        "No rating yet → left out by the missing-data policy; its weight goes to the other items"
    )
    rated = explain_item(entry("rating", kind="manual", value=80.0, score=80.0, weight=15.0, points=12.0), RULES)
    assert rated["sentence"] == "rated 80.0 points × weight 15% = 12.0 points"
    assert rated["max_points"] == pytest.approx(15.0)


def test_notes_and_target_sources_in_words():
    assert explain_note("no value → 0 by policy") == "no value → 0 by the missing-data policy"
    assert explain_note("the result is too large: a * b") == "the result is too large in a * b"
    assert explain_note("something new") == "something new"
    role = "role rep default, t2026: 2026 120,000 → 2026-10 10,000 (in proportion to months)"
    assert explain_target_source(role, RULES) == (
        "the default for role rep in “Targets 2026”: 2026 120,000 → 2026-10 10,000 (spread evenly over the months)"
    )
    assert explain_target_source("department EAST default, other: 2026-10", RULES) == (
        "the default for department EAST in “other”: 2026-10"
    )
    split = (
        "department EAST total, t2026: 2026-Q4 7,000,000 → 2026-11 2,333,333.33 (in proportion to months), "
        "less own targets of R1 20,000, split by last period's share among 23 members in role sales_rep"
    )
    assert explain_target_source(split, RULES) == (
        "a share of department EAST's total in “Targets 2026”: 2026-Q4 7,000,000 → 2026-11 2,333,333.33 "
        "(spread evenly over the months); less the own targets of R1 20,000; shared out by last period's share "
        "among 23 members in role sales_rep"
    )
    assert explain_target_source(None) is None and explain_target_source("made up") == "made up"


def test_where_the_points_are_to_be_gained():
    items = [
        explain_item(e, RULES)
        for e in (
            entry(
                "attainment",
                value=0.6,
                target=10000.0,
                score=60.0,
                weight=60.0,
                points=36.0,
                inputs={"sales": 6000.0, "target.sales": 10000.0},
            ),
            entry(
                "win_rate",
                value=0.25,
                score=60.0,
                weight=40.0,
                points=24.0,
                inputs={"deals_won": 1.0, "deals_lost": 3.0},
            ),
            entry("rating", kind="manual", value=None, score=None, weight=0.0, points=None, excluded=True),
        )
    ]
    found = gains(items, RULES)
    assert [(g["key"], round(g["gain"], 6)) for g in found] == [("attainment", 36.0), ("win_rate", 16.0)]
    assert found[0]["hint"] == "120% or more gives the item's full 120 points"
    assert found[0]["max_points_text"] == "72.0" and found[0]["gain_text"] == "36.0"
    assert found[1]["hint"] == "next band ≥ 50% gives 100 points (+16.0 in the total)"
    three_bands = TemplateRules.from_snapshot(
        {
            **SNAPSHOT,
            "kpis": {
                "visit_count": SNAPSHOT["kpis"]["visit_count"]
                | {
                    "scoring": {
                        "type": "bands",
                        "bands": [{"min": 12, "points": 100}, {"min": 8, "points": 80}, {"min": 4, "points": 60}],
                        "otherwise": 30,
                    }
                }
            },
        },
        "rep",
    )
    visits = explain_item(
        entry("visit_count", value=2.0, score=30.0, weight=10.0, points=3.0, inputs={"visits": 2.0}), three_bands
    )
    assert gains([visits], three_bands)[0]["hint"] == (
        "next band 4 次 – < 8 次 gives 60 points (+3.0 in the total); the top band ≥ 12 次 gives 100"
    )


def test_a_whole_scorecard_against_the_one_before():
    card = {
        "employee": "R1",
        "name": "销售一",
        "department": "EAST",
        "period": "2026-10",
        "template": "rep",
        "version": 1,
        "run": 2,
        "locked": False,
        "total": 105.4,
        "grade": "S",
        "rank_department": 1,
        "rank_company": 1,
        "error": None,
        "items": [
            R1_ATTAINMENT,
            entry(
                "win_rate",
                value=2 / 3,
                score=100.0,
                weight=28.0,
                points=28.0,
                inputs={"deals_won": 2.0, "deals_lost": 1.0},
            ),
            entry(
                "growth",
                value=1.0,
                score=100.0,
                weight=15.0,
                points=15.0,
                inputs={"sales": 24000.0, "prev.sales": 12000.0},
            ),
            entry("rating", kind="manual", value=80.0, score=80.0, weight=15.0, points=12.0),
        ],
    }
    before = {
        "period": "2026-09",
        "total": 112.0,
        "grade": "S",
        "items": [
            {"key": "attainment", "points": 72.0},
            {"key": "win_rate", "points": 40.0},
            {"key": "growth", "points": None},
        ],
    }
    view = explain_scorecard(card, RULES, "en", previous=before)
    assert view["total_text"] == "105.4" and view["grade_label"] == {"zh": "卓越", "en": "Outstanding"}
    assert view["previous"]["delta_text"] == "−6.6" and view["previous"]["total_text"] == "112.0"
    assert [(i["key"], i["delta_text"]) for i in view["items"]] == [
        ("attainment", "−21.6"),
        ("win_rate", "−12.0"),
        ("growth", "—"),
        ("rating", "—"),
    ]
    assert [(s["name"], s["weight_text"], s["points_text"]) for s in view["sections"]] == [
        ("results", "70%", "78.4"),
        ("process", "30%", "27.0"),
    ]
    assert [(g["key"], g["gain_text"]) for g in view["gains"]] == [("rating", "3.0")]
    assert [(a["key"], a["text"], a["basis"]) for a in view["attainment"]] == [
        ("attainment", "120%", "target"),
        ("win_rate", "100%", "score"),
        ("growth", "100%", "score"),
        ("rating", "80%", "score"),
    ]
    assert explain_scorecard(card, RULES)["previous"] is None


def test_a_scorecard_without_a_total_says_why():
    card = {
        "employee": "L1",
        "name": "主管一",
        "department": "EAST",
        "period": "2026-10",
        "template": "rep",
        "total": None,
        "grade": None,
        "error": "attainment: no value (missing-data policy: fail)",
        "items": [
            entry(
                "attainment",
                value=None,
                score=None,
                weight=100.0,
                points=None,
                inputs={},
                error="no value (missing-data policy: fail)",
            )
        ],
    }
    view = explain_scorecard(card, RULES, "zh")
    assert view["error_text"] == "完成率: no value, and the missing-data policy fails the scorecard"
    assert view["total_text"] == "—" and view["gains"] == []
    every = {**card, "error": "every item was excluded for missing data"}
    assert explain_scorecard(every, RULES)["error_text"] == "every item was left out for missing data"


def test_every_word_goes_through_the_translation_hook_and_labels_follow_the_language():
    seen = []

    def translate(msgid, **variables):
        seen.append(msgid)
        return "«" + (msgid % variables if variables else msgid) + "»"

    item = explain_item(R1_ATTAINMENT, RULES, "zh", translate)
    assert item["sentence"].startswith("«销售额 24,000 ÷ «target» 20,000 = 120% → 120.0")
    assert item["target_source"] == "«your own target in “年度目标”: 2026-10»"
    assert "%(calculation)s → %(score)s points (%(rule)s) × weight %(weight)s = %(points)s points" in seen


def test_a_unit_given_in_both_languages_is_shown_in_the_readers():
    snapshot = copy.deepcopy(SNAPSHOT)
    snapshot["kpis"]["visit_count"]["unit"] = {"zh": "次", "en": "visits"}
    rules = TemplateRules.from_snapshot(snapshot, "rep")
    visit = entry("visit_count", value=9.0, score=80.0, weight=10.0, points=8.0, inputs={"visits": 9.0})
    assert explain_item(visit, rules, "en")["value_text"] == "9 visits"
    assert explain_item(visit, rules, "en")["sentence"].startswith("Visits 9 visits → 80.0 points")
    assert explain_item(visit, rules, "zh")["value_text"] == "9 次"
    assert rules.kpis["visit_count"]["unit"] == {"zh": "次", "en": "visits"}  # the rules themselves unchanged
