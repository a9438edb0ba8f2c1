"""scorecards keep the employee's reporting line when scored, so managers see their reports' only

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def _lines(connection) -> dict[int, str]:
    """Every employee's managers up the chain as "/7/3/", as the engine writes it from now on."""
    managers = dict(connection.execute(sa.text("SELECT id, manager_id FROM employees")).all())
    lines = {}
    for employee in managers:
        line, seen, current = [], {employee}, managers[employee]
        while current is not None and current not in seen:
            seen.add(current)
            line.append(current)
            current = managers.get(current)
        lines[employee] = "/" + "".join(f"{manager}/" for manager in line)
    return lines


# plain ALTER TABLE, not a batch: SQLite adds a column in place, where a batch would copy the
# table and drop the original. Scorecards already stored get today's reporting line: the best
# there is, as the lines of the past were not kept.
def upgrade() -> None:
    op.add_column("scorecards", sa.Column("reporting_line", sa.Text(), server_default="/", nullable=False))
    connection = op.get_bind()
    with_managers = [
        {"employee": employee, "line": line} for employee, line in _lines(connection).items() if line != "/"
    ]
    if with_managers:
        connection.execute(
            sa.text("UPDATE scorecards SET reporting_line = :line WHERE employee_id = :employee"), with_managers
        )


def downgrade() -> None:
    op.drop_column("scorecards", "reporting_line")
