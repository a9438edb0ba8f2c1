"""The console's menu: each entry says who sees it. Entries whose page is not registered are left
out, so a blueprint adds its pages to the menu by being registered."""

from __future__ import annotations

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_login import current_user

#: (endpoint, text, roles that see it — empty: everyone signed in, needs an employee record)
MENU = [
    ("scorecards.mine", _l("My scorecards"), (), True),
    ("scorecards.team", _l("My team"), ("manager",), True),
    ("feedback.requests", _l("Feedback requests"), (), True),
    ("scorecards.company", _l("Company"), ("admin", "hr", "auditor"), False),
    ("scorecards.calibration", _l("Calibration"), ("admin", "hr", "auditor"), False),
    ("disputes.index", _l("Disputes"), ("admin", "hr", "auditor", "manager"), False),
    ("designer.templates", _l("Templates"), ("admin", "hr", "manager"), False),
    ("admin.index", _l("Console"), ("admin", "hr", "auditor"), False),
    ("api_docs.interactive", _l("API"), ("admin", "hr", "auditor"), False),
    ("delegations.index", _l("Delegations"), (), False),
    ("inbox.index", _l("Inbox"), (), False),
]


def nav_items() -> list[tuple[str, str, tuple]]:
    if not current_user.is_authenticated:
        return []
    endpoints = current_app.view_functions
    return [
        (endpoint, str(text), roles)
        for endpoint, text, roles, needs_employee in MENU
        if endpoint in endpoints
        and (not roles or current_user.has_role(*roles))
        and (not needs_employee or current_user.employee_id is not None)
    ]
