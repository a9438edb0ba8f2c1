"""What every configuration schema shares: strictness, codes, labels in two languages, units,
formulas and cycles. (Its own module, so that the schemas of each kind can use it and the one
list of kinds can import them all.)"""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate

SLUG = validate.Regexp(
    r"^[a-z][a-z0-9_]{0,63}$", error="must be lowercase letters, digits and underscores, starting with a letter"
)
CYCLES = ("monthly", "quarterly", "half_yearly", "yearly")


class Strict(Schema):
    """Unknown keys are errors: a misspelt key must not be silently ignored."""


class Label(Strict):
    zh = fields.Str(required=True, validate=validate.Length(min=1, max=200))
    en = fields.Str(required=True, validate=validate.Length(min=1, max=200))


def label(**kwargs):
    return fields.Nested(Label, required=True, **kwargs)


class Unit(fields.Field):
    """A KPI's unit: one text for both languages ("%", "次"), or {zh, en} when they differ
    ({zh: 次, en: calls}). Kept as given, so configuration written either way reads back the same."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str):
            if not 1 <= len(value) <= 20:
                raise ValidationError("must be 1 to 20 characters")
            return value
        if isinstance(value, dict):
            loaded = Label().load(value)
            if max(len(text) for text in loaded.values()) > 20:
                raise ValidationError("must be 1 to 20 characters in each language")
            return loaded
        raise ValidationError('must be a text ("次") or {zh: 次, en: calls}')

    def _serialize(self, value, attr, obj, **kwargs):
        if isinstance(value, dict):  # one order in exports (PostgreSQL's JSONB keeps keys in its own)
            return {"zh": value.get("zh"), "en": value.get("en")}
        return value


def formula(**kwargs):
    return fields.Str(validate=validate.Length(min=1, max=2000), **kwargs)
