"""Plugins: packages that extend perfrules, found through the `perfrules.plugins` entry points.

A plugin is a callable `register(registry)` published under that entry-point group, by a
third-party package or by one of the built-in packages in `plugins/` — they are loaded the same
way. The setting PERFRULES_PLUGINS chooses which load: `all` (the default), `none` (a bare core,
for tests), or a comma-separated list of entry-point names.

Extension points:
- `add_function(Function)`: a formula function (perfrules.formula);
- `add_channel(name, factory)`: a notification channel (perfrules.notify.channels): `factory`
  takes the environment and returns the channel, or raises `NotConfigured` saying which setting
  is missing — the channel is then inactive, and `perfrules notify status` says why.
"""

from __future__ import annotations

import os
from importlib.metadata import entry_points

from .formula import Function, FunctionRegistry, builtin_functions
from .notify.channels import ChannelFactory

ENTRY_POINT_GROUP = "perfrules.plugins"


class PluginError(RuntimeError):
    """A plugin could not be found or failed while registering."""


class PluginRegistry:
    """What plugins may extend. Each `add_*` method is one extension point."""

    def __init__(self) -> None:
        self.functions: FunctionRegistry = builtin_functions()
        self.channels: dict[str, ChannelFactory] = {}
        self.loaded: list[str] = []

    def add_function(self, function: Function) -> None:
        """A formula function, with its row and column implementations (and optionally SQL)."""
        self.functions.register(function)

    def add_channel(self, name: str, factory: ChannelFactory) -> None:
        """A notification channel: `factory(environ)` returns it, or raises NotConfigured."""
        if name in self.channels:
            raise ValueError(f"notification channel {name} is registered twice")
        self.channels[name] = factory


def load_plugins(setting: str | None = None) -> PluginRegistry:
    """A registry with the built-ins and the plugins the setting enables."""
    if setting is None:
        setting = os.environ.get("PERFRULES_PLUGINS", "all")
    setting = setting.strip().lower()
    registry = PluginRegistry()
    if setting == "none":
        return registry
    available = {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}
    if setting in ("", "all"):
        wanted = sorted(available)
    else:
        wanted = [name.strip() for name in setting.split(",") if name.strip()]
        unknown = [name for name in wanted if name not in available]
        if unknown:
            raise PluginError(
                f"unknown plugin(s) in PERFRULES_PLUGINS: {', '.join(unknown)}; "
                f"installed: {', '.join(sorted(available)) or 'none'}"
            )
    for name in wanted:
        entry_point = available[name]
        try:
            entry_point.load()(registry)
        except Exception as exc:
            raise PluginError(f"plugin '{name}' ({entry_point.value}) failed to load: {exc}") from exc
        registry.loaded.append(name)
    return registry
