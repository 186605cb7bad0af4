"""Knowledge base articles (knowledge-base issue).

Revision ID: 0006_knowledge
Revises: 0005_conversations
"""

from collections.abc import Sequence

revision: str = "0006_knowledge"
down_revision: str | None = "0005_conversations"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
