"""Notification texts: both languages, labels in the reader's language, lines without their
parameters left out; notices checked before they are written."""

from __future__ import annotations

import pytest

from perfrules.notify import Notice, is_app_path
from perfrules.notify.messages import MESSAGES, language_of, render

PARAMS = {
    "employee": "销售一",
    "period": "2026-10",
    "step": {"zh": "上级评分", "en": "Manager review"},
    "due_at": "2026-11-03 10:00 UTC",
}


def test_a_notification_reads_in_each_language_with_labels_in_that_language():
    assert render("review.waiting", PARAMS, "en") == (
        "Waiting for you: 销售一's scorecard for 2026-10",
        "It is at the step Manager review.\nDue by 2026-11-03 10:00 UTC.",
    )
    assert render("review.waiting", PARAMS, "zh") == (
        "待您处理:销售一 2026-10 的绩效考核表",
        "当前步骤:上级评分。\n截止时间:2026-11-03 10:00 UTC。",
    )


def test_a_line_whose_parameter_is_missing_is_left_out():
    subject, body = render("review.waiting", {**PARAMS, "due_at": None}, "en")
    assert body == "It is at the step Manager review."
    assert (
        render(
            "review.rejected", {"employee": "A", "period": "2026-10", "by": "hr", "from_step": "X", "step": "Y"}, "en"
        )[1]
        == "hr rejected it at X; it is back at Y."
    )


def test_every_kind_has_both_languages_and_an_unknown_kind_still_reads():
    for kind, message in MESSAGES.items():
        assert set(message.subject) == set(message.body) == {"zh", "en"}, kind
        assert len(message.body["zh"]) == len(message.body["en"]), kind
    assert render("dispute.gone", {}, "en") == ("dispute.gone", "")


@pytest.mark.parametrize("preference, language", [("en", "en"), ("zh_CN", "zh"), (None, "zh"), ("EN", "en")])
def test_a_users_preference_chooses_the_language(preference, language):
    assert language_of(preference) == language


def test_links_stay_inside_the_app():
    assert is_app_path("/scorecards/2026-10/R1")
    for link in ("https://evil.example", "//evil.example/x", "/\\evil.example", "javascript:alert(1)"):
        assert not is_app_path(link), link


@pytest.mark.database
def test_a_notice_of_an_unknown_kind_or_with_an_outside_link_is_refused(session):
    from perfrules.notify import notify, notify_many

    with pytest.raises(ValueError, match="unknown notification kind 'review.nope'"):
        notify(session, [1], "review.nope")
    with pytest.raises(ValueError, match="a path inside the app"):
        notify_many(session, [Notice(frozenset({1}), "review.waiting", link="https://evil.example/")])


def test_a_subject_is_one_line_whatever_its_parameters_hold():
    params = {**PARAMS, "employee": "Bad\r\nName\nBcc: x@example.com\u2028"}
    subject, body = render("review.waiting", params, "en")
    assert subject == "Waiting for you: Bad Name Bcc: x@example.com 's scorecard for 2026-10"
    assert body == "It is at the step Manager review.\nDue by 2026-11-03 10:00 UTC."  # the body keeps its lines
    assert "\n" not in render("review.waiting", params, "zh")[0]
    assert render("gone\nkind", {}, "en") == ("gone kind", "")
