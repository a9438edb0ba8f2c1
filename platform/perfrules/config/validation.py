"""Validating configuration: each document against its schema, then the whole set together —
references between documents, formulas checked against the names the configuration defines,
and KPI dependency cycles."""

from __future__ import annotations

from marshmallow import ValidationError

from ..formula import BOOLEAN, NUMBER, TEXT, Catalogue, FormulaError, FunctionRegistry, compile_formula
from ..org.models import USER_ROLES
from ..problems import Problem, flatten_messages, format_path
from .plan_checks import check_plans
from .schemas import KINDS
from .sources import SourceDocument

#: {kind: {slug: document}}
Config = dict[str, dict[str, dict]]

FIELD_FORMULA_TYPES = {
    "text": TEXT,
    "choice": TEXT,
    "employee": TEXT,
    "integer": NUMBER,
    "decimal": NUMBER,
    "money": NUMBER,
    "boolean": BOOLEAN,
}
NUMERIC_FIELDS = ("integer", "decimal", "money")
ATTRIBUTE_TYPES = {"number": NUMBER, "text": TEXT, "boolean": BOOLEAN}
BUILTIN_EMPLOYEE_NAMES = {"employee.tenure_months": NUMBER}
SCORECARD_NAMES = {"total": NUMBER, "grade": TEXT, "company_rank": NUMBER, "department_rank": NUMBER}


def strip_none(value):
    if isinstance(value, dict):
        return {k: strip_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [strip_none(v) for v in value]
    return value


def normalise(document: SourceDocument) -> tuple[dict | None, list[Problem]]:
    """The document in its stored form, or the problems that stop it."""
    schema = KINDS[document.kind]()
    try:
        loaded = schema.load(document.data)
    except ValidationError as exc:
        return None, [document.problem(path, message) for path, message in flatten_messages(exc.messages)]
    return strip_none(schema.dump(loaded)), []


class _Locator:
    """Puts a problem at its source line when the document came from a file."""

    def __init__(self, origins: dict[tuple[str, str], SourceDocument]):
        self.origins = origins

    def __call__(self, kind: str, slug: str, path: tuple, message: str) -> Problem:
        origin = self.origins.get((kind, slug))
        if origin is not None:
            return origin.problem(path, message)
        return Problem(format_path((kind, slug) + path) if path else f"{kind}.{slug}", message)


def check_config(
    config: Config, functions: FunctionRegistry, origins: dict[tuple[str, str], SourceDocument] | None = None
) -> list[Problem]:
    """Problems in how the documents of a configuration fit together."""
    at = _Locator(origins or {})
    problems: list[Problem] = []
    datasets, metrics, kpis = config.get("datasets", {}), config.get("metrics", {}), config.get("kpis", {})

    def check_formula(kind, slug, path, text, catalogue, expect):
        try:
            return compile_formula(text, catalogue, functions=functions, expect=expect)
        except FormulaError as exc:
            problems.append(
                at(kind, slug, path, f"{exc.message}\n    {exc.excerpt().replace(chr(10), chr(10) + '    ')}")
            )
            return None

    for slug, metric in metrics.items():
        dataset = datasets.get(metric["dataset"])
        if dataset is None:
            problems.append(at("metrics", slug, ("dataset",), f"unknown dataset '{metric['dataset']}'"))
            continue
        by_name = {f["name"]: f for f in dataset["fields"]}
        field = metric.get("field")
        if field is not None:
            if field not in by_name:
                problems.append(at("metrics", slug, ("field",), f"dataset '{dataset['slug']}' has no field '{field}'"))
            elif metric["aggregate"] in ("sum", "avg", "min", "max") and by_name[field]["type"] not in NUMERIC_FIELDS:
                problems.append(
                    at(
                        "metrics",
                        slug,
                        ("field",),
                        f"{metric['aggregate']} needs a number field; '{field}' is {by_name[field]['type']}",
                    )
                )
        if metric.get("filter"):
            check_formula("metrics", slug, ("filter",), metric["filter"], dataset_catalogue(dataset), BOOLEAN)

    kpi_catalogue = kpi_names(config)
    dependencies: dict[str, list[str]] = {}
    for slug, kpi in kpis.items():
        compiled = check_formula("kpis", slug, ("formula",), kpi["formula"], kpi_catalogue, NUMBER)
        if compiled is not None:
            dependencies[slug] = [name[4:] for name in compiled.names if name.startswith("kpi.")]
        if kpi["scoring"]["type"] == "formula":
            check_formula(
                "kpis",
                slug,
                ("scoring", "formula"),
                kpi["scoring"]["formula"],
                Catalogue({"value": NUMBER, "target": NUMBER}),
                NUMBER,
            )
    for cycle_start, cycle in _cycles(dependencies):
        problems.append(
            at(
                "kpis",
                cycle_start,
                ("formula",),
                "KPIs depend on each other in a cycle: " + " → ".join(f"kpi.{k}" for k in cycle),
            )
        )

    forms = config.get("forms", {})
    flows = config.get("approval_flows", {})
    for slug, template in config.get("templates", {}).items():
        for s, section in enumerate(template["sections"]):
            for i, item in enumerate(section["items"]):
                where = ("sections", s, "items", i)
                if item.get("kpi") and item["kpi"] not in kpis:
                    problems.append(at("templates", slug, where + ("kpi",), f"unknown KPI '{item['kpi']}'"))
                if item.get("form") and item["form"] not in forms:
                    problems.append(at("templates", slug, where + ("form",), f"unknown form '{item['form']}'"))
        if template.get("approval_flow") and template["approval_flow"] not in flows:
            problems.append(
                at("templates", slug, ("approval_flow",), f"unknown approval flow '{template['approval_flow']}'")
            )

    scorecard = scorecard_catalogue(config)
    for slug, flow in flows.items():
        named = set()
        for index, step in enumerate(flow["steps"]):
            if step["name"] in named:  # the engine finds steps by name: the second would never be reached
                problems.append(
                    at(
                        "approval_flows",
                        slug,
                        ("steps", index, "name"),
                        f"step '{step['name']}' is in the flow twice; give each step its own name",
                    )
                )
            named.add(step["name"])
            kind, _, role = step["actor"].partition(":")
            if kind == "role" and role not in USER_ROLES:  # nobody could ever hold it: the step would wait forever
                problems.append(
                    at(
                        "approval_flows",
                        slug,
                        ("steps", index, "actor"),
                        f"unknown role '{role}'; use one of {', '.join(USER_ROLES)}",
                    )
                )
            if step.get("condition"):
                check_formula(
                    "approval_flows", slug, ("steps", index, "condition"), step["condition"], scorecard, BOOLEAN
                )

    templates = config.get("templates", {})
    for slug, schedule in config.get("schedules", {}).items():
        for index, template in enumerate(schedule["templates"]):
            if template not in templates:
                problems.append(at("schedules", slug, ("templates", index), f"unknown template '{template}'"))

    measurable = set(metrics) | set(kpis)
    for slug, target_set in config.get("targets", {}).items():
        for index, entry in enumerate(target_set["entries"]):
            if entry["name"] not in measurable:
                problems.append(
                    at("targets", slug, ("entries", index, "name"), f"unknown metric or KPI '{entry['name']}'")
                )
    problems.extend(check_plans(config, at, check_formula, dataset_catalogue))
    return problems


def dataset_catalogue(dataset: dict, *, options: bool = True) -> Catalogue:
    """Names a dataset filter may use: its fields (dates are compared through metric windows).

    With `options`, a choice field's text may only be compared with its options' values
    (`type == 'meting'` is refused: records hold only those values, so it would never match).
    Evaluating a published version passes False: the version is run as it was checked.
    """
    catalogue = Catalogue()
    for f in dataset["fields"]:
        if f["type"] in FIELD_FORMULA_TYPES:
            listed = [option["value"] for option in f.get("options") or []] if options else []
            catalogue.add(f["name"], FIELD_FORMULA_TYPES[f["type"]], values=listed or None)
    return catalogue


def scorecard_catalogue(config: Config) -> Catalogue:
    """Names a step condition may use: the scorecard's total, grade and ranks, and the employee's
    attributes; `grade` compares only with a grade some template gives."""
    grades = dict.fromkeys(g["grade"] for template in config.get("templates", {}).values() for g in template["grades"])
    catalogue = Catalogue()
    for name, kind in {**SCORECARD_NAMES, **employee_names(config)}.items():
        catalogue.add(name, kind, values=list(grades) if name == "grade" and grades else None)
    return catalogue


def employee_names(config: Config) -> dict:
    names = dict(BUILTIN_EMPLOYEE_NAMES)
    for slug, attribute in config.get("employee_attributes", {}).items():
        names[f"employee.{slug}"] = ATTRIBUTE_TYPES[attribute["type"]]
    return names


def kpi_names(config: Config) -> Catalogue:
    """Names a KPI formula may use: metrics, their targets and previous values, other KPIs."""
    names = dict(employee_names(config))
    for slug in config.get("metrics", {}):
        names[slug] = NUMBER
    for slug in [*config.get("metrics", {}), *config.get("kpis", {})]:
        names[f"target.{slug}"] = NUMBER
        names[f"prev.{slug}"] = NUMBER
    for slug in config.get("kpis", {}):
        names[f"kpi.{slug}"] = NUMBER
    return Catalogue(names)


def _cycles(dependencies: dict[str, list[str]]) -> list[tuple[str, list[str]]]:
    """Each dependency cycle once, as (first KPI, path back to it). Iterative depth-first search."""
    found: list[tuple[str, list[str]]] = []
    done: set[str] = set()
    for start in sorted(dependencies):
        if start in done:
            continue
        stack: list[tuple[str, int]] = [(start, 0)]
        path: list[str] = []
        on_path: set[str] = set()
        while stack:
            node, child_index = stack.pop()
            if child_index == 0:
                path.append(node)
                on_path.add(node)
            children = dependencies.get(node, [])
            if child_index < len(children):
                stack.append((node, child_index + 1))
                child = children[child_index]
                if child in on_path:
                    cycle = path[path.index(child) :] + [child]
                    if not any(set(cycle) == set(c) for _, c in found):
                        found.append((cycle[0], cycle))
                elif child not in done:
                    stack.append((child, 0))
            else:
                path.pop()
                on_path.discard(node)
                done.add(node)
    return found
