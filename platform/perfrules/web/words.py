"""The words people read for the codes the platform keeps: the states of reviews, forms, peer
feedback, disputes, delegations, template submissions and runs, the actions taken on a review,
the kinds of configuration, cycles, and the parts of incentive plans — in the reader's language,
from this one place for every page.

Pages use the `word` filter (`{{ review.state|word('review_state') }}`), code the `word`
function. A code without a word (a state added later) is shown as it is rather than hidden.
Approval steps are named by their flow's configuration, `{zh, en}` labels shown with the
`label` filter (`step_name` here for code).
"""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from ..workflow.form_offers import FORM_ADDED
from ..workflow.reruns import RECOMPUTED
from .i18n import label

WORDS = {
    #: a review (`workflow.models.REVIEW_STATES`); under review, a page names the step instead
    "review_state": {"in_review": _l("Under review"), "approved": _l("Approved"), "locked": _l("Locked")},
    #: what was done to a review: people's actions (`workflow.engine.ACTIONS`) and the system's
    "action": {
        "approve": _l("Approve"),
        "reject": _l("Reject"),
        "return": _l("Return to the employee"),
        "lock": _l("Lock"),
        "reopen": _l("Reopen"),
        RECOMPUTED: _l("Sent back: the numbers changed"),
        FORM_ADDED: _l("Sent back: a form was added"),
    },
    #: an appraisal form's response (`workflow.models.FORM_STATES`)
    "form_state": {"draft": _l("Draft"), "submitted": _l("Submitted")},
    #: a peer feedback request as those who ask see it (`workflow.feedback_models.FEEDBACK_STATES`)
    "feedback_state": {
        "proposed": _l("Proposed"),
        "requested": _l("Asked"),
        "draft": _l("Draft"),
        "submitted": _l("Submitted"),
        "declined": _l("Declined"),
    },
    #: a peer feedback request as the colleague asked sees it (`closed`: no longer answerable)
    "answer_state": {
        "requested": _l("To answer"),
        "draft": _l("Draft"),
        "submitted": _l("Submitted"),
        "declined": _l("Declined"),
        "closed": _l("Closed"),
    },
    #: a dispute (`workflow.dispute_models.DISPUTE_STATES`) and whom it is routed to
    "dispute_state": {
        "open": _l("Awaiting a decision"),
        "accepted": _l("Accepted"),
        "rejected": _l("Rejected"),
        "withdrawn": _l("Withdrawn"),
    },
    "dispute_route": {"manager": _l("the manager"), "hr": _l("HR")},
    #: a delegation, by its dates (`workflow.delegations`)
    "delegation_status": {"upcoming": _l("Upcoming"), "current": _l("In force"), "over": _l("Ended")},
    #: a template's way to publication (`config.submissions.STATES`)
    "submission_state": {
        "draft": _l("Draft"),
        "submitted": _l("Submitted"),
        "published": _l("Published"),
        "returned": _l("Returned"),
    },
    #: an evaluation run (`engine.models.RUN_STATUSES`)
    #: what a user may do (`org.models.USER_ROLES`), as the menu bar names who is signed in
    "user_role": {
        "admin": _l("Administrator"),
        "hr": _l("HR"),
        "manager": _l("Manager"),
        "employee": _l("Employee"),
        "auditor": _l("Auditor"),
    },
    "run_status": {"running": _l("Running"), "succeeded": _l("Succeeded"), "failed": _l("Failed")},
    #: the kinds of configuration (`config.schemas.KINDS`)
    "config_kind": {
        "datasets": _l("Datasets"),
        "employee_attributes": _l("Employee attributes"),
        "forms": _l("Forms"),
        "metrics": _l("Metrics"),
        "kpis": _l("KPIs"),
        "targets": _l("Targets"),
        "approval_flows": _l("Approval flows"),
        "templates": _l("Templates"),
        "schedules": _l("Schedules"),
        "plans": _l("Incentive plans"),
    },
    #: how often something is done or paid (`config.schemas.CYCLES`)
    "cycle": {
        "monthly": _l("monthly"),
        "quarterly": _l("quarterly"),
        "half_yearly": _l("half-yearly"),
        "yearly": _l("yearly"),
    },
    #: what an incentive plan's component pays on (`config.plan_schemas.RULES_OF_BASE`)
    "base_kind": {
        "records": _l("the records of a dataset"),
        "metric": _l("a metric and its target"),
        "scorecard": _l("the scorecards of a template"),
    },
    #: how a component's pay is worked out (`config.plan_schemas.RULE_KEYS`)
    "rule_kind": {
        "flat": _l("a percentage of the base"),
        "rate_table": _l("a percentage by a field's value"),
        "tiered": _l("tiered percentages"),
        "attainment": _l("a bonus by how much of the target was reached"),
        "over_target": _l("a percentage of what exceeds the target"),
        "grade": _l("an amount by grade"),
        "floating": _l("floating pay against the average score"),
    },
    #: what a pay line is (`pay.models.LINE_KINDS`); an earned line is named by its component alone
    "pay_line_kind": {
        "earned": _l("earned"),
        "clawback": _l("taken back on a refund"),
        "hold": _l("held back"),
        "release": _l("held back earlier, paid out"),
        "award": _l("award"),
        "draw": _l("draw (recoverable)"),
        "guarantee": _l("guarantee"),
        "recovery": _l("draw recovered"),
        "carried_in": _l("carried in from earlier months"),
        "carried_out": _l("carried to next month"),
    },
    #: a special award (`pay.models.AWARD_STATUSES`)
    "award_status": {
        "requested": _l("Waiting for approval"),
        "approved": _l("Approved"),
        "rejected": _l("Rejected"),
        "withdrawn": _l("Withdrawn"),
    },
    #: how tiers apply (`config.plan_schemas.Rule`)
    "tier_mode": {
        "marginal": _l("marginal: each slice at its tier's percentage"),
        "retroactive": _l("retroactive: all of it at the percentage of the tier reached"),
    },
    #: how floating pay follows the score (`config.plan_schemas.Rule`)
    "floating_mode": {
        "relative": _l("relative: the amount × score ÷ average"),
        "points": _l("points: the amount × (1 + (score − average) ÷ 100)"),
    },
    #: whose scores floating pay is averaged over (`config.plan_schemas.Rule`)
    "average_scope": {
        "team": _l("the team"),
        "department": _l("the department"),
        "company": _l("the company"),
    },
}


def word(code: str | None, group: str) -> str:
    """The word for `code` among `group`'s, in the reader's language; the code itself when it
    has none ('' for None)."""
    if code is None:
        return ""
    found = WORDS[group].get(code)
    return str(found) if found is not None else code


def step_name(step: dict | None, name: str | None = None) -> str:
    """An approval step as people read it: its label in the reader's language, else its name."""
    return label((step or {}).get("label")) or (step or {}).get("name") or name or ""


def init_app(app: Flask) -> None:
    app.jinja_env.filters["word"] = word
