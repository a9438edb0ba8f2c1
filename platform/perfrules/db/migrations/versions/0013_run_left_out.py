"""evaluation runs name the employees they left out: no template applies, or two apply equally

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


# plain ALTER TABLE, not a batch: SQLite adds and drops a column in place, where a batch would copy
# the table and drop the original, which the scorecards' foreign keys to it refuse
def upgrade() -> None:
    op.add_column(
        "evaluation_runs",
        sa.Column(
            "left_out", sa.JSON().with_variant(JSONB(), "postgresql"), server_default=sa.text("'[]'"), nullable=False
        ),
    )


def downgrade() -> None:
    op.drop_column("evaluation_runs", "left_out")
