"""incentive pay: runs, lines (money in minor units) and the records credited

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(JSONB(), "postgresql")
BIG_KEY = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "pay_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=8), nullable=False),
        sa.Column("plan", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("version_number", sa.Integer(), nullable=False),
        sa.Column("version_hash", sa.String(length=64), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("counts", JSON, nullable=False),
        sa.Column("errors", JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pay_runs")),
    )
    op.create_index(op.f("ix_pay_runs_period"), "pay_runs", ["period"], unique=False)
    op.create_table(
        "pay_lines",
        sa.Column("id", BIG_KEY, nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=8), nullable=False),
        sa.Column("pay_period", sa.String(length=8), nullable=False),
        sa.Column("employee_id", sa.Integer(), nullable=False),
        sa.Column("plan", sa.String(length=64), nullable=False),
        sa.Column("component", sa.String(length=64), nullable=False),
        sa.Column("version_number", sa.Integer(), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("base_minor", sa.BigInteger(), nullable=True),
        sa.Column("rate", sa.String(length=40), nullable=True),
        sa.Column("source", JSON, nullable=False),
        sa.Column("explanation", JSON, nullable=False),
        sa.ForeignKeyConstraint(["employee_id"], ["employees.id"], name=op.f("fk_pay_lines_employee_id_employees")),
        sa.ForeignKeyConstraint(["run_id"], ["pay_runs.id"], name=op.f("fk_pay_lines_run_id_pay_runs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pay_lines")),
        sa.UniqueConstraint(
            "period", "plan", "component", "employee_id", name=op.f("uq_pay_lines_period_plan_component_employee_id")
        ),
    )
    op.create_index(op.f("ix_pay_lines_employee_id"), "pay_lines", ["employee_id"], unique=False)
    op.create_index(op.f("ix_pay_lines_run_id"), "pay_lines", ["run_id"], unique=False)
    op.create_table(
        "pay_credits",
        sa.Column("id", BIG_KEY, nullable=False),
        sa.Column("line_id", BIG_KEY, nullable=False),
        sa.Column("record_id", BIG_KEY, nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["line_id"], ["pay_lines.id"], name=op.f("fk_pay_credits_line_id_pay_lines"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["record_id"], ["records.id"], name=op.f("fk_pay_credits_record_id_records")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pay_credits")),
    )
    op.create_index(op.f("ix_pay_credits_line_id"), "pay_credits", ["line_id"], unique=False)
    op.create_index(op.f("ix_pay_credits_record_id"), "pay_credits", ["record_id"], unique=False)


def downgrade() -> None:
    op.drop_table("pay_credits")
    op.drop_table("pay_lines")
    op.drop_table("pay_runs")
