"""A scoring rule's curve: the points a rule as typed in the KPI editor gives for a list of values
(and a target), worked out by the engine's own scoring code (`engine.scoring.Scorer`) — so the
curve and the test points under it are what a run would give. Linear, bands and formula rules
alike; a rule with problems answers 422 with their paths (a formula's with the place of the
error). Registered on the formulas blueprint: /api/v1/formulas/scoring-curve."""

from __future__ import annotations

import math

import numpy as np
from flask.views import MethodView
from marshmallow import Schema, fields, validate

from ...config.schemas import Scoring
from ...config.validation import strip_none
from ...engine.scoring import Scorer
from ...plugins import load_plugins
from ..auth import token_required
from .common import SECURITY, abort, only_for
from .formulas import FORMULA_ROLES, _scoring_problems, blp

#: the most values one request may score (a curve of a hundred points and its test points fit)
MAX_VALUES = 1000


class CurveIn(Schema):
    scoring = fields.Dict(required=True, metadata={"description": "the scoring rule, as a KPI's `scoring`"})
    values = fields.List(
        fields.Float(allow_nan=False),
        required=True,
        validate=validate.Length(min=1, max=MAX_VALUES),
        metadata={"description": f"the KPI values to score (at most {MAX_VALUES})"},
    )
    target = fields.Float(
        load_default=None, allow_nan=False, metadata={"description": "the target a formula rule sees as `target`"}
    )


def score_values(scoring: dict, values: list[float], target: float | None, functions) -> dict:
    """{rule, points, errors} for a valid rule: points None where the rule gives no number,
    errors the formula's reason there."""
    rule = strip_none(Scoring().dump(Scoring().load(scoring)))
    scorer = Scorer(rule, functions)
    column = np.array(values, dtype=float)
    targets = np.full(len(values), np.nan if target is None else target)
    points, failed, reasons = scorer.score(column, targets)
    return {
        "rule": Scorer.describe_rule(rule),
        "points": [float(p) if math.isfinite(p) else None for p in points.tolist()],
        "errors": [reasons[i] if failed[i] else None for i in range(len(values))],
    }


@blp.route("/scoring-curve")
class ScoringCurve(MethodView):
    @token_required(*FORMULA_ROLES)
    @blp.alt_response(403, description=only_for(*FORMULA_ROLES))
    @blp.doc(security=SECURITY)
    @blp.arguments(CurveIn)
    @blp.response(
        200,
        description="{rule, points, errors}: a KPI value's points in the order the values were given "
        "(null where the rule gives none), and the formula's error there",
    )
    @blp.alt_response(422, description="the rule has problems, with their paths (a formula's with its place)")
    def post(self, payload):
        """Score values with a scoring rule (linear, bands or a formula of `value` and `target`) as a
        run would; nothing is read or written."""
        functions = load_plugins().functions
        problems = _scoring_problems(payload["scoring"], functions)
        if problems:
            abort(422, message=f"{len(problems)} problem(s)", errors=problems)
        return score_values(payload["scoring"], payload["values"], payload["target"], functions)
