"""Playbooks and outreach (playbooks issue).

Revision ID: 0007_playbooks
Revises: 0006_knowledge
"""

from collections.abc import Sequence

revision: str = "0007_playbooks"
down_revision: str | None = "0006_knowledge"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
