"""Knowledge: questions recorded as not answered by the knowledge base.

Revision ID: 0017_knowledge_unanswered
Revises: 0016_knowledge_unhelpful
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017_knowledge_unanswered"
down_revision: str | None = "0016_knowledge_unhelpful"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "knowledge_unanswered",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("question", sa.String(length=300), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
        sa.Column("author", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("language", "question", name="uq_knowledge_unanswered_language_question"),
    )


def downgrade() -> None:
    op.drop_table("knowledge_unanswered")
