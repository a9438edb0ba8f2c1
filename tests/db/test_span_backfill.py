"""The migration that keeps the organisation's history (0019) gives every active employee one open
span, where they work now, from their hire date (unknown: 1900-01-01), and those who left none."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from perfrules.db import make_engine
from perfrules.db.migrate import downgrade, upgrade

pytestmark = pytest.mark.database


def test_active_employees_get_one_open_span_and_those_who_left_none(database_url):
    engine = make_engine(database_url)
    try:
        upgrade(engine, "0018")
        with engine.begin() as connection:
            connection.execute(sa.text("INSERT INTO departments (id, code, label) VALUES (1, 'EAST', '{}')"))
            connection.execute(sa.text("INSERT INTO roles (id, code, label) VALUES (1, 'rep', '{}')"))
            connection.execute(
                sa.text(
                    "INSERT INTO employees (id, code, name, department_id, role_id, manager_id, hire_date, active, "
                    "attributes) VALUES (:id, :code, :code, 1, :role, :manager, :hired, :active, '{}')"
                ),
                [
                    {"id": 1, "code": "L1", "role": None, "manager": None, "hired": None, "active": True},
                    {"id": 2, "code": "R1", "role": 1, "manager": 1, "hired": dt.date(2024, 3, 1), "active": True},
                    {"id": 3, "code": "Q1", "role": 1, "manager": 1, "hired": dt.date(2020, 1, 1), "active": False},
                ],
            )
        upgrade(engine)
        with engine.connect() as connection:
            spans = connection.execute(
                sa.text(
                    "SELECT employee_id, starts_on, ends_on, department_id, manager_id, role_id "
                    "FROM employee_spans ORDER BY employee_id"
                )
            ).all()
        as_dates = [(row[0], str(row[1]), row[2], row[3], row[4], row[5]) for row in spans]
        assert as_dates == [(1, "1900-01-01", None, 1, None, None), (2, "2024-03-01", None, 1, 1, 1)]
        downgrade(engine, "0018")
        assert "employee_spans" not in sa.inspect(engine).get_table_names()
    finally:
        engine.dispose()
