"""Evaluation runs (评估运行): evaluate a period for everyone assigned a template, and make the
results visible all at once.

A run is recorded as `running` in its own transaction first. Its scorecards replace the period's
unlocked ones in one write transaction that also marks the run `succeeded`, so readers see either
the previous results or the new ones, never a mix. A run that raises is marked `failed`; a run
whose process was killed is marked `failed` by the next run on the same host (its pid is gone).
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeAlias, cast

import numpy as np
import orjson
import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from ..config.validation import Config
from ..db import begin_reading
from ..db.bulk import driver_insert, driver_timestamp
from ..formula import FunctionRegistry
from ..org.models import Department, Employee
from .events import ScorecardsReplaced, after_replacing, before_replacing
from .kpis import KpiPlan, PlanError, Timings, evaluate_period
from .models import EvaluationRun, ManualValue, Scorecard
from .people import People
from .periods import Period
from .scorecards import ScoreBook, ScorecardResult, rank, score_template
from .shapes import LeftOutEntry, RunCounts, RunErrorEntry, RunScope, RunScopeExtra, RunTimings
from .templates import assign_templates, left_out_of_scope

#: progress(step, done, total)
Progress = Callable[[str, int, int], None]
DELETE_CHUNK = 500
SCORECARD_COLUMNS = (
    "run_id",
    "period",
    "employee_id",
    "department_id",
    "reporting_line",
    "template",
    "version_number",
    "total",
    "grade",
    "rank_department",
    "rank_company",
    "error",
    "items",
    "locked",
    "created_at",
)


class RunError(Exception):
    """The run cannot start: what was asked is not possible (unknown template, department...)."""


class AlreadyClaimed(RunError):
    pass


@dataclass
class Evaluation:
    period: Period
    cards: list[ScorecardResult]
    #: the failed items and employees
    errors: list[RunErrorEntry]
    warnings: list[str]
    counts: RunCounts
    timings: RunTimings = field(default_factory=dict)
    #: the active employees in scope who got no scorecard because no template, or more than one
    #: equally, applies to them
    left_out: list[LeftOutEntry] = field(default_factory=list)
    #: employee id → their reporting line when scored (`People.reporting_line`)
    reporting_lines: dict[int, str] = field(default_factory=dict)


def check_scope(session: Session, config: Config, templates: list[str] | None, department: str | None) -> None:
    """RunError unless every template and the department named exist."""
    known_templates = config.get("templates", {})
    for slug in templates or []:
        if slug not in known_templates:
            raise RunError(f"unknown template '{slug}'")
    if department is not None and session.scalar(sa.select(Department.id).where(Department.code == department)) is None:
        raise RunError(f"unknown department '{department}'")


def evaluate(
    session: Session,
    config: Config,
    functions: FunctionRegistry,
    period: Period,
    *,
    templates: list[str] | None = None,
    department: str | None = None,
    progress: Progress | None = None,
) -> Evaluation:
    """Scorecards for everyone in scope, computed and not written."""
    began = time.perf_counter()
    check_scope(session, config, templates, department)
    known_templates = config.get("templates", {})
    people = People.load(session, period)
    in_scope: list[bool] = [True] * len(people)
    if department is not None:
        department_id = people.department_id_of(department)
        # check_scope found it; were it deleted since, nobody would be in its subtree
        in_scope = people.in_subtree(department_id).tolist() if department_id is not None else [False] * len(people)

    assigned, ties = assign_templates(config, people, period.cycle)
    left_out = left_out_of_scope(people, assigned, ties, in_scope, templates)
    errors: list[RunErrorEntry] = []
    due_now = {
        slug
        for slug, template in known_templates.items()
        if not template.get("cycles") or period.cycle in template["cycles"]
    }
    # (position, template) of everyone in scope on a template asked for
    chosen = [
        (p, slug)
        for p, slug in enumerate(assigned)
        if slug is not None and in_scope[p] and (not templates or slug in templates)
    ]
    due = [(p, slug) for p, slug in chosen if slug in due_now]
    positions = [p for p, _ in due]
    used = {slug for _, slug in due}
    kpi_slugs = sorted(
        {
            item["kpi"]
            for slug in used
            for section in known_templates[slug]["sections"]
            for item in section["items"]
            if item.get("kpi")
        }
    )
    try:
        plan = KpiPlan(config, functions)
        timings = Timings()
        values = evaluate_period(session, plan, people, period, kpi_slugs, timings)
    except PlanError as exc:
        raise RunError(str(exc)) from None
    manual = _manual_values(session, period)

    scoring_began = time.perf_counter()
    book = ScoreBook(plan, functions, values)
    cards: list[ScorecardResult] = []
    by_template: dict[str, list[int]] = {}
    for position, slug in due:
        by_template.setdefault(slug, []).append(position)
    done = 0
    for slug, members in by_template.items():
        try:
            scored = score_template(known_templates[slug], np.array(members, dtype=np.int64), people, book, manual)
        except Exception as exc:  # a template that cannot be scored must not stop the others
            errors.extend(
                {"employee": people.codes[p], "item": None, "message": f"template '{slug}' could not be scored: {exc}"}
                for p in members
            )
            continue
        for card in scored:
            failed_items = [item for item in card.items if item.get("error")]
            for item in failed_items:
                errors.append({"employee": card.employee, "item": item["key"], "message": item["error"]})
            if card.error and not failed_items:
                errors.append({"employee": card.employee, "item": None, "message": card.error})
        cards.extend(scored)
        done += len(members)
        if progress is not None:
            progress("score", done, len(positions))
    rank(cards)
    evaluate_seconds = timings.evaluate + time.perf_counter() - scoring_began
    counts: RunCounts = {
        "employees": len(positions),
        "scorecards": len(cards),
        "failed": sum(1 for c in cards if c.error) + len(positions) - len(cards),
        "other_cycle": len(chosen) - len(positions),
        "without_template": sum(1 for entry in left_out if entry["reason"] == "no_template"),
        "ambiguous": sum(1 for entry in left_out if entry["reason"] == "ambiguous"),
        "queries": timings.queries,
    }
    return Evaluation(
        period,
        cards,
        errors,
        values.warnings,
        counts,
        {
            "aggregate": round(timings.aggregate, 4),
            "evaluate": round(evaluate_seconds, 4),
            "total": round(time.perf_counter() - began, 4),
        },
        left_out,
        {card.employee_id: people.reporting_line(card.employee_id) for card in cards},
    )


def _manual_values(session: Session, period: Period) -> dict[tuple[int, str], float]:
    rows = session.execute(
        sa.select(ManualValue.employee_id, ManualValue.item, ManualValue.value).where(ManualValue.period == str(period))
    )
    return {(employee_id, item): value for employee_id, item, value in rows}


# --- runs that write ----------------------------------------------------------------------------


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def fail_abandoned_runs(session: Session) -> int:
    """Mark `running` runs of this host whose process is gone as failed; how many there were."""
    host = socket.gethostname()
    stale = [
        run
        for run in session.scalars(
            sa.select(EvaluationRun).where(EvaluationRun.status == "running", EvaluationRun.host == host)
        )
        if not _process_alive(run.pid)
    ]
    for run in stale:
        run.status = "failed"
        run.finished_at = _now()
        run.message = "the process running it stopped before it completed; its results were not kept"
    return len(stale)


def open_run(
    sessions: sessionmaker[Session],
    period: Period,
    *,
    version_number: int | None,
    version_hash: str | None,
    actor: str,
    templates: list[str] | None = None,
    department: str | None = None,
    schedule: str | None = None,
    claim: str | None = None,
    scope_extra: RunScopeExtra | None = None,
) -> EvaluationRun:
    """Record a run as `running` (its claim taken, when it has one), in a transaction of its own."""
    with sessions() as session, session.begin():
        fail_abandoned_runs(session)
        if claim is not None:
            taken = session.scalar(sa.select(EvaluationRun.id).where(EvaluationRun.claim == claim))
            if taken is not None:
                raise AlreadyClaimed(f"'{claim}' was already run (run {taken})")
        scope: RunScope = {"templates": templates or [], "department": department, **(scope_extra or {})}
        run = EvaluationRun(
            period=str(period),
            status="running",
            claim=claim,
            schedule=schedule,
            version_number=version_number,
            version_hash=version_hash,
            scope=scope,
            actor=actor,
            host=socket.gethostname(),
            pid=os.getpid(),
            started_at=_now(),
            counts={},
            timings={},
            errors=[],
        )
        session.add(run)
        try:
            session.flush()
        except sa.exc.IntegrityError:
            raise AlreadyClaimed(f"'{claim}' was already run") from None
    return run


def start_run(
    sessions: sessionmaker[Session],
    period: Period,
    config: Config,
    functions: FunctionRegistry,
    *,
    version_number: int | None,
    version_hash: str | None,
    actor: str,
    templates: list[str] | None = None,
    department: str | None = None,
    schedule: str | None = None,
    claim: str | None = None,
    scope_extra: RunScopeExtra | None = None,
    progress: Progress | None = None,
) -> tuple[EvaluationRun, Evaluation]:
    """Check what is asked, record a run, evaluate, and write its scorecards atomically.
    `sessions` must write."""
    with sessions() as session:
        check_scope(begin_reading(session), config, templates, department)
    run = open_run(
        sessions,
        period,
        version_number=version_number,
        version_hash=version_hash,
        actor=actor,
        templates=templates,
        department=department,
        schedule=schedule,
        claim=claim,
        scope_extra=scope_extra,
    )
    return complete_run(sessions, run, config, functions, progress=progress)


def complete_run(
    sessions: sessionmaker[Session],
    run: EvaluationRun,
    config: Config,
    functions: FunctionRegistry,
    *,
    progress: Progress | None = None,
) -> tuple[EvaluationRun, Evaluation]:
    """Evaluate an open run's scope and make its scorecards visible at once; a run that raises
    is marked failed, and the exception goes on."""
    period = Period.parse(run.period)
    templates, department = run.scope.get("templates") or None, run.scope.get("department")
    version_number = run.version_number
    try:
        with sessions() as session:
            evaluation = evaluate(
                begin_reading(session),
                config,
                functions,
                period,
                templates=templates,
                department=department,
                progress=progress,
            )
            session.rollback()
        with sessions() as session, session.begin():
            began = time.perf_counter()
            afterwards = before_replacing(session, str(period))
            skipped = _write_scorecards(
                session, run.id, period, evaluation, version_number, full=not templates and department is None
            )
            evaluation.timings["write"] = round(time.perf_counter() - began, 4)
            evaluation.timings["total"] = round(evaluation.timings["total"] + evaluation.timings["write"], 4)
            evaluation.counts["skipped_locked"] = skipped
            finished = session.get_one(EvaluationRun, run.id)
            finished.status = "succeeded"
            finished.finished_at = _now()
            finished.timings = evaluation.timings
            finished.left_out = evaluation.left_out
            finished.errors = evaluation.errors + [
                {"employee": None, "item": None, "message": w} for w in evaluation.warnings
            ]
            # what builds on scorecards (the approval flow) follows them in the same transaction
            began = time.perf_counter()
            replaced = ScorecardsReplaced(session, str(period), run.id, run.actor, functions)
            evaluation.counts.update(after_replacing(afterwards, replaced))
            finished.counts = dict(evaluation.counts)
            evaluation.timings["reviews"] = round(time.perf_counter() - began, 4)
            evaluation.timings["total"] = round(evaluation.timings["total"] + evaluation.timings["reviews"], 4)
        return finished, evaluation
    except BaseException as exc:
        with sessions() as session, session.begin():
            failed = session.get_one(EvaluationRun, run.id)
            failed.status = "failed"
            failed.finished_at = _now()
            failed.message = str(exc) or type(exc).__name__
        raise


def _write_scorecards(
    session: Session, run_id: int, period: Period, evaluation: Evaluation, version_number: int | None, full: bool
) -> int:
    """Replace the period's unlocked scorecards of the evaluated employees; the number of
    employees left alone because their scorecard is locked."""
    key = str(period)
    locked = set(
        session.scalars(sa.select(Scorecard.employee_id).where(Scorecard.period == key, Scorecard.locked.is_(True)))
    )
    unlocked_here = sa.and_(Scorecard.period == key, Scorecard.locked.is_(False))
    if full:
        session.execute(sa.delete(Scorecard).where(unlocked_here))
    else:
        ids = [card.employee_id for card in evaluation.cards]
        for start in range(0, len(ids), DELETE_CHUNK):
            session.execute(
                sa.delete(Scorecard).where(unlocked_here, Scorecard.employee_id.in_(ids[start : start + DELETE_CHUNK]))
            )
    connection = session.connection()
    created = driver_timestamp(connection, _now())
    driver_insert(
        connection,
        Scorecard.__tablename__,
        SCORECARD_COLUMNS,
        (
            (
                run_id,
                key,
                card.employee_id,
                card.department_id,
                evaluation.reporting_lines[card.employee_id],
                card.template,
                version_number,
                card.total,
                card.grade,
                card.rank_department,
                card.rank_company,
                card.error,
                orjson.dumps(card.items).decode(),
                False,
                created,
            )
            for card in evaluation.cards
            if card.employee_id not in locked
        ),
    )
    if locked or not full:
        rerank(session, key)
    return sum(1 for card in evaluation.cards if card.employee_id in locked)


#: a stored scorecard's (id, template, department id, total, employee code, ranks, locked)
_StoredRanks: TypeAlias = sa.Row[int, str, int, float | None, str, int | None, int | None, bool]


@dataclass
class _Reranked:
    """A stored scorecard being ranked again, with its new ranks."""

    row: _StoredRanks
    employee: str
    template: str
    department_id: int
    total: float | None
    rank_department: int | None = None
    rank_company: int | None = None


def rerank(session: Session, period: str) -> None:
    """Ranks over every scorecard of the period, for when a run replaced only some of them."""
    rows = session.execute(
        sa.select(
            Scorecard.id,
            Scorecard.template,
            Scorecard.department_id,
            Scorecard.total,
            Employee.code,
            Scorecard.rank_department,
            Scorecard.rank_company,
            Scorecard.locked,
        )
        .join(Employee, Employee.id == Scorecard.employee_id)
        .where(Scorecard.period == period)
    ).all()
    cards = [_Reranked(row, row.code, row.template, row.department_id, row.total) for row in rows]
    rank(cards)
    changes = [
        {"card_id": c.row.id, "rank_department": c.rank_department, "rank_company": c.rank_company}
        for c in cards
        if not c.row.locked and (c.row.rank_department, c.row.rank_company) != (c.rank_department, c.rank_company)
    ]
    if changes:
        table = cast(sa.Table, Scorecard.__table__)  # a declarative class's table is a Table
        session.connection().execute(
            sa.update(table)
            .where(table.c.id == sa.bindparam("card_id"))
            .values(rank_department=sa.bindparam("rank_department"), rank_company=sa.bindparam("rank_company")),
            changes,
        )
