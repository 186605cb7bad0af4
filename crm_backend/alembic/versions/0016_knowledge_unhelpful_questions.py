"""Knowledge: which conversation a search came from, and the question an answer rated "not helpful" was for.

Revision ID: 0016_knowledge_unhelpful
Revises: 0015_handoff_queue_ack
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016_knowledge_unhelpful"
down_revision: str | None = "0015_handoff_queue_ack"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("knowledge_searches") as batch:
        batch.add_column(sa.Column("conversation_id", sa.String(length=128), nullable=True))
        batch.create_index("ix_knowledge_searches_conversation_id", ["conversation_id"])
    with op.batch_alter_table("knowledge_feedback") as batch:
        batch.add_column(sa.Column("query", sa.String(length=300), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("knowledge_feedback") as batch:
        batch.drop_column("query")
    with op.batch_alter_table("knowledge_searches") as batch:
        batch.drop_index("ix_knowledge_searches_conversation_id")
        batch.drop_column("conversation_id")
