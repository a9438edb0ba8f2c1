"""The scorecard lifecycle (审批流): a computed scorecard goes through its template's approval
flow — steps stored as configuration — to approved, then locked.

The workflow builds on the engine and the engine knows nothing of it: importing this package
subscribes the workflow to the engine's runs (`engine.events`), so that every run that writes
scorecards opens their reviews and withdraws approvals whose numbers changed.
"""

from ..engine.events import on_scorecards_replaced
from .reruns import follow_run

on_scorecards_replaced(follow_run)
