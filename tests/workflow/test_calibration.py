"""Calibration (校准, 强制分布): the scenario company's rep scorecards for 2026-10 (tests/engine/
scenario.py: R1 S, R2 C, R3 D, R4 S) against a target distribution of S 10, A 20, B 50, C 15, D 5;
grades adjusted with a reason, audited, shown on the pages, in the export and through the API;
and everything that must be refused."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml

from perfrules.audit import AuditEntry
from perfrules.engine.models import Scorecard
from perfrules.org.models import Employee
from perfrules.web import create_app
from perfrules.workflow.calibration import CalibrationError, adjust_grade, distribution, target_counts
from perfrules.workflow.calibration_models import GradeAdjustment

from ..engine import scenario
from ..helpers import add_users, csrf_token, run_cli, sign_in, starting_state, write

pytestmark = pytest.mark.database

PASSWORD = "calibrate-pass-1"
USERS = {
    "hr": ("hr", None),
    "admin": ("admin", None),
    "audit": ("auditor", None),
    "lead": ("manager", "L1"),
    "rep1": ("employee", "R1"),
}
TARGET = {"S": 10, "A": 20, "B": 50, "C": 15, "D": 5}


def _with_calibration(tmp_path, calibration) -> object:
    config = yaml.safe_load(run_cli("config", "export").stdout)
    templates = [t for t in config["templates"] if t["slug"] == "rep"]
    templates[0]["calibration"] = calibration
    return run_cli(
        "config",
        "load",
        write(tmp_path, "calibration.yaml", yaml.safe_dump({"templates": templates}, allow_unicode=True)),
    )


def _calibrate(folder: Path) -> None:
    """TARGET as the `rep` template's calibration, published; 2026-10 evaluated; USERS created."""
    loaded = _with_calibration(folder, TARGET)
    assert loaded.exit_code == 0, loaded.output
    assert run_cli("config", "publish", "-m", "calibration").exit_code == 0
    assert run_cli("run", "2026-10").exit_code == 0
    add_users(((login, *spec) for login, spec in USERS.items()), PASSWORD)


@pytest.fixture
@starting_state(_calibrate, parent="company")
def calibrated(company, cli_env, session):
    """The scenario company with TARGET as the rep template's calibration, 2026-10 evaluated, and
    USERS. The test's session."""
    session.rollback()
    return session


@pytest.fixture
def app(calibrated, cli_env, tmp_path):
    return create_app({"database_url": cli_env, "instance_path": str(tmp_path / "instance"), "TESTING": True})


def browser(app, login):
    client = app.test_client()
    assert sign_in(client, login, PASSWORD).status_code == 302
    return client


def token(login: str) -> dict:
    result = run_cli("token", "create", login, "--name", "tests")
    assert result.exit_code == 0, result.output
    return {"Authorization": f"Bearer {result.stdout.strip().splitlines()[-1]}"}


def counts(view) -> dict:
    return {
        row["grade"]: (row["target_percent"], row["target_count"], row["computed_count"], row["adjusted_count"])
        for row in view["grades"]
    }


def test_target_counts_add_up_to_the_group_by_the_largest_remainder():
    grades = list("SABCD")
    # 4 people: quotas 0.4, 0.8, 2.0, 0.6, 0.2 → 0, 0, 2, 0, 0 and the two left to A (.8) and C (.6)
    assert target_counts(TARGET, grades, 4) == {"S": 0, "A": 1, "B": 2, "C": 1, "D": 0}
    # 10 people: exact
    assert (
        target_counts(TARGET, grades, 10) == {"S": 1, "A": 2, "B": 5, "C": 2, "D": 0}
        or sum(target_counts(TARGET, grades, 10).values()) == 10
    )
    # 7 people: 0.7, 1.4, 3.5, 1.05, 0.35 → 0, 1, 3, 1, 0 (5) + S (.7) and B (.5)
    assert target_counts(TARGET, grades, 7) == {"S": 1, "A": 1, "B": 4, "C": 1, "D": 0}
    assert target_counts(TARGET, grades, 0) == dict.fromkeys(grades, 0)
    assert target_counts({}, grades, 3) == dict.fromkeys(grades, 0)


def test_the_configuration_is_validated_with_its_path(company, tmp_path):
    unknown = _with_calibration(tmp_path, {"S": 10, "X": 90})
    assert unknown.exit_code != 0
    assert "calibration" in unknown.output and "'X' is not one of the template's grades" in unknown.output
    short = _with_calibration(tmp_path, {"S": 10, "A": 20})
    assert short.exit_code != 0
    assert "calibration" in short.output and "must add up to 100, not 30" in short.output
    negative = _with_calibration(tmp_path, {"S": -10, "A": 110})
    assert negative.exit_code != 0 and "calibration" in negative.output


def test_the_distribution_of_a_group_by_hand(calibrated):
    session = calibrated
    view = distribution(session, "2026-10", None, "rep")
    assert view["size"] == 4 and view["configured"]
    assert counts(view) == {
        "S": (10, 0, 2, 2),
        "A": (20, 1, 0, 0),
        "B": (50, 2, 0, 0),
        "C": (15, 1, 1, 1),
        "D": (5, 0, 1, 1),
    }
    # highest total first
    totals = [card["total"] for card in view["scorecards"]]
    assert totals == sorted(totals, reverse=True)
    assert {card["employee"]: card["computed_grade"] for card in view["scorecards"]} == {
        "R1": "S",
        "R2": "C",
        "R3": "D",
        "R4": "S",
    }
    # a department and the ones below it: EAST has R1 and R2
    east = distribution(session, "2026-10", "EAST", "rep")
    assert east["size"] == 2 and [c["employee"] for c in east["scorecards"]] == ["R1", "R2"]
    assert counts(east)["B"] == (50, 1, 0, 0)
    assert distribution(session, "2026-10", "SALES", "rep")["size"] == 4
    # the lead template has no target distribution
    lead = distribution(session, "2026-10", None, "lead")
    assert lead["size"] == 1 and not lead["configured"]
    with pytest.raises(CalibrationError):
        distribution(session, "2026-10", "NOWHERE", "rep")


def test_an_adjustment_is_audited_replaced_and_exported(calibrated):
    session = calibrated
    adjust_grade(session, "2026-10", "R4", "A", "one large deal was a one-off", "hr")
    session.commit()
    view = distribution(session, "2026-10", None, "rep")
    assert counts(view)["S"] == (10, 0, 2, 1) and counts(view)["A"] == (20, 1, 0, 1)
    r4 = next(c for c in view["scorecards"] if c["employee"] == "R4")
    assert (
        r4["computed_grade"] == "S"
        and r4["grade"] == "A"
        and r4["adjustment"]["reason"] == "one large deal was a one-off"
    )

    # re-adjusting replaces, audited with before and after
    adjust_grade(session, "2026-10", "R4", "B", "  the deal was returned  ", "admin")
    session.commit()
    rows = session.scalars(sa.select(GradeAdjustment)).all()
    assert [(r.computed_grade, r.adjusted_grade, r.reason, r.adjusted_by) for r in rows] == [
        ("S", "B", "the deal was returned", "admin")
    ]
    audit = session.execute(
        sa.select(AuditEntry.actor, AuditEntry.action, AuditEntry.key, AuditEntry.before, AuditEntry.after)
        .where(AuditEntry.kind == "grade_adjustments")
        .order_by(AuditEntry.id)
    ).all()
    assert [(a.actor, a.action, a.key) for a in audit] == [
        ("hr", "calibration.adjust", "2026-10:R4"),
        ("admin", "calibration.adjust", "2026-10:R4"),
    ]
    assert audit[0].before == {"grade": "S", "computed_grade": "S"}
    assert audit[1].before == {"grade": "A", "computed_grade": "S", "reason": "one large deal was a one-off"}
    assert audit[1].after == {"grade": "B", "computed_grade": "S", "reason": "the deal was returned"}

    # the export carries the calibrated grade beside the computed one; the others have none
    cards = scenario.scorecards()
    assert cards["R4"]["grade"] == "S" and cards["R4"]["calibrated_grade"] == "B"
    assert cards["R4"]["calibration"]["reason"] == "the deal was returned"
    assert "calibrated_grade" not in cards["R1"]

    # a rerun keeps the adjustment (it belongs to the employee and period)
    assert run_cli("run", "2026-10").exit_code == 0
    assert scenario.scorecards()["R4"]["calibrated_grade"] == "B"

    # back to the computed grade removes it
    session.rollback()
    assert adjust_grade(session, "2026-10", "R4", "S", "as computed after all", "hr") is None
    session.commit()
    assert session.scalar(sa.select(sa.func.count()).select_from(GradeAdjustment)) == 0
    assert "calibrated_grade" not in scenario.scorecards()["R4"]


def test_bad_grades_missing_reasons_and_locked_scorecards_are_refused(calibrated):
    session = calibrated
    for grade, reason, message in [
        ("X", "why", "not a grade of template rep"),
        ("A", "", "needs a reason"),
        ("A", "   ", "needs a reason"),
        ("A", None, "needs a reason"),
        ("S", "no change", "already the grade"),
    ]:
        with pytest.raises(CalibrationError, match=message):
            adjust_grade(session, "2026-10", "R1", grade, reason, "hr")
    with pytest.raises(CalibrationError) as missing:
        adjust_grade(session, "2026-10", "NOBODY", "A", "why", "hr")
    assert missing.value.kind == "missing"
    r2 = session.scalar(
        sa.select(Scorecard)
        .join(Employee, Employee.id == Scorecard.employee_id)
        .where(Employee.code == "R2", Scorecard.period == "2026-10")
    )
    r2.locked = True
    session.commit()
    with pytest.raises(CalibrationError, match="locked") as locked:
        adjust_grade(session, "2026-10", "R2", "B", "why", "hr")
    assert locked.value.kind == "locked"
    session.rollback()
    assert session.scalar(sa.select(sa.func.count()).select_from(GradeAdjustment)) == 0
    assert (
        session.scalar(sa.select(sa.func.count()).select_from(AuditEntry).where(AuditEntry.kind == "grade_adjustments"))
        == 0
    )


def test_the_calibration_page_adjusts_with_a_reason_and_shows_it(app, calibrated):
    hr = browser(app, "hr")
    url = "/scorecards/calibration?period=2026-10&template=rep"
    page = hr.get(url, headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert 'id="distribution-table"' in page and 'id="calibration-chart"' in page
    row = re.search(r'<tr data-grade="A">(.*?)</tr>', page, re.S).group(1)
    assert re.search(r'target-count">1<', row) and re.search(r'adjusted-count[^"]*">0<', row)
    chart = json.loads(re.search(r'id="calibration-data" nonce="[^"]+">(.*?)</script>', page, re.S).group(1))
    assert (
        chart["labels"] == list("SABCD") and chart["target"] == [0, 1, 2, 1, 0] and chart["computed"] == [2, 0, 0, 1, 1]
    )
    assert "<script>" not in re.sub(r"<script[^>]*nonce=[^>]*>", "", page).replace("</script>", "")
    # rows sorted by total, each with a form
    assert list(re.findall(r'<tr data-employee="(\w+)"', page)) == [
        c["employee"] for c in distribution(calibrated, "2026-10", None, "rep")["scorecards"]
    ]
    assert page.count('class="form-inline adjust-form"') == 4
    assert '<a class="nav-link" href="/scorecards/calibration">Calibration</a>' in page  # the menu entry

    # without the CSRF token: refused, nothing changed
    refused = hr.post("/scorecards/calibration/2026-10/R4", data={"grade": "A", "reason": "x"})
    assert refused.status_code == 400
    assert calibrated.scalar(sa.select(sa.func.count()).select_from(GradeAdjustment)) == 0

    reason = "<b>one-off</b> deal"
    done = hr.post(
        "/scorecards/calibration/2026-10/R4",
        data={"grade": "A", "reason": reason, "template": "rep", "department": "", "csrf_token": csrf_token(page)},
    )
    assert done.status_code == 302 and "/scorecards/calibration?period=2026-10&template=rep" in done.headers["Location"]
    page = hr.get(url, headers={"Accept-Language": "en"}).get_data(as_text=True)
    r4 = re.search(r'<tr data-employee="R4">(.*?)</tr>', page, re.S).group(1)
    assert "&lt;b&gt;one-off&lt;/b&gt; deal" in r4 and "<b>one-off</b>" not in page
    assert re.search(r'computed-grade">.*?>S<', r4, re.S) and re.search(r'final-grade">.*?>A<', r4, re.S)
    # a bad grade and no reason: a message, nothing changed
    for data in ({"grade": "Z", "reason": "why"}, {"grade": "B", "reason": ""}):
        bad = hr.post(
            "/scorecards/calibration/2026-10/R4", data={**data, "csrf_token": csrf_token(page)}, follow_redirects=True
        )
        assert bad.status_code == 200 and "alert-danger" in bad.get_data(as_text=True)
    calibrated.rollback()
    assert calibrated.scalar(sa.select(GradeAdjustment.adjusted_grade)) == "A"

    # the scorecard page shows it beside the computed grade, escaped
    card = hr.get("/scorecards/2026-10/R4", headers={"Accept-Language": "en"}).get_data(as_text=True)
    note = re.search(r'id="card-calibration">(.*?)</div>', card, re.S).group(1)
    assert html.unescape(note) == "grade A (calibrated from S: <b>one-off</b> deal)"
    assert "<b>one-off</b>" not in card
    assert 'id="card-calibration"' not in hr.get("/scorecards/2026-10/R1").get_data(as_text=True)
    # and so does the team table, the reason in the badge's title
    team = hr.get("/scorecards/team?period=2026-10", headers={"Accept-Language": "en"}).get_data(as_text=True)
    r4 = re.search(r'<tr data-employee="R4">(.*?)</tr>', team, re.S).group(1)
    assert re.search(
        r'grade-S">S</span> → <span class="[^"]*calibrated-grade" title="calibrated: '
        r'&lt;b&gt;one-off&lt;/b&gt; deal">A<',
        r4,
    )
    r1 = re.search(r'<tr data-employee="R1">(.*?)</tr>', team, re.S).group(1)
    assert "calibrated-grade" not in r1


def test_auditors_read_and_everyone_else_is_refused(app, calibrated):
    audit = browser(app, "audit")
    page = audit.get("/scorecards/calibration?period=2026-10&template=rep").get_data(as_text=True)
    assert 'id="distribution-table"' in page and "adjust-form" not in page
    assert 'href="/scorecards/calibration"' in page
    assert (
        audit.post(
            "/scorecards/calibration/2026-10/R4", data={"grade": "A", "reason": "x", "csrf_token": csrf_token(page)}
        ).status_code
        == 403
    )
    for login in ("lead", "rep1"):
        client = browser(app, login)
        assert client.get("/scorecards/calibration?period=2026-10&template=rep").status_code == 403
        home = client.get("/").get_data(as_text=True)
        assert "/scorecards/calibration" not in home
        assert (
            client.post(
                "/scorecards/calibration/2026-10/R4", data={"grade": "A", "reason": "x", "csrf_token": csrf_token(home)}
            ).status_code
            == 403
        )
    calibrated.rollback()
    assert calibrated.scalar(sa.select(sa.func.count()).select_from(GradeAdjustment)) == 0


def test_the_rest_api(app, calibrated):
    client = app.test_client()
    hr, audit, lead, rep = token("hr"), token("audit"), token("lead"), token("rep1")
    got = client.get("/api/v1/calibration?period=2026-10&template=rep", headers=audit)
    assert got.status_code == 200, got.get_json()
    assert {g["grade"]: g["target_count"] for g in got.get_json()["grades"]} == {"S": 0, "A": 1, "B": 2, "C": 1, "D": 0}
    assert (
        client.get("/api/v1/calibration?period=2026-10&template=rep&department=WEST", headers=hr).get_json()["size"]
        == 2
    )
    assert (
        client.get("/api/v1/calibration?period=2026-10&template=rep&department=NOWHERE", headers=hr).status_code == 404
    )
    assert client.get("/api/v1/calibration?template=rep", headers=hr).status_code == 422
    for headers in (lead, rep):
        assert client.get("/api/v1/calibration?period=2026-10&template=rep", headers=headers).status_code == 403
        assert (
            client.put(
                "/api/v1/calibration/2026-10/R4", json={"grade": "A", "reason": "x"}, headers=headers
            ).status_code
            == 403
        )
    assert (
        client.put("/api/v1/calibration/2026-10/R4", json={"grade": "A", "reason": "x"}, headers=audit).status_code
        == 403
    )
    assert client.put("/api/v1/calibration/2026-10/R4", json={"grade": "A", "reason": "x"}).status_code == 401

    put = client.put("/api/v1/calibration/2026-10/R4", json={"grade": "A", "reason": "one-off"}, headers=hr)
    assert put.status_code == 200, put.get_json()
    assert put.get_json()["adjustment"]["grade"] == "A" and put.get_json()["adjustment"]["by"] == "hr"
    r4 = next(
        c
        for c in client.get("/api/v1/calibration?period=2026-10&template=rep", headers=hr).get_json()["scorecards"]
        if c["employee"] == "R4"
    )
    assert r4["computed_grade"] == "S" and r4["grade"] == "A" and r4["adjustment"]["reason"] == "one-off"
    # the scorecards API carries the calibrated grade beside the computed one, in lists and singly
    listed = {c["employee"]: c for c in client.get("/api/v1/scorecards?period=2026-10", headers=hr).get_json()}
    assert listed["R4"]["grade"] == "S" and listed["R4"]["calibrated_grade"] == "A"
    assert listed["R4"]["calibration"]["reason"] == "one-off" and listed["R4"]["calibration"]["by"] == "hr"
    assert listed["R1"]["calibrated_grade"] is None and listed["R1"]["calibration"] is None
    one = client.get("/api/v1/scorecards/2026-10/R4", headers=hr).get_json()
    assert one["calibrated_grade"] == "A" and one["items"]
    assert [c["employee"] for c in client.get("/api/v1/scorecards?period=2026-10", headers=rep).get_json()] == ["R1"]

    bad = client.put("/api/v1/calibration/2026-10/R4", json={"grade": "Z", "reason": "x"}, headers=hr)
    assert bad.status_code == 422 and "not a grade" in bad.get_json()["message"]
    missing = client.put("/api/v1/calibration/2026-10/R4", json={"grade": "B"}, headers=hr)
    assert missing.status_code == 422 and any(e["path"].endswith("reason") for e in missing.get_json()["errors"])
    assert (
        client.put("/api/v1/calibration/2026-10/R4", json={"grade": "B", "reason": " "}, headers=hr).status_code == 422
    )
    assert (
        client.put("/api/v1/calibration/2026-10/NOBODY", json={"grade": "B", "reason": "x"}, headers=hr).status_code
        == 404
    )

    r2 = calibrated.scalar(
        sa.select(Scorecard).join(Employee, Employee.id == Scorecard.employee_id).where(Employee.code == "R2")
    )
    r2.locked = True
    calibrated.commit()
    locked = client.put("/api/v1/calibration/2026-10/R2", json={"grade": "B", "reason": "x"}, headers=hr)
    assert locked.status_code == 409 and "locked" in locked.get_json()["message"]

    # a signed-in browser writing through the API needs the CSRF token
    browser_client = browser(app, "hr")
    assert browser_client.put("/api/v1/calibration/2026-10/R3", json={"grade": "C", "reason": "x"}).status_code in (
        400,
        403,
    )
    calibrated.rollback()
    assert calibrated.scalar(sa.select(sa.func.count()).select_from(GradeAdjustment)) == 1


def test_nobody_calibrates_their_own_grade_through_the_function_the_page_or_the_api(app, calibrated):
    """An HR user linked to R4 calibrates everyone's grade but their own: refused (kind `own`,
    409 through the API, a message on the page) before anything else, nothing changed or audited."""
    from perfrules.org.models import User

    assert run_cli("user", "create", "hr_r4", "--role", "hr", "--password", PASSWORD, "--employee", "R4").exit_code == 0
    session = calibrated
    session.rollback()
    hr_r4 = session.scalar(sa.select(User).where(User.login == "hr_r4"))
    for actor, grade in [("hr_r4", "A"), (hr_r4, "A"), (hr_r4, "S"), (hr_r4, "Z")]:
        with pytest.raises(CalibrationError, match="hr_r4 may not calibrate their own grade") as own:
            adjust_grade(session, "2026-10", "R4", grade, "why", actor)
        assert own.value.kind == "own"

    client = browser(app, "hr_r4")
    url = "/scorecards/calibration?period=2026-10&template=rep"
    page = client.get(url, headers={"Accept-Language": "en"}).get_data(as_text=True)
    refused = client.post(
        "/scorecards/calibration/2026-10/R4",
        headers={"Accept-Language": "en"},
        follow_redirects=True,
        data={"grade": "A", "reason": "a fine month", "template": "rep", "csrf_token": csrf_token(page)},
    )
    shown = refused.get_data(as_text=True)
    assert refused.status_code == 200 and "alert-danger" in shown and "may not calibrate their own grade" in shown

    api = app.test_client()
    headers = token("hr_r4")
    put = api.put("/api/v1/calibration/2026-10/R4", json={"grade": "A", "reason": "a fine month"}, headers=headers)
    assert put.status_code == 409 and "may not calibrate their own grade" in put.get_json()["message"]
    session.rollback()
    assert session.scalar(sa.select(sa.func.count()).select_from(GradeAdjustment)) == 0
    assert (
        session.scalar(sa.select(sa.func.count()).select_from(AuditEntry).where(AuditEntry.kind == "grade_adjustments"))
        == 0
    )

    # everyone else's they calibrate, on the page and through the API; other HR users calibrate theirs
    done = client.post(
        "/scorecards/calibration/2026-10/R3",
        headers={"Accept-Language": "en"},
        follow_redirects=True,
        data={"grade": "C", "reason": "a late deal", "template": "rep", "csrf_token": csrf_token(page)},
    )
    assert done.status_code == 200 and "R3: grade C." in done.get_data(as_text=True)
    assert (
        api.put("/api/v1/calibration/2026-10/R1", json={"grade": "A", "reason": "one-off"}, headers=headers).status_code
        == 200
    )
    assert (
        api.put(
            "/api/v1/calibration/2026-10/R4", json={"grade": "A", "reason": "one-off"}, headers=token("hr")
        ).status_code
        == 200
    )
    session.rollback()
    assert dict(
        session.execute(
            sa.select(Employee.code, GradeAdjustment.adjusted_by).join(
                Employee, Employee.id == GradeAdjustment.employee_id
            )
        ).all()
    ) == {"R3": "hr_r4", "R1": "hr_r4", "R4": "hr"}
