"""The scoring curve of the KPI editor: POST /api/v1/formulas/scoring-curve scores values with a
rule as typed, by the engine's own scoring code — linear with its floor and cap, bands in their
order with `otherwise`, a formula of `value` and `target` — a formula with a mistake answers where
it is, and a request has a bounded number of values. The editor shows the curve under the rule."""

from __future__ import annotations

import pytest

from .test_target_designer import app, signed_in, target_designer_seed  # noqa: F401  (the same starting state)

pytestmark = pytest.mark.database
URL = "/api/v1/formulas/scoring-curve"

LINEAR = {
    "type": "linear",
    "value_from": 0,
    "value_to": 1.2,
    "points_from": 0,
    "points_to": 120,
    "floor": 0,
    "cap": 110,
}
BANDS = {"type": "bands", "bands": [{"min": 90, "points": 40}, {"min": 60, "points": 70}, {"min": 0, "points": 100}]}


def curve(client, scoring: dict, values: list, target=None):
    return client.post(URL, json={"scoring": scoring, "values": values, "target": target})


def test_points_are_the_engines_for_every_kind_of_rule(app):
    client = signed_in(app, "hr")
    linear = curve(client, LINEAR, [-0.5, 0, 0.6, 1.1, 1.2, 3])
    assert linear.status_code == 200, linear.json
    assert linear.json["points"] == pytest.approx([0, 0, 60, 110, 110, 110])
    assert linear.json["rule"] == "linear: 0→0, 1.2→120, floor 0, cap 110"
    without_floor = curve(
        client, {**LINEAR, "floor": None, "value_from": 1, "points_from": 100, "value_to": 0}, [-1, 2]
    )
    # 1 → 100 and 0 → 120: the line falls by 20 a unit; at -1 it is 140, capped at 110; at 2, 80
    assert without_floor.json["points"] == pytest.approx([110, 80])

    bands = curve(client, BANDS, [120, 90, 89.99, 60, 0, -1])
    assert bands.json["points"] == [40, 40, 70, 70, 100, 0]  # the first band reached wins; below all: 0
    assert curve(client, {**BANDS, "otherwise": 15}, [-1]).json["points"] == [15]

    formula = curve(
        client, {"type": "formula", "formula": "IF(value >= target, 100, value / target * 100)"}, [50, 200, 300], 200
    )
    assert formula.json["points"] == [25, 100, 100]
    clamped = curve(client, {"type": "formula", "formula": "clamp(value * 250, 0, 100)"}, [-1, 0.2, 0.5])
    assert clamped.json["points"] == [0, 50, 100] and clamped.json["errors"] == [None, None, None]
    no_target = curve(client, {"type": "formula", "formula": "value / target * 100"}, [50])
    assert no_target.status_code == 200 and no_target.json["points"] == [None]


def test_a_rule_with_a_mistake_says_where_and_requests_are_bounded(app):
    client = signed_in(app, "admin")
    misspelt = curve(client, {"type": "formula", "formula": "clamp(valeu * 2, 0, 100)"}, [1])
    assert misspelt.status_code == 422
    (error,) = misspelt.json["errors"]
    assert error["path"] == "json.scoring.formula" and (error["start"], error["end"]) == (6, 11)
    assert error["suggestion"] == "value" and error["line"] == 1 and error["column"] == 7
    unfinished = curve(client, {"type": "linear", "value_from": 0, "points_from": 0, "points_to": 100}, [1])
    assert unfinished.status_code == 422
    assert {"path": "json.scoring.value_to", "message": "required for linear scoring"} in unfinished.json["errors"]

    too_many = curve(client, LINEAR, [0.5] * 1001)
    assert too_many.status_code == 422 and too_many.json["errors"][0]["path"] == "json.values"
    assert curve(client, LINEAR, []).status_code == 422
    assert curve(client, LINEAR, [0.5] * 1000).status_code == 200
    assert curve(signed_in(app, "zhang"), LINEAR, [1]).status_code == 403


def test_the_kpi_editor_draws_the_curve_under_the_rule(app):
    page = signed_in(app, "hr").get("/designer/kpis/sales_attainment").get_data(as_text=True)
    assert f'id="scoring-curve" data-url="{URL}"' in page
    assert '<label class="small mr-2" for="curve-test">Try a value</label>' in page
    assert "vendor/chartjs/chart.umd.min.js" in page and "scoring-curve.js" in page
