"""Configuration loads from YAML all-or-nothing, explains its errors by file, line and path,
exports back to identical YAML, and is versioned with readable diffs and an audit trail."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml
from click.testing import CliRunner

from perfrules.audit import AuditEntry
from perfrules.cli import main
from perfrules.config.models import ConfigEntry, ConfigVersion

pytestmark = pytest.mark.database

SEEDS = Path(__file__).resolve().parents[2] / "seed_configs" / "config"


@pytest.fixture
def perfrules(cli_env):
    runner = CliRunner()

    def run(*args):
        return runner.invoke(main, [str(a) for a in args], catch_exceptions=False)

    return run


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def count(session, model) -> int:
    session.rollback()  # a new snapshot: see what the commands committed
    return session.scalar(sa.select(sa.func.count()).select_from(model))


def test_seed_configuration_loads_exports_and_round_trips(perfrules, session, tmp_path):
    loaded = perfrules("config", "load", SEEDS)
    assert loaded.exit_code == 0, loaded.stderr
    assert loaded.stdout.startswith("configuration loaded: ") and "0 changed" in loaded.stdout
    session.rollback()
    kinds = dict(session.execute(sa.select(ConfigEntry.kind, sa.func.count()).group_by(ConfigEntry.kind)).all())
    assert kinds["datasets"] == 7 and kinds["templates"] == 4 and kinds["kpis"] >= 12
    assert count(session, AuditEntry) == sum(kinds.values())

    first = tmp_path / "first.yaml"
    assert perfrules("config", "export", "-o", first).exit_code == 0
    again = perfrules("config", "load", SEEDS)
    assert "0 added, 0 changed" in again.stdout
    assert count(session, AuditEntry) == sum(kinds.values()), "unchanged documents are not audited"

    exported = yaml.safe_load(first.read_text(encoding="utf-8"))
    rep = next(t for t in exported["templates"] if t["slug"] == "sales_rep")
    assert rep["label"] == {"zh": "销售代表月度考核", "en": "Sales representative (monthly)"}
    assert "销售额完成率" in first.read_text(encoding="utf-8"), "Chinese is written as is"


def test_export_load_into_an_empty_database_export_is_identical(perfrules, tmp_path, monkeypatch):
    assert perfrules("config", "load", SEEDS).exit_code == 0
    first = tmp_path / "first.yaml"
    perfrules("config", "export", "-o", first)
    monkeypatch.setenv("PERFRULES_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    assert perfrules("db", "upgrade").exit_code == 0
    assert perfrules("config", "load", first).exit_code == 0
    second = perfrules("config", "export")
    assert second.stdout == first.read_text(encoding="utf-8")


MINIMAL = """
    datasets:
      - slug: deals
        label: {zh: 成交, en: Deals}
        owner_field: owner
        date_field: closed_on
        fields:
          - {name: owner, label: {zh: 负责人, en: Owner}, type: employee}
          - {name: closed_on, label: {zh: 日期, en: Date}, type: date}
          - {name: amount, label: {zh: 金额, en: Amount}, type: decimal}
          - {name: status, label: {zh: 状态, en: Status}, type: text}
    metrics:
      - {slug: sales_amount, label: {zh: 销售额, en: Sales}, dataset: deals, aggregate: sum, field: amount, filter: "status == 'won'"}
    kpis:
      - slug: attainment
        label: {zh: 完成率, en: Attainment}
        formula: sales_amount / target.sales_amount
        scoring: {type: linear, value_from: 0, value_to: 1, points_from: 0, points_to: 100}
    templates:
      - slug: rep
        label: {zh: 销售, en: Sales}
        sections:
          - name: results
            label: {zh: 业绩, en: Results}
            weight: 100
            items:
              - {kpi: attainment, weight: 100}
        grades:
          - {grade: A, min: 80, label: {zh: 优, en: Good}}
          - {grade: B, min: 0, label: {zh: 良, en: Fair}}
"""


@pytest.mark.parametrize(
    "old, new, expected",
    [
        (
            "- {kpi: attainment, weight: 100}",
            "- {kpi: attainment, weight: -5}",
            "bad.yaml:26: templates[0].sections[0].items[0].weight: must be greater than 0",
        ),
        (
            "weight: 100\n",
            "weight: 90\n",
            "bad.yaml:21: templates[0].sections: section weights add up to 90, not 100 (or set weights: normalise)",
        ),
        (
            "formula: sales_amount / target.sales_amount",
            "formula: sales_amout / target.sales_amount",
            "bad.yaml:16: kpis[0].formula: unknown name 'sales_amout' — did you mean 'sales_amount'?",
        ),
        (
            "filter: \"status == 'won'\"",
            'filter: "status + 1"',
            "bad.yaml:12: metrics[0].filter: text can only be compared, not used in arithmetic",
        ),
        (
            "field: amount, filter",
            "field: status, filter",
            "bad.yaml:12: metrics[0].field: sum needs a number field; 'status' is text",
        ),
        ("dataset: deals,", "dataset: sales,", "bad.yaml:12: metrics[0].dataset: unknown dataset 'sales'"),
        (
            "label: {zh: 销售, en: Sales}",
            "label: {zh: 销售}",
            "bad.yaml:20: templates[0].label.en: Missing data for required field.",
        ),
        (
            "owner_field: owner",
            "owner_field: amount",
            "bad.yaml:4: datasets[0].owner_field: must name a field of type employee",
        ),
        (
            "- {kpi: attainment, weight: 100}",
            "- {kpi: attainmant, weight: 100}",
            "bad.yaml:26: templates[0].sections[0].items[0].kpi: unknown KPI 'attainmant'",
        ),
        (
            "aggregate: sum,",
            "aggregate: total,",
            "bad.yaml:12: metrics[0].aggregate: Must be one of: count, sum, avg, min, max, count_distinct.",
        ),
        ("    grades:", "    colour: red\n    grades:", "bad.yaml:27: templates[0].colour: Unknown field."),
        (
            "- {grade: B, min: 0,",
            "- {grade: B, min: 90,",
            "bad.yaml:27: templates[0].grades: grades must be ordered from the highest min to the lowest",
        ),
    ],
)
def test_errors_name_file_line_and_path(perfrules, session, tmp_path, old, new, expected):
    text = textwrap.dedent(MINIMAL).lstrip()
    assert old in text
    path = tmp_path / "bad.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    result = perfrules("config", "load", path)
    assert result.exit_code == 2
    assert f"error: {path.parent!s}/{expected}" in result.stderr, result.stderr
    assert "nothing was loaded" in result.stderr
    assert count(session, ConfigEntry) == 0 and count(session, AuditEntry) == 0


def test_a_kpi_cycle_is_rejected(perfrules, tmp_path):
    text = textwrap.dedent(MINIMAL).lstrip().replace(
        "formula: sales_amount / target.sales_amount", "formula: kpi.other * 2"
    ) + textwrap.dedent("""
        extra: []
    """).replace("extra: []", "")
    text = text.replace(
        "templates:",
        """  - slug: other
    label: {zh: 其他, en: Other}
    formula: kpi.attainment + 1
    scoring: {type: formula, formula: value}
templates:""",
        1,
    )
    path = write(tmp_path, "cycle.yaml", text)
    result = perfrules("config", "load", path)
    assert result.exit_code == 2
    assert (
        "kpis[0].formula: KPIs depend on each other in a cycle: kpi.attainment → kpi.other → kpi.attainment"
        in result.stderr
    )


def test_loading_is_all_or_nothing_across_files(perfrules, session, tmp_path):
    folder = tmp_path / "config"
    folder.mkdir()
    write(folder, "a_good.yaml", MINIMAL)
    write(
        folder,
        "b_bad.yaml",
        """
        kpis:
          - slug: broken
            label: {zh: 坏, en: Broken}
            formula: "sales_amount %"
            scoring: {type: formula, formula: value}
    """,
    )
    result = perfrules("config", "load", folder)
    assert result.exit_code == 2
    assert "b_bad.yaml:4: kpis[0].formula: '%' is not allowed in formulas" in result.stderr
    assert count(session, ConfigEntry) == 0


def test_duplicates_unknown_sections_and_bad_yaml_are_reported(perfrules, tmp_path):
    folder = tmp_path / "config"
    folder.mkdir()
    write(folder, "a.yaml", MINIMAL)
    write(
        folder,
        "b.yaml",
        "kpis:\n  - slug: attainment\n    label: {zh: 重复, en: Again}\n"
        "    formula: '1'\n    scoring: {type: formula, formula: value}\nwidgets: []\n",
    )
    write(folder, "c.yaml", "kpis: [\n  - oops\n")
    result = perfrules("config", "load", folder)
    assert result.exit_code == 2
    assert "b.yaml:2: kpis[0].slug: 'attainment' is defined twice (first in" in result.stderr
    assert "b.yaml:6: widgets: unknown section; expected one of datasets," in result.stderr
    assert "c.yaml:2: not valid YAML:" in result.stderr


def test_publish_versions_and_diff(perfrules, session, tmp_path):
    path = write(tmp_path, "config.yaml", MINIMAL)
    assert perfrules("config", "load", path).exit_code == 0
    assert perfrules("config", "versions").stdout == "no version published yet\n"
    first = perfrules("config", "publish", "-m", "First version")
    assert first.exit_code == 0 and first.stdout.startswith("published version 1 (")
    again = perfrules("config", "publish", "-m", "No change")
    assert again.exit_code == 2
    assert "nothing to publish: the draft is identical to version 1" in again.stderr

    path.write_text(path.read_text(encoding="utf-8").replace("value_to: 1,", "value_to: 1.2,"), encoding="utf-8")
    assert "1 changed" in perfrules("config", "load", path).stdout
    draft_diff = perfrules("config", "diff", "1")
    assert draft_diff.stdout == (
        "version 1 → draft: 1 document(s) differ\n~ kpis.attainment\n    scoring.value_to: 1.0 → 1.2\n"
    )
    assert perfrules("config", "publish", "-m", "Stretch attainment to 120%").exit_code == 0
    assert perfrules("config", "diff", "1", "2").stdout.splitlines()[1:] == [
        "~ kpis.attainment",
        "    scoring.value_to: 1.0 → 1.2",
    ]
    listing = perfrules("config", "versions").stdout.splitlines()
    assert [line.split()[0] for line in listing] == ["1", "2"]
    assert listing[1].endswith("tester  Stretch attainment to 120%")
    assert perfrules("config", "diff", "1", "9").stderr == "error: there is no version 9\n"

    session.rollback()
    versions = session.scalars(sa.select(ConfigVersion).order_by(ConfigVersion.number)).all()
    assert versions[0].snapshot["kpis"]["attainment"]["scoring"]["value_to"] == 1.0, "versions are frozen"
    assert versions[0].content_hash != versions[1].content_hash
    actions = session.scalars(sa.select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions.count("config.publish") == 2 and actions.count("config.save") == 5
    change = session.scalars(
        sa.select(AuditEntry)
        .where(AuditEntry.action == "config.save", AuditEntry.key == "attainment")
        .order_by(AuditEntry.id.desc())
    ).first()
    assert change.before["scoring"]["value_to"] == 1.0 and change.after["scoring"]["value_to"] == 1.2
    assert change.actor == "tester"

    exported = perfrules("config", "export", "--version", "1").stdout
    assert "value_to: 1.0" in exported


def test_publish_needs_a_message(perfrules, tmp_path):
    assert perfrules("config", "load", write(tmp_path, "c.yaml", MINIMAL)).exit_code == 0
    result = perfrules("config", "publish", "-m", "  ")
    assert result.exit_code == 2 and "a version needs a message" in result.stderr


LAUGHS = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
    f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
    for i in range(8)
)


def test_hostile_yaml_is_refused_with_its_file_not_expanded(perfrules, tmp_path):
    """Nested aliases that stand for a billion values, and nesting thousands of levels deep, in a
    configuration or an organisation file: refused at once, naming the file, nothing loaded."""
    laughs = write(tmp_path, "laughs.yaml", LAUGHS)
    deep = write(tmp_path, "deep.yaml", "kpis: " + "[" * 5000 + "]" * 5000 + "\n")
    too_deep = write(tmp_path, "nested.yaml", "datasets:\n" + "".join("  " * i + f"- k{i}:\n" for i in range(1, 80)))
    for path, expected in (
        (laughs, "laughs.yaml: expands to more than 1,000,000 values through its aliases"),
        (deep, "deep.yaml: nested more than 64 levels deep"),
        (too_deep, "nested.yaml:"),  # its line is the first one past the limit
    ):
        result = perfrules("config", "load", path)
        assert result.exit_code == 2 and expected in result.stderr, result.output
        organisation = perfrules("org", "import", path)
        assert organisation.exit_code == 2 and path.name in organisation.stderr, organisation.output
