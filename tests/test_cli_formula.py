"""`perfrules formula check` and `perfrules formula eval`."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from perfrules.cli import main


@pytest.fixture
def run():
    runner = CliRunner()

    def invoke(*args, input=None):
        return runner.invoke(main, list(args), input=input, catch_exceptions=False)

    return invoke


class TestCheck:
    def test_prints_the_names_a_formula_uses(self, run):
        result = run(
            "formula", "check", "round(sales / target.sales * 100, 1)", "--name", "sales", "--name", "target.sales"
        )
        assert result.exit_code == 0
        assert result.stdout.splitlines() == ["ok: gives a number", "names: sales, target.sales", "functions: ROUND"]

    def test_typed_names(self, run):
        result = run(
            "formula",
            "check",
            "status == 'won' and is_new",
            "--name",
            "status:text",
            "--name",
            "is_new:boolean",
            "--expect",
            "boolean",
        )
        assert result.exit_code == 0
        assert "names: status, is_new" in result.stdout

    def test_reads_the_formula_from_standard_input(self, run):
        result = run("formula", "check", "-", "--name", "calls", input="calls * 2\n")
        assert result.exit_code == 0 and "names: calls" in result.stdout

    def test_a_bad_formula_exits_2_with_a_caret(self, run):
        result = run("formula", "check", "sales_amout / 2", "--name", "sales_amount")
        assert result.exit_code == 2
        assert result.stderr == (
            "error: unknown name 'sales_amout' — did you mean 'sales_amount'? (at line 1, column 1)\n"
            "    sales_amout / 2\n"
            "    ^^^^^^^^^^^\n"
        )

    def test_wrong_kind_of_result(self, run):
        result = run("formula", "check", "calls + 1", "--name", "calls", "--expect", "boolean")
        assert result.exit_code == 2
        assert "this must give a true/false condition, but it gives a number" in result.stderr

    def test_an_invalid_name_option_is_a_usage_error(self, run):
        result = run("formula", "check", "x", "--name", "__x")
        assert result.exit_code == 2 and "invalid name '__x'" in result.stderr
        result = run("formula", "check", "x", "--name", "x:colour")
        assert result.exit_code == 2 and "unknown type 'colour'" in result.stderr


class TestEval:
    @pytest.mark.parametrize(
        "args, printed",
        [
            (["1 + 2 * 3"], "7.0"),
            (["ROUND(a / b, 2)", "--set", "a=2", "--set", "b=3"], "0.67"),
            (["status in ('won', 'lost') and amount > 0", "--set", "status=won", "--set", "amount=5"], "true"),
            (["status == 'won'", "--set", "status='lost'"], "false"),
            (["x", "--set", "x=null"], "null"),
            (["flag", "--set", "flag:boolean=null"], "null"),
            (["GROWTH(a, b)", "--set", "a=120", "--set", "b=100"], "0.2"),
            (["coalesce(a / b, 0)", "--set", "a=1", "--set", "b=0"], "0.0"),
        ],
    )
    def test_prints_json(self, run, args, printed):
        result = run("formula", "eval", *args)
        assert result.exit_code == 0, result.stderr
        assert json.loads(result.stdout) == json.loads(printed)

    def test_notes_go_to_standard_error(self, run):
        result = run("formula", "eval", "coalesce(a / b, 0)", "--set", "a=1", "--set", "b=0")
        assert result.stderr == "note: division by zero: a / b\n"

    def test_division_by_zero_exits_2(self, run):
        result = run("formula", "eval", "a / b", "--set", "a=1", "--set", "b=0")
        assert result.exit_code == 2
        assert result.stderr == "error: division by zero: a / b\n"

    def test_overflow_exits_2(self, run):
        result = run("formula", "eval", "a * a", "--set", "a=1e200")
        assert result.exit_code == 2
        assert result.stderr == "error: the result is too large: a * a\n"

    def test_a_bad_formula_exits_2(self, run):
        result = run("formula", "eval", "a +* 2", "--set", "a=1")
        assert result.exit_code == 2 and result.stderr.startswith("error: ")

    def test_an_unset_name_is_unknown(self, run):
        result = run("formula", "eval", "a + c", "--set", "a=1", "--set", "b=2")
        assert result.exit_code == 2
        assert "unknown name 'c'" in result.stderr

    def test_a_set_without_value_is_a_usage_error(self, run):
        result = run("formula", "eval", "a", "--set", "a")
        assert result.exit_code == 2 and "write NAME=VALUE" in result.stderr


def test_the_console_script_is_installed():
    script = shutil.which("perfrules", path=str(Path(sys.executable).parent))
    assert script, "the perfrules console script should be installed beside the interpreter"
    completed = subprocess.run(
        [script, "formula", "eval", "IF(a > 1, 10, 0)", "--set", "a=2"], capture_output=True, text=True, timeout=60
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout == "10.0\n"
