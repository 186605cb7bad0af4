"""Knowledge: the customers' questions each language version answers, with their e5 vectors.

Revision ID: 0014_knowledge_questions
Revises: 0013_nlu_corrections
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_knowledge_questions"
down_revision: str | None = "0013_nlu_corrections"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("knowledge_translations") as batch:
        batch.add_column(sa.Column("questions", sa.JSON(), nullable=False, server_default="[]"))
        batch.add_column(sa.Column("questions_vector", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("knowledge_translations") as batch:
        batch.drop_column("questions_vector")
        batch.drop_column("questions")
