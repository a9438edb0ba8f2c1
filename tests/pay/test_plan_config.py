"""Plans are configuration: each mistake is refused with its file, line and path, and says why."""

from __future__ import annotations

import textwrap

import pytest

from ..helpers import run_cli

pytestmark = pytest.mark.database

RULE = "rule: {kind: tiered, mode: marginal, tiers: [{from: 0, percent: 3}, {from: 100000, percent: 5}]}"
MINIMAL = """
datasets:
  - slug: collections
    label: {zh: 回款, en: Collections}
    owner_field: owner
    date_field: received_on
    fields:
      - {name: owner, label: {zh: 负责人, en: Owner}, type: employee, required: true}
      - {name: received_on, label: {zh: 日期, en: Date}, type: date, required: true}
      - {name: amount, label: {zh: 金额, en: Amount}, type: money, currency: CNY}
      - {name: count, label: {zh: 数量, en: Count}, type: integer}
plans:
  - slug: reps
    label: {zh: 销售激励, en: Rep pay}
    assign: [{roles: [rep]}]
    parameters: {target_bonus: 10000}
    components:
      - slug: commission
        label: {zh: 提成, en: Commission}
        frequency: monthly
        base: {records: collections, amount: amount, filter: "count > 0"}
        rule: {kind: tiered, mode: marginal, tiers: [{from: 0, percent: 3}, {from: 100000, percent: 5}]}
"""


@pytest.mark.parametrize(
    "old, new, expected",
    [
        ("records: collections,", "records: payments,", "components[0].base.records: unknown dataset 'payments'"),
        (
            "amount: amount,",
            "amount: count,",
            "components[0].base.amount: 'count' is not a money field of collections (its money fields: amount)",
        ),
        ("currency: CNY}", "currency: USD}", "components[0].base.amount: 'amount' is in USD, the plan pays in CNY"),
        ("count > 0", "count > 'x'", "components[0].base.filter:"),
        ("mode: marginal, ", "", "components[0].rule.mode: say marginal (each slice at its rate) or retroactive"),
        ("{from: 0, percent: 3}, ", "", "components[0].rule.tiers: the first tier must start from 0"),
        (
            "kind: tiered, mode: marginal, tiers: [{from: 0, percent: 3}, {from: 100000, percent: 5}]",
            "kind: flat, percent: 3, tiers: [{from: 0, percent: 3}]",
            "components[0].rule.tiers: a percentage of the base has no tiers",
        ),
        (
            "kind: tiered, mode: marginal, tiers: [{from: 0, percent: 3}, {from: 100000, percent: 5}]",
            "kind: attainment, target_pay: bonus",
            "components[0].rule.kind: paid on the records of a dataset, a component pays one of: a percentage of the base",
        ),
        ("frequency: monthly", "frequency: weekly", "components[0].frequency: Must be one of: monthly"),
        ("frequency: monthly", "", "components[0].frequency: say how often it is paid"),
        ("{from: 100000, percent: 5}", "{from: 100000.005, percent: 5}", "a cent cannot be split"),
        (
            'filter: "count > 0"}',
            "credit: {splits: count, overlay: amount}}",
            "components[0].base.credit.splits: 'count' is not a text field of collections",
        ),
        (
            'filter: "count > 0"}',
            "credit: {overlay: amount}}",
            "components[0].base.credit.overlay: 'amount' is not an employee field of collections",
        ),
        ('filter: "count > 0"}', "credit: {managers: 0}}", "components[0].base.credit.managers: Must be greater"),
        (
            "    components:",
            "    proration: {by: whole_months}\n    components:",
            "plans[0].proration.cut_off_day: say the day of the month by which a joiner's month counts",
        ),
        (RULE, "rule: {kind: formula, formula: 'amount * rate'}", "components[0].rule.formula: unknown name 'rate'"),
        (RULE, "rule: {kind: formula, formula: 'amount > 3'}", "components[0].rule.formula: this must give a number"),
        (
            RULE,
            "rule: {kind: formula, formula: 'amount * 0.03 + target_bonus'}",
            None,
        ),
        (
            RULE,
            f"{RULE}\n        clawback: {{records: refunds, amount: amount, refers_to: payment, lookback_days: 30}}",
            "components[0].clawback.records: unknown dataset 'refunds'",
        ),
        (
            RULE,
            f"{RULE}\n        clawback: {{records: collections, amount: count, refers_to: payment, lookback_days: 30}}",
            "components[0].clawback.amount: 'count' is not a money field of collections",
        ),
        (
            RULE,
            f"{RULE}\n        clawback: {{records: collections, amount: amount, refers_to: payment, lookback_days: 30}}",
            "components[0].clawback.refers_to: collections has no field 'payment'",
        ),
        (
            RULE,
            f"{RULE}\n        hold: {{percent: 20, months: 2, until: 2027-01-31}}",
            "components[0].hold: say when it is paid out: months (after the period), until (a day) or until_paid",
        ),
        (
            RULE,
            f"{RULE}\n        hold: {{percent: 20, until_paid: {{records: collections, refers_to: deal, amount: count}}}}",
            "components[0].hold.until_paid.refers_to: collections has no field 'deal'",
        ),
        (
            RULE,
            "rule: {kind: contest, starts_on: 2026-10-01, ends_on: 2026-11-15, per_record: 500}",
            "components[0].frequency: a contest is paid in the month it ends: it has no frequency",
        ),
        (
            'frequency: monthly\n        base: {records: collections, amount: amount, filter: "count > 0"}\n        '
            + RULE,
            "base: {records: collections, amount: amount}\n        "
            "rule: {kind: contest, starts_on: 2026-10-01, ends_on: 2026-09-15, per_record: 500}",
            "components[0].rule.ends_on: must not be before starts_on",
        ),
        (
            "    components:",
            "    draw: {amount: floor, recoverable: true}\n    components:",
            "plans[0].draw.amount: 'floor' is not one of the plan's parameters (target_bonus)",
        ),
        (
            "    components:",
            "    draw: {amount: target_bonus}\n    components:",
            "plans[0].draw.recoverable: Missing data for required field",
        ),
        (
            RULE,
            "rule: {kind: award}",
            "components[0].rule.kind: paid on the records of a dataset, a component pays one of:",
        ),
        (
            'base: {records: collections, amount: amount, filter: "count > 0"}\n        ' + RULE,
            "base: {manual: true}\n        rule: {kind: flat, percent: 3}",
            "components[0].rule.kind: paid on awards given by hand, a component pays one of: awards asked for by hand",
        ),
        ("assign: [{roles: [rep]}]", "assign: []", "plans[0].assign: Shorter than minimum length 1"),
    ],
)
def test_plan_mistakes_are_refused_with_their_path(cli_env, tmp_path, old, new, expected):
    text = textwrap.dedent(MINIMAL).lstrip()
    assert old in text, old
    path = tmp_path / "plans.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    result = run_cli("config", "load", path)
    if expected is None:  # the change is good
        assert result.exit_code == 0, result.output
        return
    assert result.exit_code == 2, result.output
    assert expected in result.stderr and f"{path}:" in result.stderr, result.stderr


def test_a_good_plan_loads_and_a_rule_keeps_only_its_keys(cli_env, tmp_path):
    path = tmp_path / "plans.yaml"
    path.write_text(textwrap.dedent(MINIMAL).lstrip(), encoding="utf-8")
    assert run_cli("config", "load", path).exit_code == 0
    exported = run_cli("config", "export").stdout
    assert "tiers:\n" in exported and "from: 100000" in exported and "currency: CNY" in exported
