"""What incentive plans say about the rest of the configuration: the datasets and money fields
they add up, their filters, the fields rate tables look up, the metrics and templates they pay on.
"""

from __future__ import annotations

from collections.abc import Callable

from ..formula import BOOLEAN, NUMBER, TEXT, Catalogue, CompiledFormula, FormulaError
from ..problems import Problem
from .plan_schemas import base_kind

#: base kind → the names a pay formula on it reads (pay.formulas gives them their values)
BASE_NAMES = {
    "records": {"amount": NUMBER},
    "metric": {"value": NUMBER, "target": NUMBER},
    "scorecard": {"score": NUMBER, "grade": TEXT},
}


def formula_catalogue(plan: dict, base: dict) -> Catalogue:
    """The names a formula of a component on `base` may read: its base's, `employed` (the share of
    the period the person was employed, 1 for all of it), and the plan's parameters."""
    own = {**BASE_NAMES[base_kind(base)], "employed": NUMBER}
    catalogue = Catalogue()
    for name, kind in own.items():
        catalogue.add(name, kind)
    for name in sorted(plan.get("parameters") or {}):
        if name not in own:
            catalogue.add(name, NUMBER)
    return catalogue


#: (kind, slug, path, message) → a problem placed at its source
Locate = Callable[[str, str, tuple, str], Problem]
#: (kind, slug, path, text, catalogue, expected type): a formula checked, its problem recorded
CheckFormula = Callable[..., CompiledFormula | None]


def check_plans(
    config: dict, at: Locate, check_formula: CheckFormula, dataset_catalogue: Callable[[dict], object]
) -> list[Problem]:
    problems: list[Problem] = []
    datasets, metrics, templates = config.get("datasets", {}), config.get("metrics", {}), config.get("templates", {})
    for slug, plan in config.get("plans", {}).items():
        for index, component in enumerate(plan["components"]):
            where = ("components", index)
            base, rule = component["base"], component["rule"]
            kind = base_kind(base)
            if rule["kind"] == "formula":
                compiled = check_formula(
                    "plans", slug, (*where, "rule", "formula"), rule["formula"], formula_catalogue(plan, base), NUMBER
                )
                if compiled is not None:
                    try:
                        compiled.check_exact()
                    except FormulaError as exc:
                        problems.append(
                            at("plans", slug, (*where, "rule", "formula"), f"{exc.message}\n    {exc.excerpt()}")
                        )
            if kind == "metric" and base["metric"] not in metrics:
                problems.append(at("plans", slug, (*where, "base", "metric"), f"unknown metric '{base['metric']}'"))
            if kind == "scorecard" and base["scorecard"] not in templates:
                problems.append(
                    at("plans", slug, (*where, "base", "scorecard"), f"unknown template '{base['scorecard']}'")
                )
            if kind != "records":
                continue
            dataset = datasets.get(base["records"])
            if dataset is None:
                problems.append(at("plans", slug, (*where, "base", "records"), f"unknown dataset '{base['records']}'"))
                continue
            fields = {field["name"]: field for field in dataset["fields"]}
            amount = fields.get(base["amount"])
            if amount is None or amount["type"] != "money":
                money = ", ".join(name for name, field in fields.items() if field["type"] == "money") or "none"
                problems.append(
                    at(
                        "plans",
                        slug,
                        (*where, "base", "amount"),
                        f"'{base['amount']}' is not a money field of {dataset['slug']} (its money fields: {money})",
                    )
                )
            elif amount.get("currency", "CNY") != plan["currency"]:
                problems.append(
                    at(
                        "plans",
                        slug,
                        (*where, "base", "amount"),
                        f"'{base['amount']}' is in {amount.get('currency')}, the plan pays in {plan['currency']}",
                    )
                )
            if base.get("filter"):
                check_formula(
                    "plans", slug, (*where, "base", "filter"), base["filter"], dataset_catalogue(dataset), BOOLEAN
                )
            if rule["kind"] == "rate_table" and rule["field"] not in fields:
                problems.append(
                    at("plans", slug, (*where, "rule", "field"), f"{dataset['slug']} has no field '{rule['field']}'")
                )
            credit = base.get("credit") or {}
            for key, kinds, what in (
                ("splits", ("text",), "a text field"),
                ("overlay", ("employee",), "an employee field"),
            ):
                name = credit.get(key)
                if name and (name not in fields or fields[name]["type"] not in kinds):
                    problems.append(
                        at(
                            "plans",
                            slug,
                            (*where, "base", "credit", key),
                            f"'{name}' is not {what} of {dataset['slug']}",
                        )
                    )
            for section, path in (
                ((component.get("hold") or {}).get("until_paid"), ("hold", "until_paid")),
                (component.get("clawback"), ("clawback",)),
            ):
                if section:
                    problems.extend(_referring_problems(section, datasets, plan, slug, (*where, *path), at))
    return problems


def _referring_problems(section: dict, datasets: dict, plan: dict, slug: str, where: tuple, at: Locate) -> list:
    """A clawback's refunds or a hold's payments: records of a dataset with a money `amount` in the
    plan's currency and a field (`refers_to`) naming the record they refund or pay."""
    dataset = datasets.get(section["records"])
    if dataset is None:
        return [at("plans", slug, (*where, "records"), f"unknown dataset '{section['records']}'")]
    fields = {field["name"]: field for field in dataset["fields"]}
    problems = []
    amount = fields.get(section["amount"])
    if amount is None or amount["type"] != "money":
        problems.append(
            at("plans", slug, (*where, "amount"), f"'{section['amount']}' is not a money field of {dataset['slug']}")
        )
    elif amount.get("currency", "CNY") != plan["currency"]:
        problems.append(
            at(
                "plans",
                slug,
                (*where, "amount"),
                f"'{section['amount']}' is in {amount.get('currency')}, the plan pays in {plan['currency']}",
            )
        )
    if section["refers_to"] not in fields:
        problems.append(
            at("plans", slug, (*where, "refers_to"), f"{dataset['slug']} has no field '{section['refers_to']}'")
        )
    return problems
