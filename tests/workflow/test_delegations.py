"""Delegation (代理): a user away for a while lets a colleague act for them between two dates —
set up and cancelled on the page, through the REST API and the CLI, with the same checks; the
stand-in then acts through the engine for them; every change is audited and the stand-in told.

The scenario company with the standard flow of test_engine.py: R2 (user rep2) is managed by L1
(user lead); R3 is user west, a manager in another department.
"""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from perfrules.audit import AuditEntry
from perfrules.notify.messages import render
from perfrules.notify.models import Notification
from perfrules.org.models import Employee, User
from perfrules.workflow.delegations import (
    MAX_DAYS,
    DelegationConflict,
    DelegationForbidden,
    DelegationInvalid,
    cancel,
    delegate,
    delegations_of,
    every_delegation,
    status_of,
)
from perfrules.workflow.engine import act, allowed_actions
from perfrules.workflow.models import Delegation, ReviewAction
from perfrules.workflow.steps import WorkflowError

from ..helpers import csrf_token, run_cli, sign_in
from .test_engine import lifecycle, review_of, user  # noqa: F401 (lifecycle: a fixture)

pytestmark = pytest.mark.database

TODAY = dt.date.today()


def days(n: int) -> dt.date:
    return TODAY + dt.timedelta(days=n)


def count(session, model) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(model))


def audit(session, action: str) -> list[AuditEntry]:
    return session.scalars(sa.select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)).all()


def notices(session, login: str, kind: str) -> list[Notification]:
    return session.scalars(
        sa.select(Notification)
        .where(Notification.user_id == user(session, login).id, Notification.kind == kind)
        .order_by(Notification.id)
    ).all()


def give(session, by: str, to: str, start: dt.date, end: dt.date, **options) -> Delegation:
    return delegate(session, user(session, by), delegate_login=to, starts_on=start, ends_on=end, actor=by, **options)


def app_of(session):
    from perfrules.web import create_app

    return create_app({"database_url": str(session.bind.url.render_as_string(hide_password=False)), "TESTING": True})


def token_headers(*logins: str) -> dict:
    headers = {}
    for login in logins:
        issued = run_cli("token", "create", login, "--name", "tests")
        headers[login] = {"Authorization": f"Bearer {issued.stdout.strip().splitlines()[-1]}"}
    return headers


def add_auditor(session) -> None:
    assert run_cli("user", "create", "auditor", "--role", "auditor", "--password", "s3cret-pass").exit_code == 0
    session.rollback()


@pytest.mark.parametrize(
    "case, field, message",
    [
        (dict(to=""), "delegate", "give the user's login"),
        (dict(to="wset"), "delegate", "no user 'wset' — did you mean 'west'?"),
        (dict(to="lead"), "delegate", "lead cannot stand in for themselves"),
        (dict(start="2026-13-01"), "starts_on", "'2026-13-01' is not a date"),
        (dict(end=""), "ends_on", "give a date"),
        (dict(start=days(-1)), "starts_on", "is in the past"),
        (dict(start=days(-5), end=days(-1)), "ends_on", "is in the past"),
        (dict(start=days(5), end=days(4)), "ends_on", "is before the start"),
        (dict(end=days(MAX_DAYS)), "ends_on", f"{MAX_DAYS + 1} days is too long"),
    ],
)
def test_each_bad_input_is_refused_naming_its_field_and_changes_nothing(lifecycle, case, field, message):
    session = lifecycle
    with pytest.raises(DelegationInvalid) as refused:
        give(session, "lead", case.get("to", "west"), case.get("start", TODAY), case.get("end", days(6)))
    assert refused.value.field == field and message in refused.value.detail
    assert str(refused.value).startswith(f"{field}: ")
    assert count(session, Delegation) == 0 and audit(session, "delegation.create") == []


def test_an_inactive_stand_in_is_refused_and_a_year_is_the_longest(lifecycle):
    session = lifecycle
    user(session, "west").active = False
    session.flush()
    with pytest.raises(DelegationInvalid, match="delegate: west is not active"):
        give(session, "lead", "west", TODAY, days(6))
    longest = give(session, "lead", "hr", TODAY, days(MAX_DAYS - 1))  # 366 days, both ends included
    assert (longest.ends_on - longest.starts_on).days + 1 == MAX_DAYS


def test_one_stand_in_at_a_time_and_only_hr_or_admin_delegate_for_someone_else(lifecycle):
    session = lifecycle
    first = give(session, "lead", "west", days(1), days(7))
    for to in ("hr", "west"):  # overlapping, to someone else or to the same person: cancel the other first
        with pytest.raises(DelegationConflict, match=f"lead already has west standing in from {days(1)} to {days(7)}"):
            give(session, "lead", to, days(7), days(9))
    give(session, "lead", "hr", days(8), days(9))  # the day after: fine
    give(session, "west", "lead", days(1), days(7))  # the stand-in's own absence is another matter
    with pytest.raises(DelegationForbidden, match="only HR and administrators"):
        give(session, "rep2", "west", TODAY, days(1), for_user="lead")
    with pytest.raises(DelegationForbidden):
        give(session, "rep2", "west", TODAY, days(1), for_user=user(session, "lead"))
    with pytest.raises(DelegationInvalid, match="for_user: no user 'nobody'"):
        give(session, "hr", "west", TODAY, days(1), for_user="nobody")
    for_rep2 = give(session, "hr", "west", TODAY, days(1), for_user="rep2")
    assert (for_rep2.user_id, for_rep2.created_by) == (user(session, "rep2").id, "hr")
    mine = delegations_of(session, user(session, "lead"))
    assert [row.delegate_login for row in mine.given] == ["hr", "west"]  # newest first
    assert [row.user_login for row in mine.received] == ["west"]
    assert all(row.may_cancel for row in mine.given) and not any(row.may_cancel for row in mine.received)
    assert first.id in {row.id for row in every_delegation(session, user(session, "hr"))}


def test_the_stand_in_acts_for_the_delegating_user_through_the_engine_until_cancelled(lifecycle):
    session = lifecycle
    r2 = review_of(session, "R2")
    act(session, r2, user(session, "rep2"), "approve")
    west = user(session, "west")
    assert allowed_actions(session, r2, west) == []
    delegation = give(session, "lead", "west", TODAY, days(6))
    assert status_of(delegation) == "current"
    assert [a.on_behalf_of for a in allowed_actions(session, r2, west)] == [user(session, "lead").id] * 3
    with pytest.raises(WorkflowError):  # not before it starts
        act(session, r2, west, "approve", today=days(-1))
    act(session, r2, west, "approve")
    record = session.scalar(
        sa.select(ReviewAction).where(ReviewAction.review_id == r2.id).order_by(ReviewAction.id.desc()).limit(1)
    )
    assert (record.user_id, record.on_behalf_of) == (west.id, user(session, "lead").id)
    assert r2.step == "head_approval"
    # cancelled on the day it began: it had not been in force a whole day, so it goes
    assert cancel(session, delegation, user(session, "lead")).outcome == "deleted"
    assert count(session, Delegation) == 0
    assert allowed_actions(session, r2, west) == []
    with pytest.raises(WorkflowError):
        act(session, r2, west, "approve")
    act(session, r2, user(session, "lead"), "approve")
    assert r2.state == "approved"


def test_cancelling_keeps_the_days_in_force_as_history_and_what_is_over_stays(lifecycle):
    session = lifecycle
    # set up three days ago (as if `today` were then), in force since
    started = give(session, "lead", "west", days(-3), days(6), today=days(-3))
    upcoming = give(session, "lead", "hr", days(10), days(12))
    with pytest.raises(DelegationForbidden, match="only the user who delegated"):
        cancel(session, started, user(session, "west"))  # the stand-in does not cancel it
    result = cancel(session, started, user(session, "hr"))  # HR may
    assert (result.outcome, started.ends_on, status_of(started)) == ("ended", days(-1), "over")
    assert [(row.id, row.status) for row in delegations_of(session, user(session, "lead")).given] == [
        (upcoming.id, "upcoming"),
        (started.id, "over"),
    ]
    with pytest.raises(DelegationConflict, match="kept as history"):
        cancel(session, started, user(session, "lead"))
    assert cancel(session, upcoming, user(session, "lead")).outcome == "deleted"
    assert session.scalars(sa.select(Delegation.id)).all() == [started.id]
    created = audit(session, "delegation.create")
    assert [(e.actor, e.key, e.after["user"], e.after["delegate"]) for e in created] == [
        ("lead", str(started.id), "lead", "west"),
        ("lead", str(upcoming.id), "lead", "hr"),
    ]
    cancelled = audit(session, "delegation.cancel")
    assert [(e.actor, e.before["ends_on"], e.after["outcome"]) for e in cancelled] == [
        ("hr", days(6).isoformat(), "ended"),
        ("lead", days(12).isoformat(), "deleted"),
    ]
    assert cancelled[0].after["ends_on"] == days(-1).isoformat()


def test_the_stand_in_is_told_in_their_language(lifecycle):
    session = lifecycle
    delegation = give(session, "lead", "west", TODAY, days(6))
    granted = notices(session, "west", "delegation.granted")
    assert len(granted) == 1 and granted[0].link == "/delegations"
    name = session.scalar(sa.select(Employee.name).where(Employee.code == "L1"))  # the lead's name, not login
    assert granted[0].params == {"user": name, "starts_on": TODAY.isoformat(), "ends_on": days(6).isoformat()}
    subject, body = render("delegation.granted", granted[0].params, "en")
    assert subject == f"Standing in for {name}: {TODAY} to {days(6)}"
    assert "Set up by" not in body  # they set it up themselves
    assert render("delegation.granted", granted[0].params, "zh")[0].startswith("请您代理")
    cancel(session, delegation, user(session, "hr"))
    gone = notices(session, "west", "delegation.cancelled")
    assert len(gone) == 1 and render(gone[0].kind, gone[0].params, "en")[1].endswith("Cancelled by hr.")
    give(session, "hr", "west", TODAY, days(1), for_user="rep2")
    assert render("delegation.granted", notices(session, "west", "delegation.granted")[-1].params, "en")[1].endswith(
        "Set up by hr."
    )
    give(session, "hr", "hr", TODAY, days(1), for_user="lead")  # nobody is told of their own doing
    assert notices(session, "hr", "delegation.granted") == []


def lead_name_of(session, login: str) -> str | None:
    """The name of the employee a login belongs to (None for a user without one)."""
    return session.scalar(
        sa.select(Employee.name).join(User, User.employee_id == Employee.id).where(User.login == login)
    )


def test_the_delegation_page_with_csrf_and_the_roles(lifecycle):
    session = lifecycle
    add_auditor(session)
    app = app_of(session)

    def client_of(login):
        client = app.test_client()
        client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
        assert sign_in(client, login, "s3cret-pass").status_code == 302
        return client

    lead = client_of("lead")
    page = lead.get("/delegations").get_data(as_text=True)
    assert "Away? Let a colleague act for you" in page and 'id="delegation-form"' in page
    # nobody's login is listed on the page: people are found by two letters or more, a few at a time
    assert '<datalist id="active-users"></datalist>' in page and '<option value="west">' not in page
    assert lead.get("/delegations/people?q=we").json == {
        "people": [{"login": "west", "name": lead_name_of(session, "west")}]
    }
    assert lead.get("/delegations/people?q=w").json == {"people": []}
    assert lead.get("/delegations/people?q=%25").json == {"people": []}  # a wildcard is a letter like any other
    assert app.test_client().get("/delegations/people?q=we").status_code == 302  # signed-in people only
    assert 'name="for_user"' not in page and 'id="delegations-all"' not in page
    assert 'href="/delegations"' in page  # in the menu
    form = {"delegate": "west", "starts_on": TODAY.isoformat(), "ends_on": days(6).isoformat()}
    assert lead.post("/delegations", data=form).status_code == 400  # no CSRF token
    token = csrf_token(page)
    bad = lead.post("/delegations", data={**form, "delegate": "wset", "csrf_token": token})
    text = bad.get_data(as_text=True)
    assert bad.status_code == 422 and "is-invalid" in text and "did you mean &#39;west&#39;?" in text
    assert 'value="wset"' in text  # the form keeps what was typed
    assert lead.post("/delegations", data={**form, "for_user": "rep2", "csrf_token": token}).status_code == 403
    done = lead.post("/delegations", data={**form, "csrf_token": token}, follow_redirects=True).get_data(as_text=True)
    assert f"west may act for you from {TODAY} to {days(6)}." in done
    assert 'id="delegations-given"' in done and 'data-status="current"' in done
    overlap = lead.post("/delegations", data={**form, "delegate": "hr", "csrf_token": token})
    assert overlap.status_code == 409 and "already has west standing in" in overlap.get_data(as_text=True)
    session.rollback()
    delegation = session.scalars(sa.select(Delegation)).one()

    west = client_of("west")
    received = west.get("/delegations").get_data(as_text=True)
    assert 'id="delegations-received"' in received and f'data-cancel="{delegation.id}"' not in received
    assert (
        west.post(f"/delegations/{delegation.id}/cancel", data={"csrf_token": csrf_token(received)}).status_code == 403
    )
    rep2 = client_of("rep2")
    page = rep2.get("/delegations").get_data(as_text=True)
    assert "no-delegations-given" in page and "no-delegations-received" in page
    assert rep2.post(f"/delegations/{delegation.id}/cancel", data={"csrf_token": csrf_token(page)}).status_code == 404

    auditor = client_of("auditor")
    page = auditor.get("/delegations").get_data(as_text=True)
    assert 'id="delegations-all"' in page and 'name="for_user"' not in page and "data-cancel" not in page

    hr = client_of("hr")
    page = hr.get("/delegations").get_data(as_text=True)
    assert 'id="delegations-all"' in page and 'name="for_user"' in page and f'data-cancel="{delegation.id}"' in page
    made = hr.post(
        "/delegations", data={**form, "for_user": "rep2", "csrf_token": csrf_token(page)}, follow_redirects=True
    ).get_data(as_text=True)
    assert f"west may act for rep2 from {TODAY} to {days(6)}." in made
    assert lead.post(f"/delegations/{delegation.id}/cancel").status_code == 400  # CSRF
    gone = lead.post(
        f"/delegations/{delegation.id}/cancel", data={"csrf_token": token}, follow_redirects=True
    ).get_data(as_text=True)
    assert "Delegation cancelled." in gone and "no-delegations-given" in gone
    session.rollback()
    assert [e.actor for e in audit(session, "delegation.create")] == ["lead", "hr"]
    assert [e.actor for e in audit(session, "delegation.cancel")] == ["lead"]


def test_the_rest_api_with_the_same_checks(lifecycle):
    session = lifecycle
    add_auditor(session)
    client = app_of(session).test_client()
    tokens = token_headers("lead", "west", "rep2", "hr", "auditor")
    body = {"delegate": "west", "starts_on": TODAY.isoformat(), "ends_on": days(6).isoformat()}
    made = client.post("/api/v1/delegations", json=body, headers=tokens["lead"])
    assert made.status_code == 201
    assert {
        k: made.json[k] for k in ("user", "delegate", "starts_on", "ends_on", "created_by", "status", "may_cancel")
    } == {
        "user": "lead",
        "delegate": "west",
        "starts_on": TODAY.isoformat(),
        "ends_on": days(6).isoformat(),
        "created_by": "lead",
        "status": "current",
        "may_cancel": True,
    }
    number = made.json["id"]
    for change, path, message in [
        ({"delegate": "wset"}, "json.delegate", "did you mean 'west'?"),
        ({"delegate": "rep2"}, "json.delegate", "cannot stand in for themselves"),
        ({"starts_on": "next week"}, "json.starts_on", "Not a valid date"),
        ({"ends_on": days(-1).isoformat()}, "json.ends_on", "is in the past"),
        ({"ends_on": days(400).isoformat()}, "json.ends_on", "too long"),
    ]:
        refused = client.post("/api/v1/delegations", json={**body, **change}, headers=tokens["rep2"])
        assert refused.status_code == 422, change
        assert refused.json["errors"][0]["path"] == path and message in refused.json["errors"][0]["message"]
    missing = client.post("/api/v1/delegations", json={}, headers=tokens["rep2"])
    assert missing.status_code == 422 and {e["path"] for e in missing.json["errors"]} == {
        "json.delegate",
        "json.starts_on",
        "json.ends_on",
    }
    forbidden = client.post("/api/v1/delegations", json={**body, "for_user": "lead"}, headers=tokens["rep2"])
    assert forbidden.status_code == 403 and "only HR and administrators" in forbidden.json["message"]
    overlap = client.post("/api/v1/delegations", json={**body, "delegate": "hr"}, headers=tokens["lead"])
    assert overlap.status_code == 409 and "cancel it first" in overlap.json["message"]
    for_rep2 = client.post("/api/v1/delegations", json={**body, "for_user": "rep2"}, headers=tokens["hr"])
    assert for_rep2.status_code == 201 and (for_rep2.json["user"], for_rep2.json["created_by"]) == ("rep2", "hr")

    def listed(login):
        return {(row["user"], row["delegate"]) for row in client.get("/api/v1/delegations", headers=tokens[login]).json}

    assert listed("lead") == {("lead", "west")}
    assert listed("west") == {("lead", "west"), ("rep2", "west")}  # received
    assert listed("rep2") == {("rep2", "west")}
    assert listed("hr") == listed("auditor") == {("lead", "west"), ("rep2", "west")}
    assert client.get(f"/api/v1/delegations/{number}", headers=tokens["rep2"]).status_code == 404
    assert client.get(f"/api/v1/delegations/{number}", headers=tokens["west"]).json["may_cancel"] is False
    assert client.delete(f"/api/v1/delegations/{number}", headers=tokens["rep2"]).status_code == 404  # others'
    assert client.delete(f"/api/v1/delegations/{number}", headers=tokens["west"]).status_code == 403  # received
    assert client.delete(f"/api/v1/delegations/{number}", headers=tokens["auditor"]).status_code == 403
    assert client.delete("/api/v1/delegations/999", headers=tokens["hr"]).status_code == 404
    gone = client.delete(f"/api/v1/delegations/{number}", headers=tokens["lead"])
    assert gone.status_code == 200 and gone.json == {"id": number, "outcome": "deleted", "delegation": None}
    assert client.delete(f"/api/v1/delegations/{number}", headers=tokens["lead"]).status_code == 404
    assert client.get("/api/v1/delegations").status_code == 401
    # one over is kept as history: a 409
    session.rollback()
    old = give(session, "lead", "west", days(-9), days(-2), today=days(-9))
    session.commit()
    assert client.delete(f"/api/v1/delegations/{old.id}", headers=tokens["lead"]).status_code == 409
    over = client.get(f"/api/v1/delegations/{old.id}", headers=tokens["lead"]).json
    assert (over["status"], over["may_cancel"]) == ("over", False)


def test_the_cli_adds_lists_and_removes_with_the_same_checks(lifecycle):
    session = lifecycle
    added = run_cli("delegation", "add", "lead", "west", "--from", TODAY, "--to", days(6))
    assert added.exit_code == 0 and added.stdout.startswith("delegation ")
    number = int(added.stdout.split()[1].rstrip(":"))
    refused = run_cli("delegation", "add", "lead", "hr", "--from", days(2), "--to", days(3))
    assert refused.exit_code == 2 and "already has west standing in" in refused.stderr
    assert run_cli("delegation", "add", "lead", "lead", "--from", TODAY, "--to", days(1)).exit_code == 2
    assert (
        "unknown user 'nobody'"
        in run_cli("delegation", "add", "nobody", "west", "--from", TODAY, "--to", days(1)).stderr
    )
    assert run_cli("delegation", "add", "lead", "west", "--from", "tomorrow", "--to", days(1)).exit_code == 2
    listing = run_cli("delegation", "list").stdout
    assert "lead" in listing and "west" in listing and "current" in listing and "tester" in listing
    assert "lead" not in run_cli("delegation", "list", "--user", "rep2").stdout
    removed = run_cli("delegation", "remove", number)
    assert removed.exit_code == 0 and "removed" in removed.stdout
    assert run_cli("delegation", "remove", number).exit_code == 2
    session.rollback()
    assert count(session, Delegation) == 0
    assert [
        (e.actor, e.action)
        for e in session.scalars(sa.select(AuditEntry).where(AuditEntry.kind == "delegations").order_by(AuditEntry.id))
    ] == [("tester", "delegation.create"), ("tester", "delegation.cancel")]
    assert len(notices(session, "west", "delegation.granted")) == 1


def test_nobody_stands_in_for_a_self_review(lifecycle):
    """A self-assessment is the employee's own word: a stand-in of the employee neither sees it
    waiting, nor is told of it, nor may approve it."""
    from perfrules.workflow.engine import pending_for

    session = lifecycle
    r2 = review_of(session, "R2")
    assert r2.step == "self_review"
    give(session, "rep2", "west", TODAY, days(6))
    west = user(session, "west")
    assert allowed_actions(session, r2, west) == []
    assert r2.id not in {review.id for review in pending_for(session, west)}
    with pytest.raises(WorkflowError):
        act(session, r2, west, "approve")
    before = session.scalar(sa.select(sa.func.max(Notification.id)))
    act(session, r2, user(session, "rep2"), "approve")
    act(session, r2, user(session, "lead"), "return", comment="redo the self-assessment")
    told = set(session.scalars(sa.select(Notification.user_id).where(Notification.id > before)))
    assert west.id not in told and user(session, "rep2").id in told
