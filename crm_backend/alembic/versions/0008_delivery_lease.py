"""Agent replies: a lease on the delivery attempt in flight, so a reply is sent once.

Revision ID: 0008_delivery_lease
Revises: 0007_playbooks
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_delivery_lease"
down_revision: str | None = "0007_playbooks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("handoff_messages", sa.Column("sending_since", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("handoff_messages") as batch:
        batch.drop_column("sending_since")
