"""What if (试算): a month's pay with more collected for someone, with HR's draft replayed beside
the published plans, or with the open pipeline as a forecast — each line that would change, before
and after, with how it would be worked out, and the difference per person and in all.
`pay.estimates` computes the month twice and compares; this page only asks and shows.

Who may ask what is the REST API's rule (`web.api.pay.PayEstimates`): anyone signed in, for
themselves or for someone they may see (a manager their people, HR everyone); only HR and
administrators with another configuration (the draft against the published plans) or the
pipeline; and the answer shows only the lines of the people the user may see.

The form is a GET, on purpose: an estimate only reads and computes — the session is rolled back
whatever happens, so nothing is ever written — which makes it safe to repeat, to bookmark and to
send to a colleague (who sees only the lines they may see). CSRF tokens guard writes, and there
is none here; a POST would only make the answer impossible to link to or reload.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from flask import abort, g, render_template, request
from flask_babel import gettext as _

from ...engine.periods import Period
from ...money import MoneyError, from_minor, parse_money
from ...org.models import Employee
from ...pay.compute import Hypothetical
from ...pay.estimates import Estimate, compare, more, pipeline
from ...pay.members import PayError
from ...pay.statements import employees_named
from ...plugins import load_plugins
from ...problems import ConfigError
from ..auth import login_required
from ..db import get_session
from ..i18n import label, label_language
from ..words import word
from .blueprint import RUN_ROLES, bp, money, month_of
from .people import currency_of, labels, published, signed, visible_codes, visible_person

#: what the form asks, by the names the URL carries them under
FIELDS = ("month", "employee", "dataset", "amount", "pipeline")


def record_datasets(config: dict) -> dict[str, str]:
    """slug → label of the datasets some plan pays on (a component's `base.records`)."""
    slugs = {
        component.get("base", {}).get("records")
        for plan in config.get("plans", {}).values()
        for component in plan.get("components", [])
    }
    datasets = config.get("datasets", {})
    return {slug: label(datasets.get(slug, {}).get("label")) or slug for slug in sorted(s for s in slugs if s)}


@dataclass
class Pipeline:
    """A dataset a forecast can be made from: a choice field for the stage and a money field."""

    slug: str
    label: str
    stage: str
    amount: str
    #: (value, label) of each stage
    stages: list[tuple[str, str]]
    #: (name, label) of the date fields one may say it closes by
    dates: list[tuple[str, str]]


def pipelines(config: dict) -> dict[str, Pipeline]:
    found = {}
    for slug, dataset in sorted(config.get("datasets", {}).items()):
        fields = dataset.get("fields", [])
        choices = [f for f in fields if f.get("type") == "choice"]
        amounts = [f for f in fields if f.get("type") == "money"]
        if not (choices and amounts):
            continue
        stage = next((f for f in choices if f.get("name") == "stage"), choices[0])
        found[slug] = Pipeline(
            slug,
            label(dataset.get("label")) or slug,
            stage["name"],
            amounts[0]["name"],
            [(o.get("value"), label(o.get("label")) or o.get("value")) for o in stage.get("options", [])],
            [(f["name"], label(f.get("label")) or f["name"]) for f in fields if f.get("type") == "date"],
        )
    return found


@dataclass
class Asked:
    """The form as typed, and what is wrong with it, by field."""

    values: dict[str, str]
    draft: bool
    #: the pipeline's: stage → percent as typed, and the date field it closes by
    probabilities: dict[str, str] = field(default_factory=dict)
    closes: str = ""
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def anything(self) -> bool:
        return bool(self.values["amount"] or self.draft or self.values["pipeline"])


def _asked(offered: dict[str, Pipeline]) -> Asked:
    args = request.args
    values = {name: (args.get(name) or "").strip()[:100] for name in FIELDS}
    values["month"] = values["month"] or f"{dt.date.today():%Y-%m}"
    if "employee" not in args:  # yourself, until you choose someone else
        values["employee"] = _own_code()
    asked = Asked(values, args.get("draft") == "yes")
    chosen = offered.get(values["pipeline"])
    if chosen is not None:
        asked.probabilities = {
            stage: (args.get(f"p.{chosen.slug}.{stage}") or "").strip()[:10] for stage, _label in chosen.stages
        }
        asked.closes = (args.get(f"closes.{chosen.slug}") or "").strip()[:64]
    return asked


def _own_code() -> str:
    if g.user.employee_id is None:
        return ""
    found = get_session().get(Employee, g.user.employee_id)
    return found.code if found else ""


def _hypothetical(asked: Asked, month: Period, datasets: dict[str, str], offered: dict[str, Pipeline]):
    """The records the estimate assumes, and the assumptions in words; errors go on `asked`."""
    session = get_session()
    values, errors = asked.values, asked.errors
    records: list[Hypothetical] = []
    words: list[str] = []
    if (values["amount"] or values["pipeline"]) and values["dataset"] not in datasets:
        errors["dataset"] = _("Choose the records pay is worked out on.")
    if values["amount"]:
        person = visible_person(session, values["employee"])
        if person is None:
            errors["employee"] = (
                _("There is nobody with the code %(code)s among the people you may see.", code=values["employee"])
                if values["employee"]
                else _("Choose the person.")
            )
        try:
            amount = parse_money(values["amount"])
        except MoneyError:
            errors["amount"] = _("An amount with at most two decimals, such as 50,000.00.")
        else:
            if amount <= 0:
                errors["amount"] = _("An amount more than 0.")
        if not errors and person is not None:
            records.append(more(session, month, person.code, values["dataset"], amount))
            words.append(
                _(
                    "%(amount)s more in %(dataset)s for %(name)s (%(code)s), on %(day)s",
                    amount=money(amount),
                    dataset=datasets[values["dataset"]],
                    name=person.name,
                    code=person.code,
                    day=records[-1].day.isoformat(),
                )
            )
    if values["pipeline"]:
        found, assumed = _forecast(asked, month, offered.get(values["pipeline"]), datasets)
        records.extend(found)
        words.extend(assumed)
    return tuple(records), words


def _forecast(asked: Asked, month: Period, chosen: Pipeline | None, datasets: dict[str, str]):
    errors = asked.errors
    if chosen is None:
        errors["pipeline"] = _("Choose the open opportunities to forecast from.")
        return (), []
    probabilities: dict[str, Decimal] = {}
    for stage, typed in asked.probabilities.items():
        if not typed:
            continue
        try:
            fraction = Decimal(typed.replace("%", "")) / 100
        except InvalidOperation:
            fraction = Decimal(-1)
        if not 0 <= fraction <= 1:
            errors[f"p.{chosen.slug}.{stage}"] = _("A percentage from 0 to 100.")
        probabilities[stage] = fraction
    if not probabilities:
        errors["pipeline"] = _("Give the probability of at least one stage, such as 50 for proposals.")
    if asked.closes and asked.closes not in dict(chosen.dates):
        errors["pipeline"] = _("Choose a date field of %(dataset)s.", dataset=chosen.label)
    if errors:
        return (), []
    session = get_session()
    found, _words = pipeline(
        session,
        month,
        dataset=chosen.slug,
        amount=chosen.amount,
        stage=chosen.stage,
        probabilities=probabilities,
        into=asked.values["dataset"],
        closes=asked.closes or None,
    )
    names = employees_named(session, (record.owner_id for record in found))
    shown = visible_codes(session, {code for code, _name in names.values()})
    words = [
        _(
            "%(name)s (%(code)s): %(amount)s expected in %(dataset)s from the open %(pipeline)s",
            name=shown[names[record.owner_id][0]],
            code=names[record.owner_id][0],
            amount=money(from_minor(record.minor)),
            dataset=datasets[asked.values["dataset"]],
            pipeline=chosen.label,
        )
        for record in found
        if names[record.owner_id][0] in shown
    ]
    if not found:
        words.append(_("No open %(pipeline)s match: nothing is expected.", pipeline=chosen.label))
    return found, words


def configuration_name(name: str) -> str:
    """The service's name of a configuration ("version 4", "draft") in the reader's language."""
    if name == "draft":
        return _("the draft")
    if name.startswith("version "):
        return _("version %(number)s", number=name.removeprefix("version "))
    return name


def answer(estimate: Estimate, configs: list[dict], assumed: list[str]) -> dict:
    """The estimate as the page shows it: only the lines of people the user may see."""
    session = get_session()
    language = label_language()
    codes = {change.employee for change in estimate.changes}
    codes |= {error.employee for error in estimate.errors if error.employee}
    names = visible_codes(session, codes)
    changes = []
    people: dict[tuple[str, str], dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for change in estimate.changes:
        if change.employee not in names:
            continue
        currency = currency_of(configs, change.plan)
        plan, component = labels(configs, change.plan, change.component)
        changes.append(
            {
                "code": change.employee,
                "name": names[change.employee],
                "plan": plan,
                "component": component,
                "kind": "" if change.kind == "earned" else word(change.kind, "pay_line_kind"),
                "slug": change.component or change.kind,
                "raw_kind": change.kind,
                "before": change.before,
                "after": change.after,
                "delta": change.delta,
                "currency": currency,
                "explanation": change.words.get(language) or change.words.get("en", ""),
            }
        )
        people[(change.employee, names[change.employee])][currency] += change.delta
        totals[currency] += change.delta
    problems = []
    hidden = 0  # problems of people the viewer may not see: counted, never shown
    for error in estimate.errors:
        if error.employee and error.employee not in names:
            hidden += 1
            continue
        plan, component = labels(configs, error.plan, error.component) if error.plan else ("", "")
        person = f"{names[error.employee]} ({error.employee})" if error.employee else ""
        problems.append({"plan": plan, "component": component, "employee": person, "message": error.message})
    if hidden:
        problems.append(
            {
                "plan": "",
                "component": "",
                "employee": "",
                "message": _("%(count)d more, of people you may not see.", count=hidden),
            }
        )
    return {
        "before": configuration_name(estimate.before),
        "after": configuration_name(estimate.after),
        "assumed": assumed,
        "changes": changes,
        "people": [(code, name, dict(found)) for (code, name), found in sorted(people.items())],
        "totals": dict(sorted(totals.items())),
        "problems": problems,
    }


@bp.route("/estimate")
@login_required()
def estimate():
    """The form, and — once something is asked — the lines that would change. Nothing is written."""
    session = get_session()
    hr = g.user.has_role(*RUN_ROLES)
    config = published(session)
    datasets = record_datasets(config)
    offered = pipelines(config) if hr else {}
    asked = _asked(offered)
    if (asked.draft or asked.values["pipeline"]) and not hr:
        abort(403)  # another configuration, or the whole pipeline: HR's, as in the API
    result, problem, status = None, None, 200
    month = month_of(asked.values["month"])
    if month is None:
        asked.errors["month"] = _("A month, such as 2026-10.")
    if asked.anything and month is not None:
        period = Period.parse(month)
        try:
            records, assumed = _hypothetical(asked, period, datasets, offered)
            if not asked.errors:
                version = "draft" if asked.draft else "latest"
                found = compare(
                    session,
                    period,
                    load_plugins().functions,
                    version=version,
                    against="latest" if asked.draft else None,
                    hypothetical=records,
                )
                result = answer(found, [published(session, version), config], assumed)
        except (PayError, ConfigError) as exc:
            problem = str(exc)
        finally:
            session.rollback()  # an estimate: whatever was read or flushed, nothing stays
    if asked.errors or problem:
        status = 422
    return render_template(
        "pay/estimate.html",
        asked=asked,
        month=month,
        datasets=datasets,
        pipelines=offered,
        hr=hr,
        result=result,
        problem=problem,
        money=money,
        signed=signed,
    ), status
