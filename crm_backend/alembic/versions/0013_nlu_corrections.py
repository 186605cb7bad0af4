"""NLU inbox: customer messages an agent flagged as misunderstood by the bot.

Revision ID: 0013_nlu_corrections
Revises: 0012_model_versions
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_nlu_corrections"
down_revision: str | None = "0012_model_versions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "nlu_corrections",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("message_id", sa.Integer(), sa.ForeignKey("handoff_messages.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("handoff_id", sa.Integer(), sa.ForeignKey("handoffs.id", ondelete="CASCADE"), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("text_key", sa.String(64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("agent_id", sa.Integer(), sa.ForeignKey("agents.id"), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.UniqueConstraint("message_id", name="uq_nlu_corrections_message"),
    )
    op.create_index("ix_nlu_corrections_handoff_id", "nlu_corrections", ["handoff_id"])
    op.create_index("ix_nlu_corrections_text_key", "nlu_corrections", ["text_key"])
    op.create_index("ix_nlu_corrections_created_at", "nlu_corrections", ["created_at"])


def downgrade() -> None:
    op.drop_table("nlu_corrections")
