"""form responses: appraisal forms filled in for a scorecard

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "form_responses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=8), nullable=False),
        sa.Column("employee_id", sa.Integer(), nullable=False),
        sa.Column("form", sa.String(length=64), nullable=False),
        sa.Column("filled_by", sa.Integer(), nullable=False),
        sa.Column("values", JSON, nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["employee_id"], ["employees.id"], name=op.f("fk_form_responses_employee_id_employees")
        ),
        sa.ForeignKeyConstraint(["filled_by"], ["users.id"], name=op.f("fk_form_responses_filled_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_form_responses")),
        sa.UniqueConstraint("period", "employee_id", "form", name=op.f("uq_form_responses_period_employee_id_form")),
    )
    with op.batch_alter_table("form_responses", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_form_responses_employee_id"), ["employee_id"], unique=False)


def downgrade() -> None:
    op.drop_table("form_responses")
