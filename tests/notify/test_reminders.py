"""Deadlines: due dates from the step's `deadline_days`, a reminder when the deadline is near and
another once it has passed, each sent once per review, step entry and kind — by one tick or
many, by one scheduler or two at once — to whoever may still act. The pages and the API show
the due date and whether it has passed."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
import sqlalchemy as sa

from perfrules.db import make_sessionmaker
from perfrules.formula import builtin_functions
from perfrules.scheduler.service import tick
from perfrules.workflow.deadlines import step_deadline
from perfrules.workflow.engine import act
from perfrules.workflow.reminder_models import ReviewReminder
from perfrules.workflow.reminders import send_reminders

from ..helpers import run_cli
from ..workflow.test_engine import review_of, user
from .conftest import last_id, notices

UTC = dt.UTC
ENTERED = dt.datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def test_a_deadline_is_days_after_the_step_was_entered_with_a_reminder_a_day_before():
    deadline = step_deadline({"deadline_days": 5}, ENTERED)
    assert (deadline.due_at, deadline.remind_at) == (ENTERED + dt.timedelta(days=5), ENTERED + dt.timedelta(days=4))
    assert [deadline.reminder(ENTERED + dt.timedelta(hours=h)) for h in (0, 95, 96, 119, 120, 999)] == [
        None,
        None,
        "due_soon",
        "due_soon",
        "overdue",
        "overdue",
    ]
    assert not deadline.overdue(deadline.due_at - dt.timedelta(seconds=1)) and deadline.overdue(deadline.due_at)
    # a step allowed one day is reminded halfway through, not the moment it opens
    assert step_deadline({"deadline_days": 1}, ENTERED).remind_at == ENTERED + dt.timedelta(hours=12)
    # SQLite gives times back without a zone: they are UTC
    assert step_deadline({"deadline_days": 1}, ENTERED.replace(tzinfo=None)).due_at == ENTERED + dt.timedelta(days=1)
    assert step_deadline({"name": "x"}, ENTERED) is None and step_deadline({"deadline_days": 2}, None) is None


def entered_at(session, moment: dt.datetime) -> None:
    """Every open review entered its step at `moment`."""
    from perfrules.workflow.models import Review

    session.execute(sa.update(Review).where(Review.state == "in_review").values(step_started_at=moment))
    session.commit()


pytestmark = pytest.mark.database


def test_near_and_overdue_reminders_go_once_each_to_who_may_still_act(reviews, db_engine):
    session = reviews
    entered_at(session, ENTERED)
    sessions = make_sessionmaker(db_engine, write=True)
    functions = builtin_functions()
    before = last_id(session)
    assert tick(sessions, functions, ENTERED + dt.timedelta(hours=23)).reminders == 0  # self-review: two days
    report = tick(sessions, functions, ENTERED + dt.timedelta(days=1, hours=1))
    assert report.reminders == 5  # R4's has nobody to tell, but it is claimed all the same
    session.rollback()
    assert sorted(notices(session, before)) == [
        ("lead", "review.due_soon", "L1"),
        ("rep1", "review.due_soon", "R1"),
        ("rep2", "review.due_soon", "R2"),
        ("west", "review.due_soon", "R3"),
    ]
    assert tick(sessions, functions, ENTERED + dt.timedelta(days=1, hours=2)).reminders == 0
    before = last_id(session)
    for hours in (48, 49, 200):
        tick(sessions, functions, ENTERED + dt.timedelta(hours=hours))
    session.rollback()
    assert sorted(notices(session, before)) == [
        ("lead", "review.overdue", "L1"),
        ("rep1", "review.overdue", "R1"),
        ("rep2", "review.overdue", "R2"),
        ("west", "review.overdue", "R3"),
    ]
    assert session.scalar(sa.select(sa.func.count()).select_from(ReviewReminder)) == 10


def test_a_step_entered_again_is_reminded_again_and_a_step_without_a_deadline_never(reviews, db_engine):
    session = reviews
    entered_at(session, dt.datetime.now(UTC) - dt.timedelta(days=10))
    r1 = review_of(session, "R1")
    with make_sessionmaker(db_engine, write=True)() as other, other.begin():
        assert send_reminders(other, dt.datetime.now(UTC)) == 5  # every self-review is overdue
    session.rollback()
    act(session, r1, user(session, "rep1"), "approve")  # manager review: one day
    session.commit()
    moved = r1.step_started_at
    before = last_id(session)
    with make_sessionmaker(db_engine, write=True)() as other, other.begin():
        assert send_reminders(other, moved + dt.timedelta(hours=13)) == 1
    session.rollback()
    assert notices(session, before) == [("lead", "review.due_soon", "R1")]
    act(session, r1, user(session, "lead"), "return", comment="again")  # a new entry of the self-review
    session.commit()
    before = last_id(session)
    with make_sessionmaker(db_engine, write=True)() as other, other.begin():
        assert send_reminders(other, r1.step_started_at + dt.timedelta(days=2)) == 1
    session.rollback()
    assert notices(session, before) == [("rep1", "review.overdue", "R1")]
    for login in ("rep1", "lead"):
        act(session, r1, user(session, login), "approve")
    session.commit()
    assert r1.step == "hr_calibration"  # no deadline there
    with make_sessionmaker(db_engine, write=True)() as other, other.begin():
        assert send_reminders(other, r1.step_started_at + dt.timedelta(days=300)) == 0


def test_two_schedulers_looking_at_once_send_each_reminder_once(reviews, db_engine):
    session = reviews
    entered_at(session, ENTERED)
    now = ENTERED + dt.timedelta(days=5)
    sessions = make_sessionmaker(db_engine, write=True)
    start = threading.Barrier(2)
    counts, errors = [], []

    def look():
        try:
            start.wait()
            with sessions() as own, own.begin():
                counts.append(send_reminders(own, now))
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=look) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == [] and sorted(counts) == [0, 5]
    session.rollback()
    assert len(notices(session)) == 4 + 4  # the opening notices, and one overdue each


def test_due_dates_and_overdue_in_the_api_and_on_the_pages(reviews):
    from perfrules.web import create_app

    from ..helpers import sign_in

    session = reviews
    now = dt.datetime.now(UTC)
    entered_at(session, now - dt.timedelta(days=3))  # two days allowed: overdue since yesterday
    r2 = review_of(session, "R2")
    r2.step_started_at = now - dt.timedelta(hours=1)
    session.commit()
    app = create_app({"database_url": session.bind.url.render_as_string(hide_password=False), "TESTING": True})
    client = app.test_client()
    token = run_cli("token", "create", "lead", "--name", "tests").stdout.strip().splitlines()[-1]
    headers = {"Authorization": f"Bearer {token}"}
    listed = {r["employee"]: r for r in client.get("/api/v1/reviews?period=2026-10", headers=headers).json}
    assert listed["R1"]["overdue"] is True and listed["R2"]["overdue"] is False
    due = dt.datetime.fromisoformat(listed["R2"]["due_at"])
    assert abs(due - (now + dt.timedelta(days=2, hours=-1))) < dt.timedelta(seconds=1)
    one = client.get("/api/v1/reviews/2026-10/L1", headers=headers).json
    assert one["overdue"] is True and one["due_at"]
    browser = app.test_client()
    browser.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    assert sign_in(browser, "lead", "s3cret-pass").status_code == 302
    home = browser.get("/").get_data(as_text=True)
    assert 'class="badge badge-danger review-overdue"' in home and "overdue since" in home  # L1's self-review
    card = browser.get("/scorecards/2026-10/L1").get_data(as_text=True)
    assert "review-overdue" in card
    rep2 = app.test_client()
    rep2.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    assert sign_in(rep2, "rep2", "s3cret-pass").status_code == 302
    page = rep2.get("/scorecards/2026-10/R2").get_data(as_text=True)
    assert 'class="note review-due"' in page and "review-overdue" not in page
