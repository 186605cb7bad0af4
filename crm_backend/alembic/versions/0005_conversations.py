"""Conversation store (conversation-stream issue): conversations, their tracker events, pull cursors.

Revision ID: 0005_conversations
Revises: 0004_bot_triggers
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_conversations"
down_revision: str | None = "0004_bot_triggers"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "conversations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sender_id", sa.String(length=255), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("last_activity_at", TS, nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("has_handoff", sa.Boolean(), nullable=False),
        sa.Column("csat", sa.Integer(), nullable=True),
        sa.Column("user_turns", sa.Integer(), nullable=False),
        sa.Column("fallback_turns", sa.Integer(), nullable=False),
        sa.Column("last_user_ts", sa.Float(), nullable=False),
        sa.Column("last_user_fallback", sa.Boolean(), nullable=False),
        sa.Column("last_bot_ts", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversations")),
        sa.UniqueConstraint("sender_id", name=op.f("uq_conversations_sender_id")),
    )
    for column in ("customer_id", "started_at", "last_activity_at", "outcome"):
        op.create_index(f"ix_conversations_{column}", "conversations", [column])
    op.create_table(
        "conversation_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("event_key", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("rasa_ts", sa.Float(), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("name", sa.String(length=128), nullable=True),
        sa.Column("intent", sa.String(length=128), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("entities", sa.JSON(), nullable=True),
        sa.Column("value", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"], ondelete="CASCADE",
                                name=op.f("fk_conversation_events_conversation_id_conversations")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversation_events")),
        sa.UniqueConstraint("event_key", name=op.f("uq_conversation_events_event_key")),
    )
    op.create_index("ix_conversation_events_conversation_ts", "conversation_events", ["conversation_id", "rasa_ts"])
    op.create_index("ix_conversation_events_at", "conversation_events", ["at"])
    op.create_index("ix_conversation_events_intent", "conversation_events", ["intent"])
    op.create_table(
        "stream_cursors",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_stream_cursors")),
    )


def downgrade() -> None:
    op.drop_table("stream_cursors")
    op.drop_index("ix_conversation_events_intent", table_name="conversation_events")
    op.drop_index("ix_conversation_events_at", table_name="conversation_events")
    op.drop_index("ix_conversation_events_conversation_ts", table_name="conversation_events")
    op.drop_table("conversation_events")
    for column in ("outcome", "last_activity_at", "started_at", "customer_id"):
        op.drop_index(f"ix_conversations_{column}", table_name="conversations")
    op.drop_table("conversations")
