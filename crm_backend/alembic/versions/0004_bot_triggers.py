"""Bot triggers kept for retry while Rasa is unreachable.

Revision ID: 0004_bot_triggers
Revises: 0003_handoff
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_bot_triggers"
down_revision: str | None = "0003_handoff"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "bot_triggers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(length=128), nullable=False),
        sa.Column("intent", sa.String(length=64), nullable=False),
        sa.Column("entities", sa.JSON(), nullable=False),
        sa.Column("resume_first", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", TS, nullable=False),
        sa.Column("last_error", sa.String(length=300), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("sent_at", TS, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bot_triggers")),
    )
    op.create_index("ix_bot_triggers_status_next_attempt_at", "bot_triggers", ["status", "next_attempt_at"])


def downgrade() -> None:
    op.drop_index("ix_bot_triggers_status_next_attempt_at", table_name="bot_triggers")
    op.drop_table("bot_triggers")
