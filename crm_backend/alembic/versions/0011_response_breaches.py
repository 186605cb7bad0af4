"""Handoffs: first- and next-response timers that ran out.

Revision ID: 0011_response_breaches
Revises: 0010_nlu_annotations
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_response_breaches"
down_revision: str | None = "0010_nlu_annotations"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "response_breaches",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("handoff_id", sa.Integer(), sa.ForeignKey("handoffs.id", ondelete="CASCADE"), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("due_at", TS, nullable=False),
        sa.Column("breached_at", TS, nullable=False),
        sa.UniqueConstraint("handoff_id", "kind", "started_at", name="uq_response_breaches_timer"),
    )
    op.create_index("ix_response_breaches_handoff_id", "response_breaches", ["handoff_id"])
    op.create_index("ix_response_breaches_breached_at", "response_breaches", ["breached_at"])


def downgrade() -> None:
    op.drop_table("response_breaches")
