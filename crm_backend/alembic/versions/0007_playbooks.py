"""Playbooks and outreach: playbooks, runs, per-recipient deliveries, messaging preferences (opt-out).

Revision ID: 0007_playbooks
Revises: 0006_knowledge
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_playbooks"
down_revision: str | None = "0006_knowledge"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "playbooks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("name_zh", sa.String(length=128), nullable=False),
        sa.Column("name_en", sa.String(length=128), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("audience", sa.JSON(), nullable=False),
        sa.Column("template_zh", sa.Text(), nullable=False),
        sa.Column("template_en", sa.Text(), nullable=False),
        sa.Column("offer_kind", sa.String(length=16), nullable=False),
        sa.Column("offer_points", sa.Integer(), nullable=False),
        sa.Column("coupon_value", sa.Integer(), nullable=False),
        sa.Column("schedule", sa.String(length=16), nullable=False),
        sa.Column("event", sa.JSON(), nullable=False),
        sa.Column("holdout_pct", sa.Float(), nullable=False),
        sa.Column("window_days", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_playbooks")),
        sa.UniqueConstraint("key", name=op.f("uq_playbooks_key")),
    )
    op.create_table(
        "messaging_preferences",
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("marketing_opt_out", sa.Boolean(), nullable=False),
        sa.Column("service_opt_out", sa.Boolean(), nullable=False),
        sa.Column("opted_out_at", TS, nullable=True),
        sa.Column("opt_out_channel", sa.String(length=16), nullable=False),
        sa.Column("last_marketing_at", TS, nullable=True),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_messaging_preferences_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_messaging_preferences")),
    )
    op.create_table(
        "playbook_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("playbook_id", sa.Integer(), nullable=False),
        sa.Column("occurrence", sa.String(length=32), nullable=False),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("treated", sa.Integer(), nullable=False),
        sa.Column("holdout", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["playbook_id"], ["playbooks.id"], name=op.f("fk_playbook_runs_playbook_id_playbooks"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_playbook_runs")),
        sa.UniqueConstraint("playbook_id", "occurrence", name="uq_playbook_runs_playbook_occurrence"),
    )
    op.create_index(op.f("ix_playbook_runs_playbook_id"), "playbook_runs", ["playbook_id"], unique=False)
    op.create_table(
        "playbook_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("playbook_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("occurrence_key", sa.String(length=64), nullable=False),
        sa.Column("treated", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("context", sa.JSON(), nullable=False),
        sa.Column("offer_points", sa.Integer(), nullable=False),
        sa.Column("coupon_code", sa.String(length=32), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claimed_at", TS, nullable=True),
        sa.Column("sent_at", TS, nullable=True),
        sa.Column("seen_at", TS, nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_playbook_deliveries_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["playbook_id"],
            ["playbooks.id"],
            name=op.f("fk_playbook_deliveries_playbook_id_playbooks"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["playbook_runs.id"],
            name=op.f("fk_playbook_deliveries_run_id_playbook_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_playbook_deliveries")),
        sa.UniqueConstraint("coupon_code", name=op.f("uq_playbook_deliveries_coupon_code")),
        sa.UniqueConstraint("playbook_id", "customer_id", "occurrence_key", name="uq_playbook_deliveries_once"),
    )
    op.create_index(op.f("ix_playbook_deliveries_customer_id"), "playbook_deliveries", ["customer_id"], unique=False)
    op.create_index("ix_playbook_deliveries_run_status", "playbook_deliveries", ["run_id", "status"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_playbook_deliveries_run_status", table_name="playbook_deliveries")
    op.drop_index(op.f("ix_playbook_deliveries_customer_id"), table_name="playbook_deliveries")
    op.drop_table("playbook_deliveries")
    op.drop_index(op.f("ix_playbook_runs_playbook_id"), table_name="playbook_runs")
    op.drop_table("playbook_runs")
    op.drop_table("messaging_preferences")
    op.drop_table("playbooks")
