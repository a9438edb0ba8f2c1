"""employment spans: the organisation kept with its history (department, manager, role by date)

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-03
"""

import datetime as dt

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

#: the first day of an employee's span when their hire date is unknown: before any record
FAR_PAST = dt.date(1900, 1, 1)


# A new table only, so no batch mode (none of the tables employee_spans points at is rebuilt).
# Backfill: one open span per active employee, in their current department, under their current
# manager, in their current role, from their hire date (or FAR_PAST when unknown), so that every
# period, past ones included, is scored with the organisation it was scored with until now.
# Inactive employees get no span: when they left was never kept, and the engine has so far left
# them out of every period, rerun past ones included; any date we chose would put them back into
# periods whose scorecards were computed without them.
def upgrade() -> None:
    op.create_table(
        "employee_spans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("employee_id", sa.Integer(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("manager_id", sa.Integer(), nullable=True),
        sa.Column("role_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["department_id"], ["departments.id"], name=op.f("fk_employee_spans_department_id_departments")
        ),
        sa.ForeignKeyConstraint(
            ["employee_id"],
            ["employees.id"],
            name=op.f("fk_employee_spans_employee_id_employees"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["manager_id"], ["employees.id"], name=op.f("fk_employee_spans_manager_id_employees")),
        sa.ForeignKeyConstraint(["role_id"], ["roles.id"], name=op.f("fk_employee_spans_role_id_roles")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_employee_spans")),
        sa.UniqueConstraint("employee_id", "starts_on", name=op.f("uq_employee_spans_employee_id_starts_on")),
    )
    op.create_index(op.f("ix_employee_spans_department_id"), "employee_spans", ["department_id"], unique=False)
    op.create_index(op.f("ix_employee_spans_employee_id"), "employee_spans", ["employee_id"], unique=False)
    op.create_index(op.f("ix_employee_spans_manager_id"), "employee_spans", ["manager_id"], unique=False)
    op.create_index(op.f("ix_employee_spans_role_id"), "employee_spans", ["role_id"], unique=False)
    op.execute(
        sa.text(
            "INSERT INTO employee_spans (employee_id, starts_on, ends_on, department_id, manager_id, role_id) "
            "SELECT id, COALESCE(hire_date, :far_past), NULL, department_id, manager_id, role_id "
            "FROM employees WHERE active"
        ).bindparams(sa.bindparam("far_past", FAR_PAST, type_=sa.Date()))
    )


def downgrade() -> None:
    op.drop_table("employee_spans")
