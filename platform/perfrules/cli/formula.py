"""`perfrules formula …`: check and evaluate formulas from the shell."""

from __future__ import annotations

import json
import sys

import click

from ..formula import BOOLEAN, NUMBER, TEXT, Catalogue, FormulaError, ValueType, compile_formula
from ..plugins import PluginError, load_plugins

FORMULA_ERROR_EXIT = 2


def _read_formula(expression: str) -> str:
    return sys.stdin.read().rstrip("\n") if expression == "-" else expression


def _split_typed_name(spec: str) -> tuple[str, ValueType | None]:
    name, _, kind = spec.partition(":")
    try:
        return name.strip(), ValueType.parse(kind) if kind else None
    except ValueError as exc:
        raise click.BadParameter(f"{spec}: {exc}") from None


def _parse_value(text: str):
    """A --set value: null, true/false, a number, or else text (quotes optional)."""
    word = text.strip()
    if word.lower() in ("null", "none", ""):
        return None, NUMBER
    if word.lower() in ("true", "false"):
        return word.lower() == "true", BOOLEAN
    try:
        return float(word), NUMBER
    except ValueError:
        pass
    if len(word) >= 2 and word[0] == word[-1] and word[0] in "'\"":
        word = word[1:-1]
    return word, TEXT


def _compile(text: str, catalogue: Catalogue, expect: ValueType | None):
    try:
        functions = load_plugins().functions
    except PluginError as exc:
        raise click.ClickException(str(exc)) from None
    try:
        return compile_formula(text, catalogue, functions=functions, expect=expect)
    except FormulaError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(FORMULA_ERROR_EXIT)


@click.group()
def formula() -> None:
    """Check and evaluate formulas."""


@formula.command("check")
@click.argument("expression")
@click.option(
    "--name",
    "names",
    multiple=True,
    metavar="NAME[:TYPE]",
    help="A name the formula may use; TYPE is number (default), boolean or text.",
)
@click.option(
    "--expect", type=click.Choice(["number", "boolean"]), help="Require the formula to give this kind of value."
)
def check_command(expression: str, names: tuple[str, ...], expect: str | None) -> None:
    """Check EXPRESSION (`-` reads it from standard input); print the names it uses."""
    catalogue = Catalogue()
    for spec in names:
        name, kind = _split_typed_name(spec)
        try:
            catalogue.add(name, kind or NUMBER)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--name") from None
    compiled = _compile(_read_formula(expression), catalogue, ValueType.parse(expect) if expect else None)
    click.echo(f"ok: gives {compiled.type.noun}")
    click.echo(f"names: {', '.join(compiled.names) or '(none)'}")
    click.echo(f"functions: {', '.join(compiled.functions) or '(none)'}")


@formula.command("eval")
@click.argument("expression")
@click.option(
    "--set",
    "assignments",
    multiple=True,
    metavar="NAME[:TYPE]=VALUE",
    help="A value for a name: a number, true/false, null, or text.",
)
def eval_command(expression: str, assignments: tuple[str, ...]) -> None:
    """Evaluate EXPRESSION (`-` reads it from standard input) and print the result as JSON."""
    catalogue, row = Catalogue(), {}
    for assignment in assignments:
        spec, equals, raw = assignment.partition("=")
        if not equals:
            raise click.BadParameter(f"{assignment!r}: write NAME=VALUE", param_hint="--set")
        name, declared = _split_typed_name(spec)
        value, inferred = _parse_value(raw)
        try:
            catalogue.add(name, declared or inferred)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--set") from None
        row[name] = value
    compiled = _compile(_read_formula(expression), catalogue, None)
    result = compiled.evaluate({name: row[name] for name in compiled.names})
    if result.error:
        click.echo(f"error: {result.error}", err=True)
        sys.exit(FORMULA_ERROR_EXIT)
    zero_divisions = [note for note in result.notes if note.startswith("division by zero")]
    if result.value is None and zero_divisions:
        click.echo(f"error: {zero_divisions[0]}", err=True)
        sys.exit(FORMULA_ERROR_EXIT)
    for note in result.notes:
        click.echo(f"note: {note}", err=True)
    click.echo(json.dumps(result.value))
