"""Runs: idempotent, atomic, reproducible with their version, respectful of locked scorecards."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from perfrules.db import make_sessionmaker
from perfrules.engine import runs
from perfrules.engine.models import EvaluationRun, Scorecard

from ..helpers import run_cli, write
from . import scenario
from .scenario import scorecards

pytestmark = pytest.mark.database


def run_rows(session):
    session.expire_all()
    return session.scalars(sa.select(EvaluationRun).order_by(EvaluationRun.id)).all()


def test_re_running_a_period_replaces_its_results_with_the_same_numbers(company, session):
    assert run_cli("run", "2026-10").exit_code == 0
    first = scorecards()
    assert run_cli("run", "2026-10").exit_code == 0
    second = scorecards()
    assert {c: {k: v for k, v in card.items() if k != "run"} for c, card in first.items()} == {
        c: {k: v for k, v in card.items() if k != "run"} for c, card in second.items()
    }
    assert session.scalar(sa.select(sa.func.count()).select_from(Scorecard)) == 5
    first_run, second_run = run_rows(session)
    assert (first_run.status, second_run.status) == ("succeeded", "succeeded")
    assert second_run.version_number == 1 and len(second_run.version_hash) == 64
    assert second_run.counts["scorecards"] == 5 and set(second_run.timings) >= {
        "aggregate",
        "evaluate",
        "write",
        "total",
    }


def test_a_run_that_fails_half_way_keeps_the_previous_results(company, session, monkeypatch):
    assert run_cli("run", "2026-10").exit_code == 0
    before = scorecards()

    real_write = runs._write_scorecards

    def write_then_break(*args, **kwargs):  # the new scorecards are in, then the run breaks
        real_write(*args, **kwargs)
        raise RuntimeError("disk full")

    monkeypatch.setattr(runs, "_write_scorecards", write_then_break)
    with pytest.raises(RuntimeError):
        run_cli("run", "2026-10")
    assert scorecards() == before
    last = run_rows(session)[-1]
    assert last.status == "failed" and last.message == "disk full" and last.finished_at is not None


def test_a_run_whose_process_died_is_marked_failed_by_the_next_one(company, session, db_engine):
    assert run_cli("run", "2026-10").exit_code == 0
    writer = make_sessionmaker(db_engine, write=True)
    with writer() as s, s.begin():
        dead = run_rows(s)[0]
        s.add(
            EvaluationRun(
                period="2026-10",
                status="running",
                scope={},
                actor="x",
                host=dead.host,
                pid=2**22 + 12345,
                started_at=dead.started_at,
                counts={},
                timings={},
                errors=[],
            )
        )
    assert run_cli("run", "2026-10").exit_code == 0
    statuses = [(r.status, r.message) for r in run_rows(session)]
    assert statuses[1] == ("failed", "the process running it stopped before it completed; its results were not kept")
    assert statuses[2][0] == "succeeded"


def test_locked_scorecards_are_kept(company, session, db_engine):
    assert run_cli("run", "2026-10").exit_code == 0
    writer = make_sessionmaker(db_engine, write=True)
    with writer() as s, s.begin():
        s.execute(
            sa.update(Scorecard)
            .where(
                Scorecard.employee_id
                == sa.select(sa.text("id"))
                .select_from(sa.text("employees"))
                .where(sa.text("code = 'R1'"))
                .scalar_subquery()
            )
            .values(locked=True, total=1.0)
        )
    result = run_cli("run", "2026-10")
    assert "1 locked scorecard(s) kept" in result.stdout
    cards = scorecards()
    assert cards["R1"]["total"] == 1.0 and cards["R1"]["locked"]
    # ranks are worked out again over the whole period, the locked total included
    assert [cards[c]["rank_company"] for c in ("R4", "R2", "R3")] == [1, 2, 3]


def test_a_past_period_reproduces_with_its_version(company, tmp_path):
    assert run_cli("run", "2026-10").exit_code == 0
    original = scorecards()
    heavier = scenario.CONFIG.replace("- {kpi: attainment, weight: 60}", "- {kpi: attainment, weight: 80}").replace(
        "- {kpi: win_rate, weight: 40}", "- {kpi: win_rate, weight: 20}"
    )
    assert run_cli("config", "load", write(tmp_path, "v2.yaml", heavier)).exit_code == 0
    assert run_cli("config", "publish", "-m", "attainment weighs more").exit_code == 0
    assert run_cli("run", "2026-10").exit_code == 0
    assert scorecards()["R2"]["total"] == pytest.approx(60.0)  # 60 and 60 → weights do not matter for R2
    assert scorecards()["R1"]["total"] != pytest.approx(original["R1"]["total"])
    assert run_cli("run", "2026-10", "--version", "1").exit_code == 0
    again = scorecards()
    assert {c: (card["total"], card["grade"], card["version"]) for c, card in again.items()} == {
        c: (card["total"], card["grade"], 1) for c, card in original.items()
    }


def test_what_if_compares_without_writing(company, session, tmp_path):
    assert run_cli("run", "2026-10").exit_code == 0
    change = write(
        tmp_path,
        "try.yaml",
        """
        kpis:
          - slug: attainment
            label: {zh: 完成率, en: Attainment}
            formula: sales / target.sales
            scoring: {type: linear, value_from: 0, value_to: 1, points_from: 0, points_to: 100, floor: 0, cap: 100}
    """,
    )
    result = run_cli("run", "2026-10", "--config", change, "--dry-run")
    assert result.exit_code == 0, result.output
    assert "nothing was written" in result.stdout
    assert "105.40 → 97.00" in result.stdout  # R1: 100 × 0.42 + 28 + 15 + 12
    assert "S" in result.stdout and len(run_rows(session)) == 1
    assert scorecards()["R1"]["total"] == pytest.approx(105.4)
    refused = run_cli("run", "2026-10", "--config", change)
    assert refused.exit_code == 2 and "try it with --dry-run" in refused.stderr


def test_scope_and_bad_requests(company, session):
    only_east = run_cli("run", "2026-10", "--department", "EAST")
    assert "3 scorecards" in only_east.stdout
    only_reps = run_cli("run", "2026-10", "--template", "rep")
    assert "4 scorecards" in only_reps.stdout
    assert set(scorecards()) == {"L1", "R1", "R2", "R3", "R4"}
    assert run_cli("run", "last-month").exit_code == 0
    assert run_cli("run", "2026-13").exit_code == 2
    assert "unknown department 'NORTH'" in run_cli("run", "2026-10", "--department", "NORTH").stderr
    assert "unknown template 'boss'" in run_cli("run", "2026-10", "--template", "boss").stderr
    assert "there is no version 7" in run_cli("run", "2026-10", "--version", "7").stderr
    session.rollback()
    # a request that cannot be run leaves no run behind
    assert [row.status for row in run_rows(session)] == ["succeeded"] * 3


def test_one_run_shows_its_record(company, session):
    assert run_cli("run", "2026-10").exit_code == 0
    session.rollback()
    run_id = run_rows(session)[-1].id
    shown = run_cli("runs", str(run_id))
    assert shown.exit_code == 0
    assert shown.stdout.startswith(f"run {run_id} of 2026-10: succeeded; version 1 (")
    assert "scope: everyone" in shown.stdout and "employees 5, failed 0" in shown.stdout
    assert "seconds: aggregate" in shown.stdout
    assert run_cli("runs", "999").exit_code == 2


def test_two_equally_specific_templates_are_an_error_naming_both(company, tmp_path):
    clone = run_cli("config", "clone-template", "rep", "rep_copy")
    assert clone.exit_code == 0, clone.output
    assert run_cli("config", "publish", "-m", "clone").exit_code == 0
    result = run_cli("run", "2026-10")
    assert (
        "R1 (销售一): templates 'rep' and 'rep_copy' apply equally to this employee: make one more specific"
        in result.stderr
    )
    assert "4 ambiguous" in result.stdout

    west = run_cli("config", "clone-template", "rep", "rep_west", "--department", "WEST", "--label-en", "West reps")
    assert west.exit_code == 0
    export = run_cli("config", "export").stdout
    assert "rep_west" in export and "West reps" in export


def test_a_template_is_evaluated_only_in_its_cycles(company, session, tmp_path):
    import yaml

    config = yaml.safe_load(run_cli("config", "export").stdout)
    lead = next(t for t in config["templates"] if t["slug"] == "lead")
    rep = next(t for t in config["templates"] if t["slug"] == "rep")
    lead["cycles"], rep["cycles"] = ["quarterly"], ["monthly"]
    loaded = run_cli("config", "load", write(tmp_path, "cycles.yaml", yaml.safe_dump({"templates": [lead, rep]})))
    assert loaded.exit_code == 0, loaded.output
    assert run_cli("config", "publish", "-m", "quarterly leads").exit_code == 0
    monthly = run_cli("run", "2026-10")
    assert (
        "4 scorecards, 0 failed, 0 without a template, 0 ambiguous, 1 on templates of another cycle" in monthly.stdout
    )
    assert set(scorecards()) == {"R1", "R2", "R3", "R4"}
    quarterly = run_cli("run", "2026-Q4")
    assert "1 scorecards" in quarterly.stdout and "4 on templates of another cycle" in quarterly.stdout
    assert set(scorecards("2026-Q4")) == {"L1"}
    bad = dict(lead, cycles=["weekly"])
    refused = run_cli("config", "load", write(tmp_path, "bad.yaml", yaml.safe_dump({"templates": [bad]})))
    assert refused.exit_code == 2 and "templates[0].cycles[0]: Must be one of" in refused.stderr


def test_a_monthly_and_a_quarterly_template_for_the_same_people_do_not_tie(company, tmp_path):
    """Each is evaluated in its own cycle; equally specific templates of the same cycle still tie."""
    import yaml

    config = yaml.safe_load(run_cli("config", "export").stdout)
    rep = next(t for t in config["templates"] if t["slug"] == "rep")
    quarterly = dict(rep, slug="rep_quarterly", cycles=["quarterly"])
    rep["cycles"] = ["monthly"]
    loaded = run_cli("config", "load", write(tmp_path, "two.yaml", yaml.safe_dump({"templates": [rep, quarterly]})))
    assert loaded.exit_code == 0, loaded.output
    assert run_cli("config", "publish", "-m", "a quarterly one too").exit_code == 0
    monthly = run_cli("run", "2026-10")
    assert "0 ambiguous" in monthly.stdout and "5 scorecards" in monthly.stdout
    assert {card["template"] for code, card in scorecards().items() if code != "L1"} == {"rep"}
    by_quarter = run_cli("run", "2026-Q4")
    assert "0 ambiguous" in by_quarter.stdout
    assert {card["template"] for code, card in scorecards("2026-Q4").items() if code != "L1"} == {"rep_quarterly"}
