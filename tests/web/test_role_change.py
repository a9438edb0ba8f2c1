"""A person whose department and role change keeps their past scorecards in sight of those who
may see them: scorecards are judged by the department they were scored in, not the one the person
is in now. R1, a sales rep in EAST under L1 (scored for 2026-09 and 2026-10 on the `rep`
template), becomes a lead in WEST under R3 and is scored for 2026-11 on the `lead` template.

- R1 still reads every one of their own scorecards, the old ones explained by the old template;
- L1, R1's manager when those were scored, still reads them, and not the new one;
- R3, R1's manager now, reads the new one, and not the ones from before R1 joined WEST;
- HR reads them all, and so does the REST API for R1's own token.
"""

from __future__ import annotations

import pytest

from ..helpers import issue_tokens, run_cli, write
from .test_scorecard_pages import Browser, app, element, pages_company, team_codes  # noqa: F401  (fixtures)

pytestmark = pytest.mark.database

MOVED = """
employees:
  - {code: R1, name: 销售一, department: WEST, role: lead, manager: R3, hire_date: 2021-01-01}
"""


def test_a_role_and_department_change_hides_no_past_scorecard_from_those_allowed(app, pages_company):
    imported = run_cli("org", "import", write(pages_company, "moved.yaml", MOVED), "--effective", "2026-11-01")
    assert imported.exit_code == 0, imported.output
    evaluated = run_cli("run", "2026-11")
    assert evaluated.exit_code == 0, evaluated.output
    hr = Browser(app, "hr")

    own = Browser(app, "rep1")
    mine = own.page("/scorecards/mine")
    for period in ("2026-09", "2026-10", "2026-11"):
        assert f"period={period}" in mine, period  # the period picker offers every one of them
    past = own.page("/scorecards/mine?period=2026-10")
    assert element(past, "strong", "id", "card-template") == "Rep"  # explained by the template it was scored on
    assert element(own.page("/scorecards/mine?period=2026-11"), "strong", "id", "card-template") == "Lead"
    assert 'data-employee="R1"' in own.page("/scorecards/2026-09/R1")

    boss_then = Browser(app, "lead_east")
    for period in ("2026-09", "2026-10"):
        assert 'data-employee="R1"' in boss_then.page(f"/scorecards/{period}/R1")
    boss_then.page("/scorecards/2026-11/R1", 404)
    assert "R1" in team_codes(boss_then.page("/scorecards/team?period=2026-10"))
    assert "R1" not in team_codes(boss_then.page("/scorecards/team?period=2026-11"))

    boss_now = Browser(app, "lead_west")
    assert 'data-employee="R1"' in boss_now.page("/scorecards/2026-11/R1")
    boss_now.page("/scorecards/2026-10/R1", 404)

    for period in ("2026-09", "2026-10", "2026-11"):
        assert 'data-employee="R1"' in hr.page(f"/scorecards/{period}/R1")

    api = app.test_client()
    headers = {"Authorization": f"Bearer {issue_tokens(['rep1'], 'tests')['rep1']}"}
    cards = api.get("/api/v1/scorecards?employee=R1", headers=headers).json
    assert sorted((card["period"], card["template"]) for card in cards) == [
        ("2026-09", "rep"),
        ("2026-10", "rep"),
        ("2026-11", "lead"),
    ]
