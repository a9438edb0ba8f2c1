"""The main menu, on every page (the console's included): each entry says who sees it. Entries
whose page is not registered are left out, so a blueprint adds its pages to the menu by being
registered."""

from __future__ import annotations

from typing import NamedTuple

from flask import current_app, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user

#: (endpoint, text, roles that see it — empty: everyone signed in, needs an employee record)
MENU = [
    ("scorecards.mine", _l("My scorecards"), (), True),
    ("scorecards.team", _l("My team"), ("manager",), True),
    ("feedback.requests", _l("Feedback requests"), (), True),
    ("pay_pages.mine", _l("My pay"), (), True),
    ("pay_pages.lines", _l("Pay lines"), ("manager", "admin", "hr", "auditor"), False),
    ("pay_pages.estimate", _l("What if"), (), False),
    ("pay_pages.awards", _l("Special awards"), ("manager", "admin", "hr", "auditor"), False),
    ("scorecards.company", _l("Company"), ("admin", "hr", "auditor"), False),
    ("scorecards.calibration", _l("Calibration"), ("admin", "hr", "auditor"), False),
    ("disputes.index", _l("Disputes"), ("admin", "hr", "auditor", "manager"), False),
    ("pay_pages.runs", _l("Pay runs"), ("admin", "hr", "auditor"), False),
    ("designer.templates", _l("Templates"), ("admin", "hr", "manager"), False),
    ("admin.index", _l("Console"), ("admin", "hr", "auditor"), False),
    ("api_docs.interactive", _l("API"), ("admin", "hr", "auditor"), False),
    ("delegations.index", _l("Delegations"), (), False),
    ("inbox.index", _l("Inbox"), (), False),
]

#: the entries that stand for a whole part of the site, by the path its pages are under: the designer
#: (its templates, KPIs, flows…) and the console (Flask-Admin's views, all under /admin/)
SECTIONS = {"designer.templates": "/designer/", "admin.index": "/admin/"}


class NavItem(NamedTuple):
    endpoint: str
    text: str
    roles: tuple

    @property
    def active(self) -> bool:
        """Whether the page shown is this entry's, or in the part of the site it stands for."""
        if request.endpoint == self.endpoint:
            return True
        prefix = SECTIONS.get(self.endpoint)
        return prefix is not None and (request.path + "/").startswith(prefix)


def nav_items() -> list[NavItem]:
    if not current_user.is_authenticated:
        return []
    endpoints = current_app.view_functions
    return [
        NavItem(endpoint, str(text), roles)
        for endpoint, text, roles, needs_employee in MENU
        if endpoint in endpoints
        and (not roles or current_user.has_role(*roles))
        and (not needs_employee or current_user.employee_id is not None)
    ]
