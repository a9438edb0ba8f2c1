"""The outbox: notifications go out through the active channels after they are committed —
by real e-mail to a real SMTP server and by signed webhooks to a real HTTP server — each once;
a failing channel is retried with back-off and then marked failed while the rest goes on; a
rolled-back notification is never sent; a channel switched on does not send old news."""

from __future__ import annotations

import datetime as dt
import os
import threading
import time

import pytest
import sqlalchemy as sa

import perfrules_smtp
import perfrules_webhook
from perfrules.db import make_sessionmaker
from perfrules.notify import notify
from perfrules.notify.models import NotificationChannel, NotificationDelivery
from perfrules.notify.outbox import BACK_OFF, MAX_ATTEMPTS, deliver_pending, retry_failed

from ..helpers import run_cli
from ..workflow.test_engine import user
from .servers import BOUNCING, SMTP_LOGIN, SMTP_PASSWORD, WEBHOOK_SECRET, smtp_server, webhook_server

pytestmark = [pytest.mark.database, pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")]
UTC = dt.UTC
BASE_URL = "https://perf.example.com"


def at(moment: dt.datetime):
    """A clock stopped at `moment`."""
    return lambda: moment


def activate(session, *channels: str) -> None:
    """The channels have been active since before the fixture's run notified anyone."""
    for name in channels:
        session.add(NotificationChannel(name=name, active_since=dt.datetime.now(UTC) - dt.timedelta(hours=1)))
    session.commit()


def addresses(session, **emails) -> None:
    for login, (address, language) in emails.items():
        found = user(session, login)
        found.email, found.language = address, language
    session.commit()


def deliveries(session) -> dict[tuple[str, str], tuple]:
    """(channel, login) → (state, attempts, last error)."""
    from perfrules.notify.models import Notification
    from perfrules.org.models import User

    session.rollback()
    return {
        (channel, login): (state, attempts, error)
        for channel, login, state, attempts, error in session.execute(
            sa.select(
                NotificationDelivery.channel,
                User.login,
                NotificationDelivery.state,
                NotificationDelivery.attempts,
                NotificationDelivery.last_error,
            )
            .join(Notification, Notification.id == NotificationDelivery.notification_id)
            .join(User, User.id == Notification.user_id)
        )
    }


def test_email_goes_to_a_real_smtp_server_in_each_recipients_language(reviews, db_engine):
    session = reviews
    addresses(session, rep1=("rep1@example.com", "en"), lead=("lead@example.com", None), west=(BOUNCING, "en"))
    activate(session, "email")
    sessions = make_sessionmaker(db_engine, write=True)
    with smtp_server() as (port, mail):
        channel = perfrules_smtp.from_environment(
            {
                "PERFRULES_SMTP_HOST": "127.0.0.1",
                "PERFRULES_SMTP_PORT": str(port),
                "PERFRULES_SMTP_STARTTLS": "false",
                "PERFRULES_SMTP_USER": SMTP_LOGIN,
                "PERFRULES_SMTP_PASSWORD": SMTP_PASSWORD,
                "PERFRULES_SMTP_FROM": "perfrules <perfrules@example.com>",
            }
        )
        report = deliver_pending(sessions, {"email": channel}, base_url=BASE_URL)
        assert deliver_pending(sessions, {"email": channel}, base_url=BASE_URL).channels["email"].handled() == 0
    assert (report.channels["email"].sent, report.channels["email"].skipped) == (2, 2)
    received = {message["To"]: message for message in mail.received}
    assert sorted(received) == ["lead@example.com", "rep1@example.com"]
    english, chinese = received["rep1@example.com"], received["lead@example.com"]
    assert english["Subject"] == "Waiting for you: 销售一's scorecard for 2026-10"
    assert english["From"] == "perfrules <perfrules@example.com>" and english["Auto-Submitted"] == "auto-generated"
    assert "It is at the step Self-review." in english.get_content()
    assert f"{BASE_URL}/scorecards/2026-10/R1" in english.get_content()
    assert chinese["Subject"] == "待您处理:主管一 2026-10 的绩效考核表" and "当前步骤:自评。" in chinese.get_content()
    assert mail.envelopes[0][0] == "perfrules@example.com"
    states = deliveries(session)
    assert states[("email", "rep1")][:2] == states[("email", "lead")][:2] == ("sent", 1)
    assert states[("email", "rep2")] == ("skipped", 1, "Undeliverable: user 'rep2' has no e-mail address")
    assert states[("email", "west")][0] == "skipped" and "550" in states[("email", "west")][2]


def test_a_wrong_smtp_password_is_retried_not_lost(reviews, db_engine):
    session = reviews
    addresses(session, rep1=("rep1@example.com", "en"))
    activate(session, "email")
    with smtp_server() as (port, mail):
        channel = perfrules_smtp.SmtpChannel(
            "127.0.0.1", port, "perfrules@example.com", user=SMTP_LOGIN, password="wrong", starttls=False
        )
        report = deliver_pending(make_sessionmaker(db_engine, write=True), {"email": channel})
    assert mail.received == [] and report.channels["email"].retrying == 1
    state, attempts, error = deliveries(session)[("email", "rep1")]
    assert (state, attempts) == ("pending", 1) and "SMTPAuthenticationError" in error


def test_webhooks_are_posted_signed_to_a_real_http_server_once_each(reviews, db_engine):
    session = reviews
    addresses(session, rep1=("rep1@example.com", "en"))
    activate(session, "webhook")
    sessions = make_sessionmaker(db_engine, write=True)
    with webhook_server() as (url, receiver):
        channel = perfrules_webhook.from_environment(
            {"PERFRULES_WEBHOOK_URL": url, "PERFRULES_WEBHOOK_SECRET": WEBHOOK_SECRET}
        )
        assert deliver_pending(sessions, {"webhook": channel}, base_url=BASE_URL).channels["webhook"].sent == 4
        deliver_pending(sessions, {"webhook": channel}, base_url=BASE_URL)
    assert receiver.refused == 0 and len(receiver.requests) == 4
    by_login = {payload["recipient"]["login"]: (headers, payload) for headers, payload in receiver.requests}
    assert sorted(by_login) == ["lead", "rep1", "rep2", "west"]
    headers, payload = by_login["rep1"]
    assert payload["kind"] == "review.waiting" and payload["employee"] == "R1" and payload["period"] == "2026-10"
    assert payload["recipient"] == {"login": "rep1", "email": "rep1@example.com", "language": "en"}
    assert payload["subject"] == "Waiting for you: 销售一's scorecard for 2026-10"
    assert payload["link"] == f"{BASE_URL}/scorecards/2026-10/R1"
    assert payload["params"]["step"] == {"zh": "自评", "en": "Self-review"}
    assert headers["X-Perfrules-Delivery"] == str(payload["delivery"])
    assert by_login["lead"][1]["recipient"]["language"] == "zh"


def test_a_wrong_secret_or_an_error_answer_is_a_failure(reviews, db_engine):
    session = reviews
    activate(session, "webhook")
    sessions = make_sessionmaker(db_engine, write=True)
    with webhook_server() as (url, receiver):
        forged = perfrules_webhook.WebhookChannel(url, "not-the-secret")
        assert deliver_pending(sessions, {"webhook": forged}).channels["webhook"].retrying == 4
        assert receiver.refused == 4 and receiver.requests == []
    assert {error for _, _, error in deliveries(session).values()} == {
        "RuntimeError: the webhook answered 401 Unauthorized"
    }


def test_one_webhook_message_that_cannot_be_posted_fails_alone():
    from perfrules.notify.channels import Outgoing

    def outgoing(delivery_id, params):
        return Outgoing(
            delivery_id,
            "review.waiting",
            "rep1",
            None,
            "en",
            "subject",
            "body",
            "/scorecards/2026-10/R1",
            "2026-10",
            "R1",
            params,
            dt.datetime(2026, 11, 1, tzinfo=dt.UTC),
        )

    with webhook_server() as (url, receiver):
        channel = perfrules_webhook.WebhookChannel(url, WEBHOOK_SECRET)
        results = channel.send([outgoing(1, {}), outgoing(2, {"bad": object()}), outgoing(3, {})])
    assert results[0] is None and results[2] is None and isinstance(results[1], TypeError)
    assert sorted(payload["delivery"] for _, payload in receiver.requests) == [1, 3]


class Recorder:
    """A channel that keeps what it is given, and fails for the logins it is told to."""

    def __init__(self, failing: set[str] = frozenset(), pause: float = 0.0):
        self.sent: list = []
        self.failing, self.pause = failing, pause
        self.lock = threading.Lock()

    def send(self, messages):
        time.sleep(self.pause)
        with self.lock:
            self.sent.extend(m for m in messages if m.login not in self.failing)
        return [RuntimeError(f"{m.login} is unreachable") if m.login in self.failing else None for m in messages]


class Broken:
    def send(self, messages):
        raise ConnectionRefusedError("the relay is down")


def test_a_failing_channel_is_retried_with_back_off_then_failed_while_the_rest_goes_on(reviews, db_engine):
    session = reviews
    activate(session, "broken", "recorder")
    sessions = make_sessionmaker(db_engine, write=True)
    recorder = Recorder(failing={"lead"})
    channels = {"broken": Broken(), "recorder": recorder}
    now = dt.datetime.now(UTC)
    first = deliver_pending(sessions, channels, clock=at(now))
    assert (first.channels["recorder"].sent, first.channels["recorder"].retrying) == (3, 1)
    assert first.channels["broken"].retrying == 4
    assert deliver_pending(sessions, channels, clock=at(now + BACK_OFF[0] / 2)).handled() == 0  # not before back-off
    for wait in BACK_OFF:
        now += wait
        deliver_pending(sessions, channels, clock=at(now))
    states = deliveries(session)
    assert {states[("broken", login)] for login in ("rep1", "rep2", "lead", "west")} == {
        ("failed", MAX_ATTEMPTS, "ConnectionRefusedError: the relay is down")
    }
    assert states[("recorder", "lead")] == ("failed", MAX_ATTEMPTS, "RuntimeError: lead is unreachable")
    assert {states[("recorder", login)][0] for login in ("rep1", "rep2", "west")} == {"sent"}
    assert sorted(m.login for m in recorder.sent) == ["rep1", "rep2", "west"]  # each once
    assert deliver_pending(sessions, channels, clock=at(now + dt.timedelta(days=1))).handled() == 0  # stays failed
    # after the relay is fixed, an administrator sends them again
    with sessions() as own, own.begin():
        assert retry_failed(own, "broken", now) == 4
    assert deliver_pending(sessions, {"broken": Recorder()}, clock=at(now)).channels["broken"].sent == 4


def test_a_rolled_back_notification_is_never_sent_and_a_new_channel_sends_no_old_news(reviews, db_engine):
    session = reviews
    sessions = make_sessionmaker(db_engine, write=True)
    recorder = Recorder()
    deliver_pending(sessions, {"recorder": recorder})  # first seen now: the run's notices are older
    assert recorder.sent == []
    rep1 = user(session, "rep1")
    notify(session, [rep1.id], "review.approved", period="2026-10", params={"employee": "x", "period": "2026-10"})
    session.rollback()
    deliver_pending(sessions, {"recorder": recorder})
    assert recorder.sent == []
    notify(session, [rep1.id], "review.approved", period="2026-10", params={"employee": "x", "period": "2026-10"})
    session.commit()
    deliver_pending(sessions, {"recorder": recorder})
    assert [(m.login, m.kind, m.subject) for m in recorder.sent] == [
        ("rep1", "review.approved", "已通过:x 2026-10 的绩效考核表")
    ]


def test_two_senders_at_once_send_each_notification_once(reviews, db_engine):
    session = reviews
    activate(session, "recorder")
    sessions = make_sessionmaker(db_engine, write=True)
    recorder = Recorder(pause=0.2)
    start = threading.Barrier(2)
    errors = []

    def send():
        try:
            start.wait()
            deliver_pending(sessions, {"recorder": recorder})
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert sorted(m.login for m in recorder.sent) == ["lead", "rep1", "rep2", "west"]


def test_the_status_command_says_which_channels_are_active_and_what_failed(reviews, db_engine, monkeypatch):
    session = reviews
    monkeypatch.delenv("PERFRULES_SMTP_HOST", raising=False)
    monkeypatch.setenv("PERFRULES_WEBHOOK_URL", "http://127.0.0.1:9/hooks")
    monkeypatch.setenv("PERFRULES_WEBHOOK_SECRET", WEBHOOK_SECRET)
    monkeypatch.setenv("PERFRULES_WEBHOOK_TIMEOUT", "2")
    activate(session, "webhook")
    sessions = make_sessionmaker(db_engine, write=True)
    channel = perfrules_webhook.from_environment(os.environ)
    now = dt.datetime.now(UTC)
    for attempt in range(MAX_ATTEMPTS):  # nothing listens on port 9
        deliver_pending(sessions, {"webhook": channel}, clock=at(now))
        now += dt.timedelta(hours=3)
    status = run_cli("notify", "status").output
    assert "email: not active: PERFRULES_SMTP_HOST is not set" in status
    assert "webhook: active" in status
    assert "outbox webhook: 4 failed" in status
    assert status.count("failed: webhook to ") == 4 and "after 5 attempts" in status
    assert "4 failed deliveries will be sent again" in run_cli("notify", "retry", "--channel", "webhook").output
    assert "outbox webhook: 4 pending" in run_cli("notify", "status").output
