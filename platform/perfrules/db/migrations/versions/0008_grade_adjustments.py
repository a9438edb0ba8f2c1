"""grade adjustments: calibration (校准) of scorecard grades

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "grade_adjustments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=8), nullable=False),
        sa.Column("employee_id", sa.Integer(), nullable=False),
        sa.Column("computed_grade", sa.String(length=8), nullable=True),
        sa.Column("adjusted_grade", sa.String(length=8), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("adjusted_by", sa.String(length=64), nullable=False),
        sa.Column("adjusted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["employee_id"], ["employees.id"], name=op.f("fk_grade_adjustments_employee_id_employees")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grade_adjustments")),
        sa.UniqueConstraint("period", "employee_id", name=op.f("uq_grade_adjustments_period_employee_id")),
    )
    with op.batch_alter_table("grade_adjustments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_grade_adjustments_employee_id"), ["employee_id"], unique=False)


def downgrade() -> None:
    op.drop_table("grade_adjustments")
