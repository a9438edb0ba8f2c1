"""Scorecard pages (绩效考核表): an employee's own scorecards explained item by item, any one
scorecard the user may see, a manager's team table, and the company summary by department.

Who sees what is decided by `org.access.visibility` and applied in every query: employees see
their own, managers their department and the departments below it, HR, admins and auditors
everyone. A scorecard that is not there and one that is not yours to see are the same 404.

The pages are split by what they show (card.py with its review_panel.py and forms_panel.py,
team.py, company.py, calibration.py); each registers its routes on the one blueprint of
blueprint.py, and importing them here is what puts those routes on it.
"""

from __future__ import annotations

from . import calibration, card, company, team  # noqa: F401  (see the docstring)
from .blueprint import bp

__all__ = ["bp"]
