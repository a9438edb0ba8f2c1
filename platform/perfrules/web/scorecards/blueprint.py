"""The scorecard pages' blueprint and who sees every scorecard. The pages register themselves on
`bp` from their own modules (one scorecard, its review and forms, the team table, the company
summary, calibration)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("scorecards", __name__, url_prefix="/scorecards")

#: who sees every scorecard (managers see their department subtree, employees their own)
SEE_ALL = ("admin", "hr", "auditor")
