"""The shape of every kind of configuration document, validated with marshmallow.

Each schema validates one document on its own (types, ranges, required keys, weights);
`validation.py` checks what documents say about each other (references, formulas, cycles).
Loading a document and dumping it again gives its normalised form, which is what is stored.
"""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, post_dump, post_load, validate, validates_schema

from ..money import DEFAULT_CURRENCY
from .flow_schemas import ApprovalFlow, ScheduleSpec
from .plan_schemas import Plan
from .schema_basics import CYCLES, SLUG, Label, Strict, Unit, formula, label

WEIGHT_TOTAL = 100.0
WEIGHT_TOLERANCE = 1e-6

FIELD_TYPES = ("text", "integer", "decimal", "money", "date", "datetime", "boolean", "choice", "employee")
AGGREGATES = ("count", "sum", "avg", "min", "max", "count_distinct")
WINDOWS = ("period", "previous", "last_year", "ytd", "trailing")
#: self: the employee's own records; team: theirs and their direct and indirect reports';
#: department: everyone's in their department and its sub-departments
SCOPES = ("self", "team", "department")
DIRECTIONS = ("higher", "lower")
MISSING_POLICIES = ("zero", "exclude", "fail")


def _check_weights(items: list[dict], what: str, key: str, normalise: bool) -> None:
    total = sum(item["weight"] for item in items)
    if not normalise and abs(total - WEIGHT_TOTAL) > WEIGHT_TOLERANCE:
        raise ValidationError(f"{what} weights add up to {total:g}, not 100 (or set weights: normalise)", key)


# --- datasets and employee attributes ---------------------------------------------------------


class ChoiceOption(Strict):
    value = fields.Str(required=True, validate=validate.Length(min=1, max=100))
    label = label()


class DatasetField(Strict):
    name = fields.Str(required=True, validate=SLUG)
    label = label()
    type = fields.Str(required=True, validate=validate.OneOf(FIELD_TYPES))
    required = fields.Bool(load_default=False)
    unique = fields.Bool(load_default=False)
    options = fields.List(fields.Nested(ChoiceOption), load_default=None)
    #: a money field's currency (ISO 4217); its amounts are stored in minor units (分)
    currency = fields.Str(
        load_default=None, validate=validate.Regexp(r"^[A-Z]{3}$", error="must be a currency code such as CNY")
    )

    @validates_schema
    def _options_for_choices(self, data, **_):
        if data["type"] == "choice" and not data.get("options"):
            raise ValidationError("a choice field needs options", "options")
        if data["type"] != "choice" and data.get("options"):
            raise ValidationError("only choice fields have options", "options")
        if data["type"] != "money" and data.get("currency"):
            raise ValidationError("only money fields have a currency", "currency")

    @post_load
    def _money_in_a_currency(self, data, **_):
        if data["type"] == "money" and not data.get("currency"):
            data["currency"] = DEFAULT_CURRENCY
        return data


class Dataset(Strict):
    slug = fields.Str(required=True, validate=SLUG)
    label = label()
    description = fields.Str(load_default=None)
    owner_field = fields.Str(required=True)
    date_field = fields.Str(required=True)
    fields_ = fields.List(
        fields.Nested(DatasetField),
        required=True,
        data_key="fields",
        attribute="fields",
        validate=validate.Length(min=1),
    )

    @validates_schema
    def _owner_and_date(self, data, **_):
        by_name = {}
        for index, field in enumerate(data["fields"]):
            if field["name"] in by_name:
                raise ValidationError({"fields": {index: {"name": [f"'{field['name']}' is defined twice"]}}})
            by_name[field["name"]] = field
        owner = by_name.get(data["owner_field"])
        if owner is None or owner["type"] != "employee":
            raise ValidationError("must name a field of type employee", "owner_field")
        date = by_name.get(data["date_field"])
        if date is None or date["type"] not in ("date", "datetime"):
            raise ValidationError("must name a field of type date or datetime", "date_field")


class EmployeeAttribute(Strict):
    slug = fields.Str(required=True, validate=SLUG)
    label = label()
    type = fields.Str(required=True, validate=validate.OneOf(("number", "text", "boolean")))


# --- forms ------------------------------------------------------------------------------------


class FormField(Strict):
    name = fields.Str(required=True, validate=SLUG)
    label = label()
    type = fields.Str(required=True, validate=validate.OneOf(("rating", "number", "text", "choice")))
    required = fields.Bool(load_default=True)
    min = fields.Float(load_default=None)
    max = fields.Float(load_default=None)
    #: for ratings: what each score means, {"1": {zh, en}, ...}
    scale_labels = fields.Dict(keys=fields.Str(), values=fields.Nested(Label), load_default=None)
    options = fields.List(fields.Nested(ChoiceOption), load_default=None)
    weight = fields.Float(load_default=None, validate=validate.Range(min=0, min_inclusive=False))

    @validates_schema
    def _ranges(self, data, **_):
        if data["type"] == "rating" and (data.get("min") is None or data.get("max") is None):
            raise ValidationError("a rating needs min and max", "max")
        if data.get("min") is not None and data.get("max") is not None and data["min"] >= data["max"]:
            raise ValidationError("must be greater than min", "max")
        if data["type"] == "choice" and not data.get("options"):
            raise ValidationError("a choice field needs options", "options")


class Form(Strict):
    slug = fields.Str(required=True, validate=SLUG)
    label = label()
    filled_by = fields.Str(required=True, validate=validate.OneOf(("employee", "manager", "peer")))
    #: peer forms only: whether the employee sees the answers without who gave them (the default)
    anonymous = fields.Bool(load_default=None)
    fields_ = fields.List(
        fields.Nested(FormField), required=True, data_key="fields", attribute="fields", validate=validate.Length(min=1)
    )

    @validates_schema
    def _anonymous_peers(self, data, **_):
        if data.get("anonymous") is not None and data["filled_by"] != "peer":
            raise ValidationError(
                "only peer forms are anonymous or not: the employee always knows who "
                "filled a self-assessment or a manager rating",
                "anonymous",
            )


# --- metrics, KPIs, scoring -------------------------------------------------------------------


class Metric(Strict):
    slug = fields.Str(required=True, validate=SLUG)
    label = label()
    dataset = fields.Str(required=True)
    aggregate = fields.Str(required=True, validate=validate.OneOf(AGGREGATES))
    field = fields.Str(load_default=None)
    filter = formula(load_default=None)
    window = fields.Str(load_default="period", validate=validate.OneOf(WINDOWS))
    months = fields.Int(load_default=None, validate=validate.Range(min=1, max=36))
    scope = fields.Str(load_default="self", validate=validate.OneOf(SCOPES))

    @validates_schema
    def _field_and_window(self, data, **_):
        if data["aggregate"] != "count" and not data.get("field"):
            raise ValidationError(f"{data['aggregate']} needs a field", "field")
        if data["window"] == "trailing" and not data.get("months"):
            raise ValidationError("a trailing window needs months", "months")
        if data["window"] != "trailing" and data.get("months"):
            raise ValidationError("only a trailing window takes months", "months")


class Band(Strict):
    min = fields.Float(required=True)
    points = fields.Float(required=True)


class Scoring(Strict):
    type = fields.Str(required=True, validate=validate.OneOf(("linear", "bands", "formula")))
    # linear: value in [value_from, value_to] maps to [points_from, points_to], then floor/cap
    value_from = fields.Float(load_default=None)
    value_to = fields.Float(load_default=None)
    points_from = fields.Float(load_default=None)
    points_to = fields.Float(load_default=None)
    floor = fields.Float(load_default=None)
    cap = fields.Float(load_default=None)
    # bands: ordered thresholds, the first whose min the value reaches wins
    bands = fields.List(fields.Nested(Band), load_default=None)
    otherwise = fields.Float(load_default=None)
    # formula: points from `value`, `target` and the KPI's other names
    formula = formula(load_default=None)

    @validates_schema
    def _parts(self, data, **_):
        kind = data["type"]
        if kind == "linear":
            for key in ("value_from", "value_to", "points_from", "points_to"):
                if data.get(key) is None:
                    raise ValidationError("required for linear scoring", key)
            if data["value_from"] == data["value_to"]:
                raise ValidationError("must differ from value_from", "value_to")
            if data.get("floor") is not None and data.get("cap") is not None and data["floor"] > data["cap"]:
                raise ValidationError("must not be below floor", "cap")
        elif kind == "bands":
            bands = data.get("bands")
            if not bands:
                raise ValidationError("required for band scoring", "bands")
            minima = [band["min"] for band in bands]
            if minima != sorted(minima, reverse=True) or len(set(minima)) != len(minima):
                raise ValidationError("bands must be ordered from the highest min to the lowest", "bands")
        elif not data.get("formula"):
            raise ValidationError("required for formula scoring", "formula")


class Kpi(Strict):
    slug = fields.Str(required=True, validate=SLUG)
    label = label()
    description = fields.Str(load_default=None)
    formula = formula(required=True)
    unit = Unit(load_default=None)
    format = fields.Str(load_default=None, validate=validate.Length(max=20))
    direction = fields.Str(load_default="higher", validate=validate.OneOf(DIRECTIONS))
    missing = fields.Str(load_default="zero", validate=validate.OneOf(MISSING_POLICIES))
    scoring = fields.Nested(Scoring, required=True)


# --- targets ----------------------------------------------------------------------------------

SPLITS = ("equal", "weights", "last_share")


class TargetEntry(Strict):
    """A target value for a metric or KPI.

    Held by an employee, or by a department or role as every member's default. A department
    entry with `split` is instead a total decomposed among the department's active members
    (equally, by an employee attribute's weights, or by each member's share of the previous
    period's value). A yearly (or quarterly, half-yearly) entry applies to the shorter periods
    inside it in proportion to their months, or by `month_shares` (twelve percentages).
    """

    name = fields.Str(required=True)
    period = fields.Str(
        required=True,
        validate=validate.Regexp(
            r"^\d{4}(-(0[1-9]|1[0-2])|-Q[1-4]|-H[12])?$",
            error="must be a period like 2026-10, 2026-Q4, 2026-H2 or 2026",
        ),
    )
    employee = fields.Str(load_default=None)
    department = fields.Str(load_default=None)
    role = fields.Str(load_default=None)
    value = fields.Float(required=True, allow_nan=False)
    split = fields.Str(load_default=None, validate=validate.OneOf(SPLITS))
    weight_attribute = fields.Str(load_default=None, validate=SLUG)
    month_shares = fields.List(
        fields.Float(validate=validate.Range(min=0)),
        load_default=None,
        validate=validate.Length(equal=12, error="must list 12 monthly percentages"),
    )
    #: splits are rounded to this many decimals (2 when not given); the remainder goes as the README says
    decimals = fields.Int(load_default=None, validate=validate.Range(min=0, max=6))

    @validates_schema
    def _one_holder(self, data, **_):
        if data.get("split"):
            if not data.get("department") or data.get("employee"):
                raise ValidationError(
                    "only a department target can be split among its members "
                    "(with role to split among the members in that role)",
                    "split",
                )
        else:
            holders = [key for key in ("employee", "department", "role") if data.get(key)]
            if len(holders) != 1:
                raise ValidationError("give exactly one of employee, department or role", "employee")
        if (data.get("split") == "weights") != bool(data.get("weight_attribute")):
            raise ValidationError("a split by weights needs weight_attribute (and only it does)", "weight_attribute")
        shares = data.get("month_shares")
        if shares is not None:
            if len(data["period"]) != 4:
                raise ValidationError("only a yearly target has month shares", "month_shares")
            if abs(sum(shares) - 100) > WEIGHT_TOLERANCE:
                raise ValidationError(f"month shares add up to {sum(shares):g}, not 100", "month_shares")


class TargetSet(Strict):
    slug = fields.Str(required=True, validate=SLUG)
    label = label()
    entries = fields.List(fields.Nested(TargetEntry), required=True)


# --- templates --------------------------------------------------------------------------------


class TemplateItem(Strict):
    kpi = fields.Str(load_default=None)
    manual = fields.Str(load_default=None, validate=SLUG)
    label = fields.Nested(Label, load_default=None)
    form = fields.Str(load_default=None)
    #: overrides the KPI's missing-data policy; a manual item without a value is excluded by default
    missing = fields.Str(load_default=None, validate=validate.OneOf(MISSING_POLICIES))
    weight = fields.Float(
        required=True, validate=validate.Range(min=0, min_inclusive=False, error="must be greater than 0")
    )

    @validates_schema
    def _kpi_or_manual(self, data, **_):
        if bool(data.get("kpi")) == bool(data.get("manual")):
            raise ValidationError("give either kpi or manual", "kpi")
        if data.get("manual") and not data.get("label"):
            raise ValidationError("a manual item needs a label", "label")


class Section(Strict):
    name = fields.Str(required=True, validate=SLUG)
    label = label()
    weight = fields.Float(
        required=True, validate=validate.Range(min=0, min_inclusive=False, error="must be greater than 0")
    )
    items = fields.List(fields.Nested(TemplateItem), required=True, validate=validate.Length(min=1))


class Grade(Strict):
    grade = fields.Str(required=True, validate=validate.Length(min=1, max=8))
    min = fields.Float(required=True)
    label = label()


class AppliesTo(Strict):
    departments = fields.List(fields.Str(), load_default=list)
    roles = fields.List(fields.Str(), load_default=list)


class Template(Strict):
    slug = fields.Str(required=True, validate=SLUG)
    label = label()
    applies_to = fields.Nested(AppliesTo, load_default=dict)
    #: the appraisal cycles (考核周期) it is evaluated in; none given: every period
    cycles = fields.List(fields.Str(validate=validate.OneOf(CYCLES)), load_default=None)
    #: "strict": weights must add up to 100 at each level; "normalise": they are scaled to 100
    weights = fields.Str(load_default="strict", validate=validate.OneOf(("strict", "normalise")))
    sections = fields.List(fields.Nested(Section), required=True, validate=validate.Length(min=1))
    grades = fields.List(fields.Nested(Grade), required=True, validate=validate.Length(min=1))
    approval_flow = fields.Str(load_default=None)
    #: calibration (强制分布): the target share of each grade, in percent, adding up to 100
    calibration = fields.Dict(
        keys=fields.Str(), values=fields.Float(validate=validate.Range(min=0, max=100)), load_default=None
    )

    @validates_schema
    def _weights_and_grades(self, data, **_):
        normalise = data["weights"] == "normalise"
        _check_weights(data["sections"], "section", "sections", normalise)
        errors = {}
        for index, section in enumerate(data["sections"]):
            try:
                _check_weights(section["items"], f"the items' (section {section['name']})", "items", normalise)
            except ValidationError as exc:
                errors[index] = exc.normalized_messages()
        if errors:
            raise ValidationError({"sections": errors})
        minima = [grade["min"] for grade in data["grades"]]
        if minima != sorted(minima, reverse=True) or len(set(minima)) != len(minima):
            raise ValidationError("grades must be ordered from the highest min to the lowest", "grades")
        calibration = data.get("calibration")
        if calibration is not None:
            names = [grade["grade"] for grade in data["grades"]]
            unknown = [grade for grade in calibration if grade not in names]
            if unknown:
                raise ValidationError(
                    {
                        "calibration": {
                            grade: [f"'{grade}' is not one of the template's grades ({', '.join(names)})"]
                            for grade in unknown
                        }
                    }
                )
            if abs(sum(calibration.values()) - 100) > 1e-6:
                raise ValidationError(
                    f"the target shares must add up to 100, not {sum(calibration.values()):g}", "calibration"
                )

    @post_dump
    def _calibration_in_grade_order(self, data, **_):
        """One order for the shares, the grades' (PostgreSQL's JSONB keeps keys in its own)."""
        calibration = data.get("calibration")
        if calibration:
            order = [grade["grade"] for grade in data.get("grades", [])]
            ranked = sorted(calibration, key=lambda grade: order.index(grade) if grade in order else len(order))
            data["calibration"] = {grade: calibration[grade] for grade in ranked}
        return data


#: YAML key → schema, in the order documents are exported
KINDS: dict[str, type[Schema]] = {
    "datasets": Dataset,
    "employee_attributes": EmployeeAttribute,
    "forms": Form,
    "metrics": Metric,
    "kpis": Kpi,
    "targets": TargetSet,
    "approval_flows": ApprovalFlow,
    "templates": Template,
    "schedules": ScheduleSpec,
    "plans": Plan,
}
