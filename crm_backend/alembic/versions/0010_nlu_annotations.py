"""NLU inbox: the intents supervisors gave customer messages.

Revision ID: 0010_nlu_annotations
Revises: 0009_copilot_suggestions
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_nlu_annotations"
down_revision: str | None = "0009_copilot_suggestions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "nlu_annotations",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("text_key", sa.String(64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("intent", sa.String(128), nullable=False),
        sa.Column("predicted", sa.String(128), nullable=True),
        sa.Column("decision", sa.String(16), nullable=False),
        sa.Column("annotated_by", sa.Integer(), sa.ForeignKey("agents.id"), nullable=True),
        sa.Column("annotated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("language", "text_key", name="uq_nlu_annotations_text"),
    )
    op.create_index("ix_nlu_annotations_intent", "nlu_annotations", ["intent"])


def downgrade() -> None:
    op.drop_table("nlu_annotations")
