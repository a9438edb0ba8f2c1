"""The template designer's blueprint and who may use it. The pages register themselves on `bp`
from their own modules (templates, submissions, KPIs, datasets)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("designer", __name__, url_prefix="/designer")

#: who may open the template designer (a manager only for their own part of the organisation)
DESIGNER_ROLES = ("admin", "hr", "manager")
#: who may change any template, KPI, dataset or flow, and publish
CONFIG_ROLES = ("admin", "hr")
