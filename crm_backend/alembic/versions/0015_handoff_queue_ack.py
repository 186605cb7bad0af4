"""Handoffs: when a waiting customer's message was last acknowledged ("received, N ahead of you").

Revision ID: 0015_handoff_queue_ack
Revises: 0014_knowledge_questions
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015_handoff_queue_ack"
down_revision: str | None = "0014_knowledge_questions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("handoffs") as batch:
        batch.add_column(sa.Column("queue_acknowledged_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("handoffs") as batch:
        batch.drop_column("queue_acknowledged_at")
