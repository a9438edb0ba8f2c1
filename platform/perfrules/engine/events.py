"""What the engine announces: a run is about to replace a period's scorecards, and has replaced
them. The engine does not know who listens; the packages that build on it subscribe (the
workflow opens reviews for new scorecards and withdraws approvals whose numbers changed).

A listener is called inside the run's write transaction, before the scorecards are replaced, so
it can read what it will compare against; it returns the function to call once they are
replaced, in the same transaction, which returns counts to record on the run
(`{"reviews_opened": 12}`). Both happen, or neither does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from sqlalchemy.orm import Session

from ..formula import FunctionRegistry


@dataclass(frozen=True)
class ScorecardsReplaced:
    """What listeners are told once a run has written its scorecards."""

    session: Session
    period: str
    run_id: int
    actor: str
    functions: FunctionRegistry


AfterReplace = Callable[[ScorecardsReplaced], Mapping[str, int]]
RunListener = Callable[[Session, str], AfterReplace]

_listeners: list[RunListener] = []


def on_scorecards_replaced(listener: RunListener) -> RunListener:
    """Subscribe `listener(session, period)` to every run that writes scorecards (idempotent)."""
    if listener not in _listeners:
        _listeners.append(listener)
    return listener


def before_replacing(session: Session, period: str) -> list[AfterReplace]:
    """Tell the listeners the period's scorecards are about to be replaced; what to call after."""
    return [listener(session, period) for listener in _listeners]


def after_replacing(afterwards: list[AfterReplace], event: ScorecardsReplaced) -> dict[str, int]:
    """Tell the listeners the scorecards are replaced; the counts they report, added together."""
    counts: dict[str, int] = {}
    for after in afterwards:
        for key, value in after(event).items():
            counts[key] = counts.get(key, 0) + value
    return counts
