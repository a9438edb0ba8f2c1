"""Plugins load through entry points; a setting turns them off; failures are clear."""

from __future__ import annotations

from importlib.metadata import EntryPoint

import pytest

from perfrules import plugins
from perfrules.formula import FormulaError, compile_formula
from perfrules.plugins import PluginError, load_plugins


def test_builtin_plugin_is_registered_like_any_other():
    registry = load_plugins()
    assert "kpi_functions" in registry.loaded
    assert {"growth", "divide"} <= set(registry.functions.names())


def test_plugin_functions_agree_on_both_paths():
    functions = load_plugins("kpi_functions").functions
    compiled = compile_formula(
        "GROWTH(now, before) + DIVIDE(now, before, 0)", {"now": "number", "before": "number"}, functions=functions
    )
    rows = [
        {"now": 120.0, "before": 100.0},
        {"now": 5.0, "before": 0.0},
        {"now": None, "before": 1.0},
        {"now": -50.0, "before": -100.0},
    ]
    fast = compiled.evaluate_columns({"now": [r["now"] for r in rows], "before": [r["before"] for r in rows]})
    for index, row in enumerate(rows):
        assert fast.row(index) == compiled.evaluate(row)
    assert fast.to_list() == [1.4, None, None, 1.0]
    assert fast.row(1).notes == ("GROWTH: the previous value is zero: GROWTH(now, before)",)


def test_setting_none_gives_a_bare_core(monkeypatch):
    monkeypatch.setenv("PERFRULES_PLUGINS", "none")
    registry = load_plugins()
    assert registry.loaded == []
    with pytest.raises(FormulaError, match="unknown function 'GROWTH'"):
        compile_formula("GROWTH(a, b)", {"a": "number", "b": "number"}, functions=registry.functions)


def test_an_unknown_plugin_name_is_an_error():
    with pytest.raises(
        PluginError, match="unknown plugin\\(s\\) in PERFRULES_PLUGINS: nope; installed: .*kpi_functions"
    ):
        load_plugins("kpi_functions, nope")


def _broken_register(registry):
    raise RuntimeError("database not configured")


def _duplicate_register(registry):
    from perfrules.formula.functions import BUILTINS

    registry.add_function(BUILTINS[0])


@pytest.mark.parametrize(
    "target, reason",
    [
        (f"{__name__}:_broken_register", "database not configured"),
        (f"{__name__}:_duplicate_register", "function MIN is registered twice"),
        ("no_such_module_xyz:register", "No module named 'no_such_module_xyz'"),
    ],
)
def test_a_failing_plugin_is_named(monkeypatch, target, reason):
    broken = EntryPoint(name="broken", value=target, group=plugins.ENTRY_POINT_GROUP)
    monkeypatch.setattr(plugins, "entry_points", lambda group: [broken])
    with pytest.raises(PluginError) as caught:
        load_plugins()
    assert str(caught.value) == f"plugin 'broken' ({target}) failed to load: {reason}"
