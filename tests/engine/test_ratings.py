"""Importing manual item values (ratings): every bad row explained, nothing half-imported, audited."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from perfrules.audit import AuditEntry
from perfrules.engine.models import ManualValue

from ..helpers import run_cli, write

pytestmark = pytest.mark.database


def test_bad_rating_rows_are_explained_and_nothing_is_imported(company, session, tmp_path):
    path = write(
        tmp_path,
        "bad.csv",
        """
        employee,period,item,value
        R1,2026-10,rating,95
        R9,2026-10,rating,80
        R2,2026-13,rating,80
        R2,2026-10,ratng,80
        R2,2026-10,attitude,80
        R3,2026-10,rating,150
        R1,2026-10,rating,60
    """,
    )
    result = run_cli("ratings", "import", path)
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "error: bad.csv: row 3, employee: unknown employee 'R9'",
        "error: bad.csv: row 4, period: '2026-13' is not a period: use 2026-10, 2026-Q4, 2026-H2 or 2026",
        "error: bad.csv: row 5, item: no template has a manual item 'ratng' — did you mean 'rating'?",
        "error: bad.csv: row 6, item: no template has a manual item 'attitude' (manual items: rating)",
        "error: bad.csv: row 7, value: 150 is outside 0–100 points",
        "error: bad.csv: row 8, item: the same employee, period and item as row 2",
    ]
    session.rollback()
    assert sorted(session.scalars(sa.select(ManualValue.value))) == [70, 80, 90]  # the scenario's, untouched


def test_a_ratings_import_is_audited_with_what_changed(company, session, tmp_path):
    path = write(tmp_path, "ratings.csv", "employee,period,item,value\nR1,2026-10,rating,85\nR3,2026-10,rating,90\n")
    assert run_cli("ratings", "import", path).exit_code == 0
    session.rollback()
    entries = session.scalars(
        sa.select(AuditEntry).where(AuditEntry.action == "ratings.import").order_by(AuditEntry.id)
    ).all()
    assert entries[-1].after == {
        "changed": [{"employee": "R1", "period": "2026-10", "item": "rating", "value": 85.0, "before": 80.0}]
    }  # R3 already had 90
    count = len(entries)
    assert run_cli("ratings", "import", path).exit_code == 0  # nothing changes, nothing to audit
    session.rollback()
    assert (
        session.scalar(sa.select(sa.func.count()).select_from(AuditEntry).where(AuditEntry.action == "ratings.import"))
        == count
    )
