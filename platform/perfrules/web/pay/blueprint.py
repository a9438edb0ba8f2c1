"""The pay pages' blueprint and what they share: who may run and read runs (the API's roles), the
month a URL or form names, money as people read it, and a stored line in the reader's words."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from flask import Blueprint, g, request
from flask_babel import gettext as _

from ...engine.periods import PeriodError, period_from_text
from ...money import format_money, from_minor
from ...org.access import visibility
from ...org.models import Employee
from ...pay.models import PayLine
from ...pay.rules import percent
from ...pay.statements import PlanBook
from ..api.pay import PAY_ROLES, READ_RUN_ROLES
from ..i18n import label, label_language
from ..words import word

#: named apart from the REST API's blueprint "pay"
bp = Blueprint("pay_pages", __name__, url_prefix="/pay")

#: who runs pay (and previews a run) and who reads the runs: the same as the REST API's
RUN_ROLES, RUNS_READERS = PAY_ROLES, READ_RUN_ROLES
#: who gets the list of everyone's (or their reports') lines in the menu; anyone may open it and
#: sees there only what `org.access.visibility` lets them see
LIST_READERS = ("manager", "admin", "hr", "auditor")
MINUS = "\u2212"


def visible_lines():
    """The lines the signed-in user may see, as the API scopes them (`org.access.visibility`)."""
    return visibility(g.user).condition(Employee.department_id, PayLine.employee_id)


def month_of(text: str | None) -> str | None:
    """The month a URL or a form names ("2026-10", "last-month"), written the one way; None when
    it names no month."""
    if not text:
        return None
    try:
        period = period_from_text(text.strip())
    except PeriodError:
        return None
    return str(period) if period.cycle == "monthly" else None


def page_number() -> int:
    """The page a URL asks for: 1 when it asks for none, or for one before the first."""
    return max(1, request.args.get("page", 1, type=int) or 1)


def money(amount: Decimal | None) -> str:
    """12,000.00; a negative amount with a real minus sign (−350.50), never in brackets."""
    if amount is None:
        return "—"
    text = format_money(abs(amount))
    return f"{MINUS}{text}" if amount < 0 else text


def money_text(stored: str) -> Decimal:
    """An amount a run's counts keep as text ("69,811.75") as a number again."""
    return Decimal(stored.replace(",", ""))


def field_text(field: dict, value: object) -> str:
    """A credited record's field as people read it: a choice's label, money with its separators."""
    if value is None or value == "":
        return "—"
    if field.get("type") == "choice":
        options = {option.get("value"): option.get("label") for option in field.get("options") or []}
        return label(options.get(value)) or str(value)
    if field.get("type") == "money":
        try:
            return money(Decimal(str(value)))
        except InvalidOperation:
            return str(value)
    return str(value)


def source_words(book: PlanBook, line: PayLine) -> str:
    """What the line was computed from, in words: records of a dataset, a metric, a scorecard."""
    source = line.source or {}
    if "dataset" in source:
        dataset = book.dataset(line.version_number, source["dataset"])
        return _(
            "%(count)s records of %(dataset)s",
            count=source.get("records", 0),
            dataset=label(dataset.get("label")) or source["dataset"],
        )
    if "metric" in source:
        metric = book.metric(line.version_number, source["metric"])
        text = _("the metric %(metric)s", metric=label(metric.get("label")) or source["metric"])
        if source.get("target") is not None:
            text += " · " + _("target %(target)s", target=money(Decimal(source["target"])))
        return text
    if "scorecard" in source:
        if source.get("scope"):
            return _(
                "the scorecard, against the average of %(count)s people in %(scope)s",
                count=source.get("population", 0),
                scope=word(source["scope"], "average_scope"),
            )
        return _("the scorecard")
    return ""


def line_view(book: PlanBook, line: PayLine) -> dict:
    """A stored line as the pages show it: labels, not slugs, and words in the reader's language."""
    plan = book.plan(line.version_number, line.plan)
    component = book.component(line.version_number, line.plan, line.component)
    rate = None
    if line.rate is not None:
        multiplier = book.rate_is_multiplier(line.version_number, line.plan, line.component)
        rate = f"× {Decimal(line.rate).normalize():f}" if multiplier else percent(Decimal(line.rate))
    return {
        "id": line.id,
        "plan": label(plan.get("label")) or line.plan,
        "component": label(component.get("label")) or line.component,
        #: what the line is, when it is not simply what the component earned (a hold, a clawback…)
        "kind": "" if line.kind == "earned" else word(line.kind, "pay_line_kind"),
        "period": line.pay_period,
        "month": line.period,
        "amount": from_minor(line.amount_minor),
        "currency": line.currency,
        "base": None if line.base_minor is None else from_minor(line.base_minor),
        "rate": rate,
        "source": source_words(book, line),
        "credits": "dataset" in (line.source or {}),
        "explanation": line.explanation.get(label_language()) or line.explanation.get("en", ""),
        "version": line.version_number,
    }
