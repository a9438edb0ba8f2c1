"""The shapes of approval flows (审批流) and evaluation schedules."""

from __future__ import annotations

from marshmallow import ValidationError, fields, validate

from ..cron import cron_trigger
from .schema_basics import CYCLES, SLUG, Strict, formula, label


class Step(Strict):
    name = fields.Str(required=True, validate=SLUG)
    label = label()
    #: employee | manager | department_head | role:<role> | user:<login>
    actor = fields.Str(
        required=True,
        validate=validate.Regexp(
            r"^(employee|manager|department_head|role:[a-z][a-z0-9_]*|user:\S+)$",
            error="must be employee, manager, department_head, role:NAME or user:LOGIN",
        ),
    )
    condition = formula(load_default=None)
    mode = fields.Str(load_default="any", validate=validate.OneOf(("any", "all")))
    deadline_days = fields.Int(load_default=None, validate=validate.Range(min=1, max=365))


class DisputePolicy(Strict):
    #: manager: the employee's manager resolves disputes (HR when there is none); hr: always HR
    route_to = fields.Str(load_default="manager", validate=validate.OneOf(("manager", "hr")))


class ApprovalFlow(Strict):
    slug = fields.Str(required=True, validate=SLUG)
    label = label()
    steps = fields.List(fields.Nested(Step), required=True, validate=validate.Length(min=1))
    #: who resolves the disputes (申诉) of the flow's approved scorecards
    disputes = fields.Nested(DisputePolicy, load_default=None)


def _check_cron(text: str) -> None:
    try:
        cron_trigger(text)
    except ValueError as exc:
        raise ValidationError(f"not a cron expression (minute hour day month weekday): {exc}") from None


def _check_timezone(name: str) -> None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError(f"unknown time zone '{name}' (use a name like Asia/Shanghai)") from None


class ScheduleSpec(Strict):
    """When to evaluate which templates: a cron expression in a time zone, and which period of a
    cycle a run at that moment evaluates (the last complete one, or the one in progress)."""

    slug = fields.Str(required=True, validate=SLUG)
    label = label()
    templates = fields.List(fields.Str(), required=True, validate=validate.Length(min=1))
    cycle = fields.Str(required=True, validate=validate.OneOf(CYCLES))
    cron = fields.Str(required=True, validate=_check_cron)
    timezone = fields.Str(load_default="Asia/Shanghai", validate=_check_timezone)
    evaluate = fields.Str(load_default="previous", validate=validate.OneOf(("previous", "current")))
    enabled = fields.Bool(load_default=True)
