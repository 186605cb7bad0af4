"""Conversation store (conversation-stream issue).

Revision ID: 0005_conversations
Revises: 0004_bot_triggers
"""

from collections.abc import Sequence

revision: str = "0005_conversations"
down_revision: str | None = "0004_bot_triggers"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
