"""`perfrules config …`: configuration as code."""

from __future__ import annotations

from pathlib import Path

import click

from ..config.store import clone_template, export_yaml, load_paths
from ..config.versions import diff_configs, draft_is_published, list_versions, publish, resolve
from ..problems import ConfigError
from .context import actor, fail, functions, session_scope


@click.group("config")
def config_group() -> None:
    """Load, export, publish and compare configuration."""


@config_group.command("load")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
def load_command(paths: tuple[Path, ...]) -> None:
    """Load YAML files or folders into the draft configuration: all of it, or nothing."""
    try:
        with session_scope() as session:
            summary = load_paths(session, list(paths), functions(), actor())
    except ConfigError as exc:
        fail([*map(str, exc.problems), f"nothing was loaded ({len(exc.problems)} problem(s))"])
    click.echo(f"configuration loaded: {summary}")


@config_group.command("export")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to this file instead of standard output.",
)
@click.option("--version", "reference", default="draft", show_default=True, help="A version number, latest, or draft.")
def export_command(output: Path | None, reference: str) -> None:
    """Export the configuration as YAML."""
    try:
        with session_scope() as session:
            config = resolve(session, reference).config
    except ConfigError as exc:
        fail(exc.problems)
    text = export_yaml(config)
    if output:
        output.write_text(text, encoding="utf-8")
        click.echo(f"exported to {output}")
    else:
        click.echo(text, nl=False)


@config_group.command("publish")
@click.option("-m", "--message", required=True, help="What changed, for the version history.")
@click.option("--if-changed", is_flag=True, help="Succeed quietly when the draft equals the latest version.")
def publish_command(message: str, if_changed: bool) -> None:
    """Freeze the draft as a new immutable version."""
    try:
        with session_scope() as session:
            if if_changed and draft_is_published(session):
                click.echo("nothing to publish: the draft equals the latest version")
                return
            version = publish(session, message, functions(), actor())
            number, digest = version.number, version.content_hash
    except ConfigError as exc:
        fail(exc.problems)
    click.echo(f"published version {number} ({digest[:12]})")


@config_group.command("versions")
def versions_command() -> None:
    """List published versions."""
    with session_scope() as session:
        versions = list_versions(session)
        if not versions:
            click.echo("no version published yet")
        for version in versions:
            click.echo(
                f"{version.number:>4}  {version.content_hash[:12]}  "
                f"{version.created_at:%Y-%m-%d %H:%M}  {version.created_by}  {version.message}"
            )


@config_group.command("diff")
@click.argument("old")
@click.argument("new", default="draft")
def diff_command(old: str, new: str) -> None:
    """Show what changed from OLD to NEW (version numbers, latest, or draft; NEW defaults to draft)."""
    try:
        with session_scope() as session:
            before, after = resolve(session, old), resolve(session, new)
            old_name, old_config, new_name, new_config = before.name, before.config, after.name, after.config
    except ConfigError as exc:
        fail(exc.problems)
    lines = diff_configs(old_config, new_config)
    click.echo(
        f"{old_name} → {new_name}: "
        + (f"{sum(1 for line in lines if not line.startswith(' '))} document(s) differ" if lines else "no differences")
    )
    for line in lines:
        click.echo(line)


@config_group.command("clone-template")
@click.argument("source")
@click.argument("slug")
@click.option("--department", "departments", multiple=True, help="The clone applies to this department (repeatable).")
@click.option(
    "--role", "roles", multiple=True, help="The clone applies to this role (repeatable; default: the source's)."
)
@click.option("--label-zh", help="The clone's Chinese label.")
@click.option("--label-en", help="The clone's English label.")
def clone_template_command(source, slug, departments, roles, label_zh, label_en) -> None:
    """Copy template SOURCE as SLUG for other departments or roles, into the draft."""
    try:
        with session_scope() as session:
            original = resolve(session, "draft").config.get("templates", {}).get(source, {})
            label = None
            if label_zh or label_en:
                label = {
                    "zh": label_zh or original.get("label", {}).get("zh", slug),
                    "en": label_en or original.get("label", {}).get("en", slug),
                }
            clone_template(
                session,
                source,
                slug,
                functions(),
                actor(),
                departments=list(departments) or None,
                roles=list(roles) or None,
                label=label,
            )
    except ConfigError as exc:
        fail(exc.problems)
    click.echo(f"template '{slug}' cloned from '{source}' into the draft; publish to use it")
