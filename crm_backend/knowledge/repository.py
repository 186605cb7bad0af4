"""Queries of the knowledge base."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from crm_backend.knowledge.models import (
    AnswerFeedback,
    Article,
    ArticleRevision,
    ArticleTranslation,
    SearchLog,
    UnansweredQuestion,
)


def by_id(session: Session, article_id: int) -> Article | None:
    return session.get(Article, article_id)


def by_slug(session: Session, slug: str) -> Article | None:
    return session.scalar(select(Article).where(Article.slug == slug))


def listing(session: Session, *, status: str | None = None, category: str | None = None, q: str | None = None,
            limit: int = 50, offset: int = 0) -> tuple[Sequence[Article], int]:
    query = select(Article)
    if status:
        query = query.where(Article.status == status)
    if category:
        query = query.where(Article.category == category)
    if q:
        like = f"%{q.strip()}%"
        query = query.where(or_(Article.slug.ilike(like), Article.id.in_(
            select(ArticleTranslation.article_id).where(ArticleTranslation.title.ilike(like)))))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(Article.category, Article.slug).limit(limit).offset(offset)).all()
    return rows, total


def revisions(session: Session, article_id: int) -> Sequence[ArticleRevision]:
    return session.scalars(select(ArticleRevision).where(ArticleRevision.article_id == article_id)
                           .order_by(ArticleRevision.version.desc())).all()


def revision(session: Session, article_id: int, version: int) -> ArticleRevision | None:
    return session.scalar(select(ArticleRevision).where(ArticleRevision.article_id == article_id,
                                                        ArticleRevision.version == version))


def index_stamp(session: Session) -> tuple[int, int, int, int]:
    """Changes whenever any article is created or saved (every save raises its version), and whenever a question
    is recorded as not answered or removed (ids only grow)."""
    count, total = session.execute(select(func.count(Article.id), func.coalesce(func.sum(Article.version), 0))).one()
    recorded, last = session.execute(select(func.count(UnansweredQuestion.id),
                                            func.coalesce(func.max(UnansweredQuestion.id), 0))).one()
    return int(count), int(total), int(recorded), int(last)


def published(session: Session) -> Sequence[Article]:
    return session.scalars(select(Article).where(Article.status == "published").order_by(Article.id)).all()


def answer_counts(session: Session) -> dict[int, int]:
    rows = session.execute(select(SearchLog.article_id, func.count()).where(SearchLog.answered.is_(True))
                           .group_by(SearchLog.article_id)).all()
    return {int(a): int(n) for a, n in rows if a is not None}


def feedback_counts(session: Session) -> dict[tuple[int, bool], int]:
    rows = session.execute(select(AnswerFeedback.article_id, AnswerFeedback.helpful, func.count())
                           .group_by(AnswerFeedback.article_id, AnswerFeedback.helpful)).all()
    return {(int(a), bool(h)): int(n) for a, h, n in rows}


def content_gaps(session: Session, *, limit: int) -> list[tuple[str, str, int, float]]:
    """The most frequent searches that got no good answer."""
    count = func.count().label("n")
    rows = session.execute(select(func.lower(SearchLog.query), SearchLog.language, count, func.max(SearchLog.score))
                           .where(SearchLog.answered.is_(False))
                           .group_by(func.lower(SearchLog.query), SearchLog.language)
                           .order_by(count.desc(), func.lower(SearchLog.query)).limit(limit)).all()
    return [(str(q), str(lang), int(n), float(s or 0.0)) for q, lang, n, s in rows]


def answered_query(session: Session, *, conversation_id: str, article_id: int) -> str | None:
    """The question the conversation was last answered with this article for."""
    return session.scalar(select(SearchLog.query).where(
        SearchLog.conversation_id == conversation_id, SearchLog.article_id == article_id,
        SearchLog.answered.is_(True)).order_by(SearchLog.id.desc()).limit(1))


def unhelpful_answers(session: Session, *, limit: int) -> list[tuple[str, str, int, int]]:
    """The questions most often answered with an article that customers said did not help (question, language,
    article, count)."""
    count = func.count().label("n")
    query = func.lower(AnswerFeedback.query)
    rows = session.execute(select(query, AnswerFeedback.language, AnswerFeedback.article_id, count)
                           .where(AnswerFeedback.helpful.is_(False), AnswerFeedback.query.is_not(None))
                           .group_by(query, AnswerFeedback.language, AnswerFeedback.article_id)
                           .order_by(count.desc(), query).limit(limit)).all()
    return [(str(q), str(lang), int(a), int(n)) for q, lang, a, n in rows]


def unanswered(session: Session) -> Sequence[UnansweredQuestion]:
    return session.scalars(select(UnansweredQuestion).order_by(UnansweredQuestion.id.desc())).all()


def unanswered_by_question(session: Session, *, language: str, question: str) -> UnansweredQuestion | None:
    return session.scalar(select(UnansweredQuestion).where(UnansweredQuestion.language == language,
                                                           UnansweredQuestion.question == question))
