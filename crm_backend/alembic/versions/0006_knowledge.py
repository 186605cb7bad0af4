"""Knowledge base articles (knowledge-base issue).

Revision ID: 0006_knowledge
Revises: 0005_conversations
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_knowledge"
down_revision: str | None = "0005_conversations"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)
ARTICLE_FK = "knowledge_articles.id"


def upgrade() -> None:
    op.create_table(
        "knowledge_articles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=120), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("views", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("published_at", TS, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_knowledge_articles")),
        sa.UniqueConstraint("slug", name=op.f("uq_knowledge_articles_slug")),
    )
    op.create_index(op.f("ix_knowledge_articles_category"), "knowledge_articles", ["category"])
    op.create_index(op.f("ix_knowledge_articles_status"), "knowledge_articles", ["status"])
    op.create_table(
        "knowledge_translations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("title_vector", sa.LargeBinary(), nullable=True),
        sa.Column("body_vector", sa.LargeBinary(), nullable=True),
        sa.ForeignKeyConstraint(["article_id"], [ARTICLE_FK], ondelete="CASCADE",
                                name=op.f("fk_knowledge_translations_article_id_knowledge_articles")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_knowledge_translations")),
        sa.UniqueConstraint("article_id", "language", name="uq_knowledge_translations_article_language"),
    )
    op.create_index(op.f("ix_knowledge_translations_article_id"), "knowledge_translations", ["article_id"])
    op.create_table(
        "knowledge_revisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("author", sa.String(length=64), nullable=False),
        sa.Column("note", sa.String(length=300), nullable=True),
        sa.Column("snapshot", sa.JSON(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.ForeignKeyConstraint(["article_id"], [ARTICLE_FK], ondelete="CASCADE",
                                name=op.f("fk_knowledge_revisions_article_id_knowledge_articles")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_knowledge_revisions")),
    )
    op.create_index(op.f("ix_knowledge_revisions_article_id"), "knowledge_revisions", ["article_id"])
    op.create_table(
        "knowledge_feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("helpful", sa.Boolean(), nullable=False),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("conversation_id", sa.String(length=128), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.ForeignKeyConstraint(["article_id"], [ARTICLE_FK], ondelete="CASCADE",
                                name=op.f("fk_knowledge_feedback_article_id_knowledge_articles")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_knowledge_feedback")),
    )
    op.create_index(op.f("ix_knowledge_feedback_article_id"), "knowledge_feedback", ["article_id"])
    op.create_table(
        "knowledge_searches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("query", sa.String(length=300), nullable=False),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=True),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("answered", sa.Boolean(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.ForeignKeyConstraint(["article_id"], [ARTICLE_FK], ondelete="SET NULL",
                                name=op.f("fk_knowledge_searches_article_id_knowledge_articles")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_knowledge_searches")),
    )
    op.create_index(op.f("ix_knowledge_searches_article_id"), "knowledge_searches", ["article_id"])
    op.create_index(op.f("ix_knowledge_searches_answered"), "knowledge_searches", ["answered"])
    op.create_index(op.f("ix_knowledge_searches_created_at"), "knowledge_searches", ["created_at"])


def downgrade() -> None:
    for table in ("knowledge_searches", "knowledge_feedback", "knowledge_revisions", "knowledge_translations",
                  "knowledge_articles"):
        op.drop_table(table)
