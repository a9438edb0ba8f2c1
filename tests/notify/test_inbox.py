"""The inbox page and API: each user sees their own notifications only, in their language, with
the unread count in the menu bar; opening one marks it read and follows its link; another's
notification is a 404; every form carries its CSRF token."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from perfrules.notify import notify
from perfrules.notify.models import Notification
from perfrules.web import create_app

from ..helpers import csrf_token, run_cli, sign_in
from ..workflow.test_engine import user

pytestmark = pytest.mark.database


def app_of(session):
    return create_app({"database_url": session.bind.url.render_as_string(hide_password=False), "TESTING": True})


def browser(app, login: str, language: str = "en"):
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
    assert sign_in(client, login, "s3cret-pass").status_code == 302
    return client


def notification_of(session, login: str) -> Notification:
    return session.scalar(
        sa.select(Notification)
        .where(Notification.user_id == user(session, login).id)
        .order_by(Notification.id.desc())
        .limit(1)
    )


def test_the_inbox_shows_ones_own_notifications_and_marks_them_read(reviews):
    session = reviews
    app = app_of(session)
    rep1 = browser(app, "rep1")
    home = rep1.get("/").get_data(as_text=True)
    assert 'id="unread-notifications">1</span>' in home
    page = rep1.get("/inbox").get_data(as_text=True)
    assert "Waiting for you: 销售一&#39;s scorecard for 2026-10" in page and "It is at the step Self-review." in page
    assert "主管一" not in page and "销售二" not in page  # the others' notifications
    mine, theirs = notification_of(session, "rep1"), notification_of(session, "lead")
    token = csrf_token(page)
    assert rep1.post(f"/inbox/{mine.id}/open").status_code == 400  # no CSRF token
    for action in ("open", "read"):
        assert rep1.post(f"/inbox/{theirs.id}/{action}", data={"csrf_token": token}).status_code == 404
    opened = rep1.post(f"/inbox/{mine.id}/open", data={"csrf_token": token})
    assert opened.status_code == 302 and opened.headers["Location"] == "/scorecards/2026-10/R1"
    session.rollback()
    assert notification_of(session, "rep1").read_at is not None and notification_of(session, "lead").read_at is None
    assert 'id="unread-notifications"' not in rep1.get("/").get_data(as_text=True)
    assert 'data-read="yes"' in rep1.get("/inbox").get_data(as_text=True)
    assert 'id="inbox-empty"' in rep1.get("/inbox?unread=1").get_data(as_text=True)


def test_mark_read_and_mark_all_read_and_the_chinese_inbox(reviews):
    session = reviews
    lead = user(session, "lead")
    for period in ("2026-08", "2026-09"):
        notify(
            session,
            [lead.id],
            "review.approved",
            period=period,
            employee_id=lead.employee_id,
            params={"employee": "主管一", "period": period},
            link="/scorecards/mine",
        )
    session.commit()
    app = app_of(session)
    client = browser(app, "lead", language="zh")
    page = client.get("/inbox").get_data(as_text=True)
    assert "待您处理:主管一 2026-10 的绩效考核表" in page and "已通过:主管一 2026-09 的绩效考核表" in page
    assert 'id="unread-notifications">3</span>' in page
    first = notification_of(session, "lead")
    marked = client.post(f"/inbox/{first.id}/read", data={"csrf_token": csrf_token(page)})
    assert marked.status_code == 302
    assert 'id="unread-notifications">2</span>' in client.get("/inbox").get_data(as_text=True)
    assert client.post("/inbox/read-all").status_code == 400
    client.post("/inbox/read-all", data={"csrf_token": csrf_token(page)})
    session.rollback()
    assert (
        session.scalar(
            sa.select(sa.func.count())
            .select_from(Notification)
            .where(Notification.user_id == lead.id, Notification.read_at.is_(None))
        )
        == 0
    )
    assert notification_of(session, "rep1").read_at is None  # nobody else's


def test_the_notifications_api_is_scoped_to_the_token_holder(reviews):
    session = reviews
    app = app_of(session)
    client = app.test_client()
    tokens = {}
    for login in ("rep1", "lead"):
        issued = run_cli("token", "create", login, "--name", "tests").stdout.strip().splitlines()[-1]
        tokens[login] = {"Authorization": f"Bearer {issued}"}
    user(session, "rep1").language = "en"
    session.commit()
    assert client.get("/api/v1/notifications").status_code == 401
    listed = client.get("/api/v1/notifications", headers=tokens["rep1"])
    assert listed.status_code == 200 and '"total": 1' in listed.headers["X-Pagination"]
    [note] = listed.json
    assert (note["kind"], note["employee"], note["period"], note["link"], note["read_at"]) == (
        "review.waiting",
        "R1",
        "2026-10",
        "/scorecards/2026-10/R1",
        None,
    )
    assert note["subject"] == "Waiting for you: 销售一's scorecard for 2026-10"
    assert note["params"]["step"] == {"zh": "自评", "en": "Self-review"}
    # the lead's own language is not set: their request's language, Chinese by default
    [lead_note] = client.get("/api/v1/notifications", headers=tokens["lead"]).json
    assert lead_note["subject"] == "待您处理:主管一 2026-10 的绩效考核表"
    assert client.post(f"/api/v1/notifications/{lead_note['id']}/read", headers=tokens["rep1"]).status_code == 404
    assert client.post("/api/v1/notifications/999999/read", headers=tokens["rep1"]).status_code == 404
    read = client.post(f"/api/v1/notifications/{note['id']}/read", headers=tokens["rep1"])
    assert read.status_code == 200 and read.json["read_at"] is not None
    assert client.get("/api/v1/notifications?unread=true", headers=tokens["rep1"]).json == []
    assert client.get("/api/v1/notifications?unread=true", headers=tokens["lead"]).json != []
    assert client.post("/api/v1/notifications/read-all", headers=tokens["lead"]).json == {"marked": 1}
    assert client.post("/api/v1/notifications/read-all", headers=tokens["lead"]).json == {"marked": 0}
