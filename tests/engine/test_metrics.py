"""Metrics: every aggregate, window and scope, computed in grouped queries whose number does not
grow with the number of employees."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
import sqlalchemy as sa

from perfrules.config.versions import resolve
from perfrules.data.models import Record
from perfrules.engine.metrics import MetricStats, compute_metrics, metric_specs
from perfrules.engine.people import People
from perfrules.engine.periods import Period
from perfrules.formula import builtin_functions
from perfrules.org.history import start_history
from perfrules.org.models import Employee

pytestmark = pytest.mark.database

EXTRA = {
    "won_avg": {"aggregate": "avg", "field": "amount", "filter": "status == 'won'"},
    "won_min": {"aggregate": "min", "field": "amount", "filter": "status == 'won'"},
    "won_max": {"aggregate": "max", "field": "amount", "filter": "status == 'won'"},
    "customers": {"aggregate": "count_distinct", "field": "customer"},
    "all_deals": {"aggregate": "count"},
    "sales_prev": {"aggregate": "sum", "field": "amount", "filter": "status == 'won'", "window": "previous"},
    "sales_ytd": {"aggregate": "sum", "field": "amount", "filter": "status == 'won'", "window": "ytd"},
    "sales_3m": {"aggregate": "sum", "field": "amount", "filter": "status == 'won'", "window": "trailing", "months": 3},
    "sales_last_year": {"aggregate": "sum", "field": "amount", "filter": "status == 'won'", "window": "last_year"},
    "team_avg": {"aggregate": "avg", "field": "amount", "filter": "status == 'won'", "scope": "team"},
    "team_customers": {"aggregate": "count_distinct", "field": "customer", "scope": "team"},
    "team_max": {"aggregate": "max", "field": "amount", "scope": "team"},
    "dept_sales": {"aggregate": "sum", "field": "amount", "filter": "status == 'won'", "scope": "department"},
}


def metrics_config(session):
    config = resolve(session, "latest").config
    metrics = dict(config["metrics"])
    for slug, spec in EXTRA.items():
        metrics[slug] = {
            "slug": slug,
            "label": {"zh": slug, "en": slug},
            "dataset": "deals",
            "window": "period",
            "scope": "self",
            **spec,
        }
    return {**config, "metrics": metrics}


def compute(session, config, period="2026-10", slugs=None):
    people = People.load(session, Period.parse(period))
    specs = metric_specs(config, builtin_functions())
    stats = MetricStats()
    values = compute_metrics(session, config, specs, slugs or sorted(specs), people, Period.parse(period), stats)
    by_code = {slug: dict(zip(people.codes, column.tolist())) for slug, column in values.items()}
    return by_code, stats


def test_aggregates_windows_and_scopes(company, session):
    values, stats = compute(session, metrics_config(session))
    assert values["sales"] == {"L1": 0, "R1": 24000, "R2": 6000, "R3": 0, "R4": 30000}
    assert values["deals_won"]["R1"] == 2 and values["deals_lost"]["R2"] == 3 and values["all_deals"]["R2"] == 4
    assert values["won_avg"]["R1"] == 12000 and np.isnan(values["won_avg"]["R3"])  # no deals: no average
    assert (values["won_min"]["R1"], values["won_max"]["R1"]) == (9000, 15000)
    assert values["customers"] == {"L1": 0, "R1": 2, "R2": 2, "R3": 0, "R4": 1}
    assert values["sales_prev"] == {"L1": 0, "R1": 12000, "R2": 0, "R3": 7000, "R4": 10000}
    assert values["sales_ytd"]["R4"] == 40000 and values["sales_3m"]["R1"] == 36000
    assert values["sales_last_year"]["R1"] == 0
    # team: the employee and everyone below them; R3 leads R4
    assert values["team_sales"] == {"L1": 30000, "R1": 24000, "R2": 6000, "R3": 30000, "R4": 30000}
    assert values["team_avg"]["L1"] == 10000  # (15,000 + 9,000 + 6,000) / 3, not an average of averages
    assert values["team_customers"]["L1"] == 3  # A, B (R1 and R2 both) and C
    assert values["team_max"]["L1"] == 15000 and values["team_max"]["R3"] == 30000
    # department: everyone in the employee's department and below it
    assert values["dept_sales"] == {"L1": 30000, "R1": 30000, "R2": 30000, "R3": 30000, "R4": 30000}
    # one query per dataset and window, plus one for the team count_distinct
    assert stats.queries == 6


def test_the_number_of_queries_does_not_grow_with_employees(company, session, db_engine):
    config = metrics_config(session)
    statements = []
    sa.event.listen(
        db_engine,
        "before_cursor_execute",
        lambda *args: statements.append(args[2]) if args[2].startswith("SELECT") else None,
    )
    compute(session, config)
    few = len(statements)

    writer = sa.orm.sessionmaker(db_engine)
    with writer() as s, s.begin():
        east = s.scalar(sa.select(Employee.department_id).where(Employee.code == "R1"))
        newcomers = [
            Employee(code=f"X{n:03d}", name=f"X{n}", department_id=east, active=True, attributes={}) for n in range(200)
        ]
        s.add_all(newcomers)
        s.flush()
        for newcomer in newcomers:
            start_history(s, newcomer)
        new_ids = s.scalars(sa.select(Employee.id).where(Employee.code.like("X%"))).all()
        s.execute(
            sa.insert(Record),
            [
                {
                    "dataset": "deals",
                    "external_id": f"X{i}",
                    "owner_id": employee_id,
                    "occurred_on": dt.date(2026, 10, 2),
                    "values": {"amount": 10.0, "status": "won", "customer": "Z"},
                }
                for i, employee_id in enumerate(new_ids)
            ],
        )
    session.rollback()  # a fresh read transaction sees the new employees
    statements.clear()
    values, _ = compute(session, config)
    assert len(statements) == few
    assert values["sales"]["X007"] == 10 and values["dept_sales"]["R1"] == 32000
