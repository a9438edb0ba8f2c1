"""evaluation runs, scorecards, manual values

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
BIGINT_KEY = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "evaluation_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("claim", sa.String(length=200), nullable=True),
        sa.Column("schedule", sa.String(length=64), nullable=True),
        sa.Column("version_number", sa.Integer(), nullable=True),
        sa.Column("version_hash", sa.String(length=64), nullable=True),
        sa.Column("scope", JSON, nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("counts", JSON, nullable=False),
        sa.Column("timings", JSON, nullable=False),
        sa.Column("errors", JSON, nullable=False),
        sa.Column("message", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluation_runs")),
        sa.UniqueConstraint("claim", name=op.f("uq_evaluation_runs_claim")),
    )
    with op.batch_alter_table("evaluation_runs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_evaluation_runs_period"), ["period"], unique=False)

    op.create_table(
        "manual_values",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=8), nullable=False),
        sa.Column("employee_id", sa.Integer(), nullable=False),
        sa.Column("item", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["employee_id"], ["employees.id"], name=op.f("fk_manual_values_employee_id_employees")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_manual_values")),
        sa.UniqueConstraint("period", "employee_id", "item", name=op.f("uq_manual_values_period_employee_id_item")),
    )
    with op.batch_alter_table("manual_values", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_manual_values_employee_id"), ["employee_id"], unique=False)

    op.create_table(
        "scorecards",
        sa.Column("id", BIGINT_KEY, nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=8), nullable=False),
        sa.Column("employee_id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("template", sa.String(length=64), nullable=False),
        sa.Column("version_number", sa.Integer(), nullable=True),
        sa.Column("total", sa.Float(), nullable=True),
        sa.Column("grade", sa.String(length=8), nullable=True),
        sa.Column("rank_department", sa.Integer(), nullable=True),
        sa.Column("rank_company", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("items", JSON, nullable=False),
        sa.Column("locked", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["department_id"], ["departments.id"], name=op.f("fk_scorecards_department_id_departments")
        ),
        sa.ForeignKeyConstraint(["employee_id"], ["employees.id"], name=op.f("fk_scorecards_employee_id_employees")),
        sa.ForeignKeyConstraint(["run_id"], ["evaluation_runs.id"], name=op.f("fk_scorecards_run_id_evaluation_runs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scorecards")),
        sa.UniqueConstraint("period", "employee_id", name=op.f("uq_scorecards_period_employee_id")),
    )
    with op.batch_alter_table("scorecards", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_scorecards_department_id"), ["department_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_scorecards_employee_id"), ["employee_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_scorecards_run_id"), ["run_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("scorecards", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_scorecards_run_id"))
        batch_op.drop_index(batch_op.f("ix_scorecards_employee_id"))
        batch_op.drop_index(batch_op.f("ix_scorecards_department_id"))

    op.drop_table("scorecards")
    with op.batch_alter_table("manual_values", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_manual_values_employee_id"))

    op.drop_table("manual_values")
    with op.batch_alter_table("evaluation_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_evaluation_runs_period"))

    op.drop_table("evaluation_runs")
