"""The template designer's blueprint and who may use it. The pages register themselves on `bp`
from their own modules (templates, submissions, KPIs, datasets)."""

from __future__ import annotations

from flask import Blueprint

from ...config.permissions import CONFIG_ROLES, DESIGNER_ROLES

__all__ = ["CONFIG_ROLES", "DESIGNER_ROLES", "bp"]

bp = Blueprint("designer", __name__, url_prefix="/designer")
