"""Help articles, their language versions, revision history, answer feedback, the questions recorded as not
answered, and the search log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm_backend.core.db import Base, UTCDateTime, utcnow

LANGUAGES = ("zh", "en")
STATUSES = ("draft", "published", "archived")
CATEGORIES = ("shipping", "returns", "payments", "invoices", "membership", "points", "account", "privacy",
              "stores", "product-care", "after-sales", "general")


class Article(Base):
    __tablename__ = "knowledge_articles"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    category: Mapped[str] = mapped_column(String(40), index=True)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(16), default="draft", index=True)
    # Optimistic concurrency: every save names the version it started from; +1 on every change.
    version: Mapped[int] = mapped_column(Integer, default=1)
    views: Mapped[int] = mapped_column(Integer, default=0)
    created_by: Mapped[str] = mapped_column(String(64))
    updated_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    translations: Mapped[list[ArticleTranslation]] = relationship(
        order_by="ArticleTranslation.language", lazy="selectin", cascade="all, delete-orphan")

    def translation(self, language: str) -> ArticleTranslation | None:
        return next((t for t in self.translations if t.language == language), None)


class ArticleTranslation(Base):
    """One language version; the e5 vectors are computed when it is saved, so no process re-embeds it."""

    __tablename__ = "knowledge_translations"
    __table_args__ = (UniqueConstraint("article_id", "language", name="uq_knowledge_translations_article_language"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("knowledge_articles.id", ondelete="CASCADE"), index=True)
    language: Mapped[str] = mapped_column(String(2))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)  # Markdown source
    title_vector: Mapped[bytes | None] = mapped_column(LargeBinary)
    body_vector: Mapped[bytes | None] = mapped_column(LargeBinary)
    # What customers ask that this version answers, in their words; one e5 vector per question (float32 rows).
    questions: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    questions_vector: Mapped[bytes | None] = mapped_column(LargeBinary)


class ArticleRevision(Base):
    """A snapshot of the article after each save (who, when, what)."""

    __tablename__ = "knowledge_revisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("knowledge_articles.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    author: Mapped[str] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(String(300))
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AnswerFeedback(Base):
    """"Did this answer your question?" — one row per answer."""

    __tablename__ = "knowledge_feedback"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("knowledge_articles.id", ondelete="CASCADE"), index=True)
    helpful: Mapped[bool] = mapped_column(Boolean)
    language: Mapped[str] = mapped_column(String(2))
    channel: Mapped[str] = mapped_column(String(32))
    conversation_id: Mapped[str | None] = mapped_column(String(128))
    # The question the article was given for (the conversation's latest answer with it): an answer that did not
    # help is usually a question the article does not cover, which the supervisor sees on the dashboard.
    query: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class UnansweredQuestion(Base):
    """A question the knowledge base does not answer, recorded by a supervisor (usually from an answer customers
    rated "not helpful"): a customer's question closer to it than to any question an article answers is declined."""

    __tablename__ = "knowledge_unanswered"
    __table_args__ = (UniqueConstraint("language", "question", name="uq_knowledge_unanswered_language_question"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    language: Mapped[str] = mapped_column(String(2))
    question: Mapped[str] = mapped_column(String(300))
    vector: Mapped[bytes] = mapped_column(LargeBinary)  # its e5 `query:` vector (float32)
    author: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SearchLog(Base):
    """Every search by the bot or the help centre: answers given, and the content-gap list."""

    __tablename__ = "knowledge_searches"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    query: Mapped[str] = mapped_column(String(300))
    language: Mapped[str] = mapped_column(String(2))
    channel: Mapped[str] = mapped_column(String(32))
    article_id: Mapped[int | None] = mapped_column(ForeignKey("knowledge_articles.id", ondelete="SET NULL"),
                                                   index=True)
    score: Mapped[float] = mapped_column(Float)
    answered: Mapped[bool] = mapped_column(Boolean, index=True)
    conversation_id: Mapped[str | None] = mapped_column(String(128), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
