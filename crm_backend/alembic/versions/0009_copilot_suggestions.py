"""Copilot: the suggested replies agents inserted, for ranking and the acceptance rate.

Revision ID: 0009_copilot_suggestions
Revises: 0008_delivery_lease
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_copilot_suggestions"
down_revision: str | None = "0008_delivery_lease"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "copilot_suggestion_uses",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("handoff_id", sa.Integer(), sa.ForeignKey("handoffs.id", ondelete="CASCADE"), nullable=False),
        sa.Column("agent_id", sa.Integer(), sa.ForeignKey("agents.id"), nullable=True),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("edited", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_copilot_suggestion_uses_handoff_id", "copilot_suggestion_uses", ["handoff_id"])
    op.create_index("ix_copilot_suggestion_uses_key", "copilot_suggestion_uses", ["key"])


def downgrade() -> None:
    op.drop_table("copilot_suggestion_uses")
