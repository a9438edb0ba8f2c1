"""An appraisal form's fields as the `_forms.html` template shows them, on a scorecard's forms
panel and on the page that answers a colleague's feedback request."""

from __future__ import annotations


def _number_text(value: object) -> str:
    return f"{value:g}" if isinstance(value, (int, float)) else ""


def form_fields(definition: dict) -> list[dict]:
    """A form's fields as `_forms.html` shows them: ratings with the whole steps of their scale."""
    fields = []
    for spec in definition.get("fields", []):
        spec = dict(spec)
        if spec["type"] == "rating":
            spec["steps"] = list(range(int(-(-spec["min"] // 1)), int(spec["max"] // 1) + 1))
            spec["max_text"] = _number_text(spec["max"])
        fields.append(spec)
    return fields
