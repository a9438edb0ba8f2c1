"""One bad message in a batch fails alone: the e-mails before and after it go out, and none that
went out is sent again on a retry (a real SMTP server counts them). A sender that runs long —
slow batches one after another — writes each lease and back-off from the time it writes it, so a
second scheduler looking meanwhile never sends the same delivery twice."""

from __future__ import annotations

import collections
import dataclasses
import datetime as dt
import smtplib

import pytest

import perfrules_smtp
from perfrules.db import make_sessionmaker
from perfrules.formula import builtin_functions
from perfrules.notify import notify, outbox
from perfrules.notify.channels import Outgoing
from perfrules.notify.outbox import BACK_OFF, LEASE, clock_from, deliver_pending
from perfrules.scheduler.service import tick

from ..workflow.test_engine import user
from .servers import REFUSED_SUBJECT, SMTP_LOGIN, SMTP_PASSWORD, smtp_server
from .test_outbox import activate, addresses, deliveries

pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
UTC = dt.UTC


class ManualClock:
    """A clock that moves only when told to."""

    def __init__(self, start: dt.datetime):
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, by: dt.timedelta) -> None:
        self.now += by


def smtp_channel(port: int) -> perfrules_smtp.SmtpChannel:
    return perfrules_smtp.SmtpChannel(
        "127.0.0.1", port, "perfrules@example.com", user=SMTP_LOGIN, password=SMTP_PASSWORD, starttls=False
    )


def outgoing(delivery_id: int, login: str, subject: str) -> Outgoing:
    return Outgoing(
        delivery_id=delivery_id,
        kind="review.waiting",
        login=login,
        email=f"{login}@example.com",
        language="en",
        subject=subject,
        body="It is at the step Self-review.",
        link=None,
        period="2026-10",
        employee=None,
        params={},
        created_at=dt.datetime.now(UTC),
    )


def test_an_email_that_cannot_be_built_or_is_refused_fails_alone_and_the_rest_go_out():
    with smtp_server() as (port, mail):
        results = smtp_channel(port).send(
            [
                outgoing(1, "first", "Waiting for you: 甲's scorecard"),
                outgoing(2, "broken", "Waiting for you: Bad\nName's scorecard"),  # no header can carry it
                outgoing(3, "refused", f"Waiting for you: {REFUSED_SUBJECT}"),  # 554 after DATA
                outgoing(4, "last", "Waiting for you: 丙's scorecard"),
            ]
        )
    assert results[0] is None and results[3] is None
    assert isinstance(results[1], ValueError) and "linefeed" in str(results[1])
    assert isinstance(results[2], smtplib.SMTPDataError) and results[2].smtp_code == 554
    assert [message["To"] for message in mail.received] == ["first@example.com", "last@example.com"]


class InjectsNewline:
    """The e-mail channel, handed `login`'s subject with a line break in it (as `render` made it
    before it kept subjects to one line)."""

    def __init__(self, channel, login: str):
        self.channel, self.login = channel, login

    def send(self, messages):
        return self.channel.send(
            [
                dataclasses.replace(m, subject=m.subject.replace("Bad Name", "Bad\r\nName"))
                if m.login == self.login
                else m
                for m in messages
            ]
        )


def three_notices(session, clock: ManualClock) -> None:
    """rep1, rep2, lead told in this order (so one batch, rep2's in the middle); the name in
    rep2's has a newline."""
    for login, name in (("rep1", "甲"), ("rep2", "Bad\nName"), ("lead", "丙")):
        notify(
            session,
            [user(session, login).id],
            "review.waiting",
            period="2026-10",
            params={"employee": name, "period": "2026-10", "step": "Self-review"},
            now=clock(),
        )
    session.commit()


@pytest.mark.database
def test_one_bad_email_in_a_batch_fails_alone_and_none_is_sent_twice(reviews, db_engine):
    session = reviews
    addresses(
        session, rep1=("rep1@example.com", "en"), rep2=("rep2@example.com", "en"), lead=("lead@example.com", "en")
    )
    sessions = make_sessionmaker(db_engine, write=True)
    clock = ManualClock(dt.datetime.now(UTC))
    with smtp_server() as (port, mail):
        channel = InjectsNewline(smtp_channel(port), "rep2")
        assert deliver_pending(sessions, {"email": channel}, clock=clock).handled() == 0  # first seen: no old news
        clock.advance(dt.timedelta(seconds=1))
        three_notices(session, clock)
        clock.advance(dt.timedelta(seconds=1))
        first = deliver_pending(sessions, {"email": channel}, clock=clock).channels["email"]
        assert (first.sent, first.retrying, first.failed) == (2, 1, 0)
        assert [m["To"] for m in mail.received] == ["rep1@example.com", "lead@example.com"]
        states = deliveries(session)
        assert states[("email", "rep1")] == states[("email", "lead")] == ("sent", 1, None)
        state, attempts, error = states[("email", "rep2")]
        assert (state, attempts) == ("pending", 1) and error.startswith("ValueError: Header values may not")
        # the retry, after its back-off, tries the bad one alone
        clock.advance(BACK_OFF[0])
        again = deliver_pending(sessions, {"email": channel}, clock=clock).channels["email"]
        assert (again.handled(), again.retrying) == (1, 1)
        assert len(mail.received) == 2
        # once a subject is one line (as `render` now makes it), it goes out too, once
        clock.advance(BACK_OFF[1])
        assert deliver_pending(sessions, {"email": smtp_channel(port)}, clock=clock).channels["email"].sent == 1
        clock.advance(dt.timedelta(days=1))
        assert deliver_pending(sessions, {"email": smtp_channel(port)}, clock=clock).handled() == 0
    assert collections.Counter(m["To"] for m in mail.received) == {
        "rep1@example.com": 1,
        "lead@example.com": 1,
        "rep2@example.com": 1,
    }
    assert mail.received[-1]["Subject"] == "Waiting for you: Bad Name's scorecard for 2026-10"


@pytest.mark.database
def test_a_newline_in_a_name_never_reaches_a_header(reviews, db_engine):
    session = reviews
    addresses(
        session, rep1=("rep1@example.com", "en"), rep2=("rep2@example.com", "zh_CN"), lead=("lead@example.com", "en")
    )
    sessions = make_sessionmaker(db_engine, write=True)
    clock = ManualClock(dt.datetime.now(UTC))
    with smtp_server() as (port, mail):
        deliver_pending(sessions, {"email": smtp_channel(port)}, clock=clock)
        clock.advance(dt.timedelta(seconds=1))
        three_notices(session, clock)
        clock.advance(dt.timedelta(seconds=1))
        assert deliver_pending(sessions, {"email": smtp_channel(port)}, clock=clock).channels["email"].sent == 3
        clock.advance(dt.timedelta(days=1))
        assert deliver_pending(sessions, {"email": smtp_channel(port)}, clock=clock).handled() == 0
    subjects = {m["To"]: m["Subject"] for m in mail.received}
    assert len(mail.received) == 3 and subjects["rep2@example.com"] == "待您处理:Bad Name 2026-10 的绩效考核表"
    assert all("Bcc" not in m and "\n" not in m["Subject"] for m in mail.received)


class Slow:
    """A channel whose every send takes `took` (on `clock`), shorter than the lease; during its
    second send, `meanwhile` runs (another scheduler looking)."""

    def __init__(
        self, clock: ManualClock, took: dt.timedelta, sent: list, meanwhile=None, failing: frozenset = frozenset()
    ):
        self.clock, self.took, self.sent, self.meanwhile, self.failing = clock, took, sent, meanwhile, failing
        self.calls = 0

    def send(self, messages):
        self.calls += 1
        self.clock.advance(self.took)
        self.sent.extend(m.delivery_id for m in messages if m.login not in self.failing)
        if self.calls == 2 and self.meanwhile:
            self.meanwhile()
        return [RuntimeError("unreachable") if m.login in self.failing else None for m in messages]


@pytest.mark.database
@pytest.mark.parametrize("through", ["deliver_pending", "tick"])
def test_a_long_sender_keeps_its_leases_ahead_so_a_second_scheduler_sends_nothing_twice(
    reviews, db_engine, monkeypatch, through
):
    session = reviews
    activate(session, "recorder")  # the fixture's four notices are pending
    monkeypatch.setattr(outbox, "BATCH", 2)  # two batches, the second claimed 20 minutes in
    sessions = make_sessionmaker(db_engine, write=True)
    clock = ManualClock(dt.datetime.now(UTC))
    sent: list[int] = []
    others: list = []

    def second_scheduler():  # 40 minutes after the first began: past a lease taken at its start
        others.append(deliver_pending(sessions, {"recorder": Slow(clock, dt.timedelta(0), sent)}, clock=clock))

    took = LEASE * 2 / 3
    assert took < LEASE < 2 * took
    channels = {"recorder": Slow(clock, took, sent, meanwhile=second_scheduler)}
    if through == "tick":
        report = tick(sessions, builtin_functions(), channels=channels, clock=clock).deliveries
    else:
        report = deliver_pending(sessions, channels, clock=clock)
    assert report.channels["recorder"].sent == 4
    assert [other.handled() for other in others] == [0]
    assert len(sent) == len(set(sent)) == 4
    assert {state for state, _, _ in deliveries(session).values()} == {"sent"}


@pytest.mark.database
def test_a_back_off_is_counted_from_when_the_failure_is_recorded(reviews, db_engine):
    session = reviews
    activate(session, "recorder")
    sessions = make_sessionmaker(db_engine, write=True)
    start = dt.datetime.now(UTC)
    clock = ManualClock(start)
    sent: list[int] = []
    slow = Slow(clock, LEASE * 2 / 3, sent, failing=frozenset({"lead"}))
    assert deliver_pending(sessions, {"recorder": slow}, clock=clock).channels["recorder"].retrying == 1
    # another scheduler right after: lead's retry is a minute after its failure, not after the start
    assert deliver_pending(sessions, {"recorder": Slow(clock, dt.timedelta(0), sent)}, clock=clock).handled() == 0
    clock.advance(BACK_OFF[0])
    assert (
        deliver_pending(sessions, {"recorder": Slow(clock, dt.timedelta(0), sent)}, clock=clock)
        .channels["recorder"]
        .sent
        == 1
    )
    assert len(sent) == len(set(sent)) == 4


def test_a_clock_from_a_given_time_moves_on_with_the_real_time():
    start = dt.datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    clock = clock_from(start)
    first, second = clock(), clock()
    assert start <= first <= second < start + dt.timedelta(minutes=1)
