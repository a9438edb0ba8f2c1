"""Words, not codes: the pages name approval steps by their labels and states and actions in the
reader's language (`web.words`), HR's home page lists the templates waiting for review, the
calibration page opens on a template that has a target distribution, and a scorecard shows its
total and grade before the panels of its review.

The lifecycle scenario (tests/workflow/test_engine.py): every 2026-10 review open at the flow's
self-review, labelled {zh: 自评, en: Self-review}.
"""

from __future__ import annotations

import re

import pytest

from perfrules.config.store import working_config
from perfrules.config.submissions import submit
from perfrules.web import create_app
from perfrules.web.words import WORDS, word
from perfrules.workflow.engine import ACTIONS, act
from perfrules.workflow.models import REVIEW_STATES, ReviewAction

from ..helpers import sign_in
from ..workflow.test_calibration import PASSWORD as CALIBRATION_PASSWORD
from ..workflow.test_calibration import calibrated  # noqa: F401 (a fixture)
from ..workflow.test_engine import lifecycle, review_of, user  # noqa: F401 (a fixture)

pytestmark = pytest.mark.database


def _client(app, login: str, password: str = "s3cret-pass", language: str = "en"):
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
    assert sign_in(client, login, password).status_code == 302
    return client


@pytest.fixture
def app(cli_env, tmp_path):
    return create_app({"database_url": cli_env, "instance_path": str(tmp_path / "instance"), "TESTING": True})


def test_every_review_state_and_action_has_words():
    assert set(WORDS["review_state"]) == set(REVIEW_STATES)
    assert set(ACTIONS) <= set(WORDS["action"])
    assert word("kpis", "config_kind") == "KPIs"  # outside a request: the English text
    assert word("something_new", "review_state") == "something_new" and word(None, "action") == ""


def test_the_home_page_names_the_step_and_lists_the_templates_waiting_for_review(lifecycle, app):
    session = lifecycle
    home = _client(app, "rep1").get("/").get_data(as_text=True)
    waiting = re.search(r'id="waiting-for-you">(.*?)</div></div>', home, re.S).group(1)
    assert '<span class="note review-step">Self-review</span>' in waiting and "self_review" not in waiting
    assert 'id="templates-to-review"' not in home  # not theirs to review
    chinese = _client(app, "rep1", language="zh-CN").get("/").get_data(as_text=True)
    assert '<span class="note review-step">自评</span>' in chinese

    # a manager submits a template: HR's home page lists it, linking to its review page
    submit(session, "rep", "lead", working_config(session)["templates"]["rep"], "new weights")
    session.commit()
    hr_home = _client(app, "hr").get("/").get_data(as_text=True)
    listed = re.search(r'id="templates-to-review">(.*?)</div></div>', hr_home, re.S).group(1)
    assert '<li data-template="rep"><a href="/designer/templates/rep/review">Rep</a>' in listed
    assert "submitted by lead on" in listed and "new weights" in listed
    assert "<code>kpis</code>" not in hr_home and "<th>KPIs</th>" in hr_home  # kinds in words


def test_the_scorecard_shows_its_total_first_and_its_review_in_words(lifecycle, app):
    session = lifecycle
    rep1 = _client(app, "rep1")
    page = rep1.get("/scorecards/2026-10/R1").get_data(as_text=True)
    assert page.index('id="card-total"') < page.index('id="card-grade"') < page.index('id="review"')
    badge = re.search(r'<section class="card mb-3" id="review".*?<span class="badge[^"]*">([^<]*)</span>', page, re.S)
    assert badge.group(1) == "Self-review"
    assert re.search(r'data-action="approve"\s+formaction="[^"]+">Approve</button>', page)

    # every action in the history in words, the run's sending back too
    act(session, review_of(session, "R1"), user(session, "rep1"), "approve")
    review = review_of(session, "R1")
    session.add(
        ReviewAction(
            review_id=review.id,
            step=None,
            step_entry=review.entries,
            action="recompute",
            user_id=None,
            comment="run 9 changed the total",
            at=review.updated_at,
        )
    )
    session.commit()
    history = rep1.get("/scorecards/2026-10/R1").get_data(as_text=True)
    table = re.search(r'class="table table-sm mb-2 review-history">(.*?)</table>', history, re.S).group(1)
    rows = [re.sub(r"\s*<[^>]+>\s*", "|", row) for row in re.findall(r"<tr>(.*?)</tr>", table, re.S)]
    assert "|Self-review|" in rows[0] and "|Approve|" in rows[0]
    assert "|Sent back: the numbers changed|" in rows[1] and "|evaluation run|" in rows[1]
    assert "approve<" not in history and "recompute<" not in history


def test_calibration_opens_on_a_template_with_a_target_distribution(calibrated, app):
    hr = _client(app, "hr", CALIBRATION_PASSWORD)
    # `lead` comes first in the list, but only `rep` has a target distribution
    page = hr.get("/scorecards/calibration?period=2026-10").get_data(as_text=True)
    assert re.search(r'<option value="rep" selected>', page)
    assert 'id="no-targets"' not in page and 'id="distribution-table"' in page
    chosen = hr.get("/scorecards/calibration?period=2026-10&template=lead").get_data(as_text=True)
    assert re.search(r'<option value="lead" selected>', chosen) and 'id="no-targets"' in chosen
