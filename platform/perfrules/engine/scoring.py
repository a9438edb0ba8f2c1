"""Scoring rules (评分规则): a KPI's value → points, for every employee at once."""

from __future__ import annotations

import numpy as np

from ..formula import NUMBER, FunctionRegistry, ValueType, compile_formula
from .shapes import Document, Flags, Floats, number_values

SCORING_NAMES: dict[str, ValueType] = {"value": NUMBER, "target": NUMBER}


class Scorer:
    def __init__(self, rule: Document, functions: FunctionRegistry):
        self.rule = rule
        self.formula = (
            compile_formula(rule["formula"], SCORING_NAMES, functions=functions, expect=NUMBER)
            if rule["type"] == "formula"
            else None
        )

    @staticmethod
    def describe_rule(rule: Document) -> str:
        if rule["type"] == "linear":
            text = (
                f"linear: {_n(rule['value_from'])}→{_n(rule['points_from'])}, "
                f"{_n(rule['value_to'])}→{_n(rule['points_to'])}"
            )
            if rule.get("floor") is not None:
                text += f", floor {_n(rule['floor'])}"
            if rule.get("cap") is not None:
                text += f", cap {_n(rule['cap'])}"
            return text
        if rule["type"] == "bands":
            bands = ", ".join(f"≥{_n(b['min'])}→{_n(b['points'])}" for b in rule["bands"])
            return f"bands: {bands}, otherwise {_n(rule.get('otherwise') or 0)}"
        return f"formula: {rule['formula']}"

    def score(self, values: Floats, targets: Floats) -> tuple[Floats, Flags, list[str | None]]:
        """(points with NaN where the value is missing, error mask, error reason per row)."""
        rule = self.rule
        size = len(values)
        no_errors = np.zeros(size, dtype=bool)
        no_reasons: list[str | None] = [None] * size
        if rule["type"] == "linear":
            slope = (rule["points_to"] - rule["points_from"]) / (rule["value_to"] - rule["value_from"])
            points = rule["points_from"] + (values - rule["value_from"]) * slope
            low = -np.inf if rule.get("floor") is None else rule["floor"]
            high = np.inf if rule.get("cap") is None else rule["cap"]
            return np.clip(points, low, high), no_errors, no_reasons
        if rule["type"] == "bands":
            points = np.full(size, float(rule.get("otherwise") or 0.0))
            for band in reversed(rule["bands"]):  # the first band whose min is reached wins
                points = np.where(values >= band["min"], band["points"], points)
            points[np.isnan(values)] = np.nan
            return points, no_errors, no_reasons
        if self.formula is None:  # a validated rule is linear, bands or a formula
            raise ValueError(f"unknown scoring rule type '{rule['type']}'")
        result = self.formula.evaluate_columns({"value": values, "target": targets}, size)
        reasons = (
            [result.error_reason(i) if result.error[i] else None for i in range(size)]
            if result.error.any()
            else no_reasons
        )
        points = number_values(result).copy()
        points[np.isnan(values)] = np.nan
        return points, result.error & ~np.isnan(values), reasons


def _n(value: float) -> str:
    return f"{value:g}"
