"""Proration: target pay and targets cut to the part of a period someone was employed, counted by
calendar days, working days or whole months; rates never."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest

from perfrules.engine.periods import Period
from perfrules.pay.members import Member
from perfrules.pay.proration import prorate, share

OCTOBER, Q4 = Period.parse("2026-10"), Period.parse("2026-Q4")


def member(since: str | None = None, until: str | None = None) -> Member:
    return Member(
        0,
        7,
        "E7",
        {"target_bonus": D(10000)},
        employed_from=dt.date.fromisoformat(since) if since else None,
        employed_until=dt.date.fromisoformat(until) if until else None,
    )


@pytest.mark.parametrize(
    ("proration", "since", "until", "factor", "words"),
    [
        (None, "2026-10-16", "2026-10-31", D(16) / D(31), "prorated: employed 16 of 31 days"),
        ({"by": "calendar_days"}, "2026-10-01", "2026-10-10", D(10) / D(31), "prorated: employed 10 of 31 days"),
        # October 2026 has 22 working days; from Friday the 16th: 16, 19–23, 26–30 = 11
        ({"by": "working_days"}, "2026-10-16", "2026-10-31", D(11) / D(22), "employed 11 of 22 working days"),
    ],
)
def test_a_month_is_shared_by_the_days_employed(proration, since, until, factor, words):
    found = share(proration, member(since, until), OCTOBER)
    assert found.factor == factor
    assert words in found.words.en


def test_whole_months_count_when_employed_on_the_cut_off_day():
    whole_months = {"by": "whole_months", "cut_off_day": 15}
    # joined on 10 Oct: October counts (employed on the 15th), so all of the quarter
    assert share(whole_months, member("2026-10-10"), Q4) is None
    # joined on 20 Oct: November and December, 2 of 3
    assert share(whole_months, member("2026-10-20"), Q4).factor == D(2) / D(3)
    # left on 14 Dec: October and November
    found = share(whole_months, member(until="2026-12-14"), Q4)
    assert found.factor == D(2) / D(3)
    assert found.words.en == "prorated: employed 2 of 3 months (a month counts when employed on day 15)"
    # February has no 31st: the cut-off is its last day
    assert share({"by": "whole_months", "cut_off_day": 31}, member("2027-02-28"), Period.parse("2027-02")) is None
    assert share({"by": "whole_months", "cut_off_day": 31}, member(until="2027-02-27"), Period.parse("2027-02"))


def test_someone_employed_all_the_period_or_a_plan_that_does_not_prorate_keeps_everything():
    assert share(None, member(), OCTOBER) is None
    assert share(None, member("2020-01-01", "2030-01-01"), OCTOBER) is None
    assert share({"by": "none"}, member("2026-10-16"), OCTOBER) is None


def test_target_pay_is_cut_and_a_rate_is_not():
    joiner = Member(0, 7, "E7", {"target_bonus": D(10000), "rate": D("0.035")}, employed_from=dt.date(2026, 10, 16))
    members, shares = prorate(None, [joiner], OCTOBER, {"target_bonus"})
    assert members[0].parameters["target_bonus"] * 31 == D(160000)
    assert members[0].parameters["rate"] == D("0.035")
    assert shares[7].factor == D(16) / D(31)
