"""pay ledger: line kinds (clawbacks, holds, draws, carried amounts), their links, manual awards

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

BIG_KEY = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


UNIQUE = "uq_pay_lines_period_plan_component_employee_id_kind_reference"
LINE_COLUMNS = (
    "id, run_id, period, pay_period, employee_id, plan, component, version_number, amount_minor, currency, "
    "base_minor, rate, source, explanation"
)


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_lines_on_sqlite(ledger=True)
    else:
        op.add_column("pay_lines", sa.Column("kind", sa.String(length=16), nullable=False, server_default="earned"))
        op.add_column("pay_lines", sa.Column("reference", sa.String(length=40), nullable=False, server_default=""))
        op.add_column("pay_lines", sa.Column("original_line_id", BIG_KEY, nullable=True))
        op.create_foreign_key(
            op.f("fk_pay_lines_original_line_id_pay_lines"), "pay_lines", "pay_lines", ["original_line_id"], ["id"]
        )
        op.drop_constraint(op.f("uq_pay_lines_period_plan_component_employee_id"), "pay_lines", type_="unique")
        op.create_unique_constraint(
            UNIQUE, "pay_lines", ["period", "plan", "component", "employee_id", "kind", "reference"]
        )
    op.create_index(op.f("ix_pay_lines_original_line_id"), "pay_lines", ["original_line_id"], unique=False)
    op.create_table(
        "pay_awards",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("employee_id", sa.Integer(), nullable=False),
        sa.Column("plan", sa.String(length=64), nullable=False),
        sa.Column("component", sa.String(length=64), nullable=False),
        sa.Column("period", sa.String(length=8), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("requested_by", sa.String(length=64), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_note", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(["employee_id"], ["employees.id"], name=op.f("fk_pay_awards_employee_id_employees")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pay_awards")),
    )
    op.create_index(op.f("ix_pay_awards_employee_id"), "pay_awards", ["employee_id"], unique=False)
    op.create_index(op.f("ix_pay_awards_period"), "pay_awards", ["period"], unique=False)


def _rebuild_lines_on_sqlite(ledger: bool) -> None:
    """SQLite keeps a table's unique key in its definition, so the lines table is built anew.
    The credits refer to the lines with ON DELETE CASCADE, and dropping a table deletes its rows
    first: so the credits are copied to a table that refers to the new lines before the old
    tables go, and renaming the new lines table carries that reference along."""
    op.create_table(
        "pay_lines_new",
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
        sa.Column("source", sa.JSON(), nullable=False),
        sa.Column("explanation", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["employee_id"], ["employees.id"], name=op.f("fk_pay_lines_employee_id_employees")),
        sa.ForeignKeyConstraint(["run_id"], ["pay_runs.id"], name=op.f("fk_pay_lines_run_id_pay_runs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pay_lines")),
        *(
            (
                sa.Column("kind", sa.String(length=16), nullable=False, server_default="earned"),
                sa.Column("reference", sa.String(length=40), nullable=False, server_default=""),
                sa.Column("original_line_id", BIG_KEY, nullable=True),
                sa.ForeignKeyConstraint(
                    ["original_line_id"], ["pay_lines.id"], name=op.f("fk_pay_lines_original_line_id_pay_lines")
                ),
                sa.UniqueConstraint("period", "plan", "component", "employee_id", "kind", "reference", name=UNIQUE),
            )
            if ledger
            else (
                sa.UniqueConstraint(
                    "period",
                    "plan",
                    "component",
                    "employee_id",
                    name=op.f("uq_pay_lines_period_plan_component_employee_id"),
                ),
            )
        ),
    )
    op.execute(f"INSERT INTO pay_lines_new ({LINE_COLUMNS}) SELECT {LINE_COLUMNS} FROM pay_lines")
    op.create_table(
        "pay_credits_new",
        sa.Column("id", BIG_KEY, nullable=False),
        sa.Column("line_id", BIG_KEY, nullable=False),
        sa.Column("record_id", BIG_KEY, nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["line_id"], ["pay_lines_new.id"], name=op.f("fk_pay_credits_line_id_pay_lines"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["record_id"], ["records.id"], name=op.f("fk_pay_credits_record_id_records")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pay_credits")),
    )
    op.execute(
        "INSERT INTO pay_credits_new (id, line_id, record_id, amount_minor) "
        "SELECT id, line_id, record_id, amount_minor FROM pay_credits"
    )
    op.drop_table("pay_credits")
    op.drop_table("pay_lines")
    op.rename_table("pay_lines_new", "pay_lines")
    op.rename_table("pay_credits_new", "pay_credits")
    op.create_index(op.f("ix_pay_lines_employee_id"), "pay_lines", ["employee_id"], unique=False)
    op.create_index(op.f("ix_pay_lines_run_id"), "pay_lines", ["run_id"], unique=False)
    op.create_index(op.f("ix_pay_credits_line_id"), "pay_credits", ["line_id"], unique=False)
    op.create_index(op.f("ix_pay_credits_record_id"), "pay_credits", ["record_id"], unique=False)


def downgrade() -> None:
    # the ledger's lines have no place in the older key: downgrading keeps what 0017 can hold
    op.drop_table("pay_awards")
    op.execute("DELETE FROM pay_credits WHERE line_id IN (SELECT id FROM pay_lines WHERE kind <> 'earned')")
    op.execute("UPDATE pay_lines SET original_line_id = NULL")
    op.execute("DELETE FROM pay_lines WHERE kind <> 'earned'")
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_lines_on_sqlite(ledger=False)
        return
    op.drop_index(op.f("ix_pay_lines_original_line_id"), "pay_lines")
    op.drop_constraint(UNIQUE, "pay_lines", type_="unique")
    op.drop_column("pay_lines", "original_line_id")
    op.drop_column("pay_lines", "reference")
    op.drop_column("pay_lines", "kind")
    op.create_unique_constraint(
        op.f("uq_pay_lines_period_plan_component_employee_id"),
        "pay_lines",
        ["period", "plan", "component", "employee_id"],
    )
