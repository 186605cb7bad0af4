"""Knowledge-base use cases: edit with revisions and optimistic concurrency, import/export, search, feedback.

Services flush and return domain objects; the route's request owns the commit.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from crm_backend.core.db import begin_write, utcnow
from crm_backend.knowledge import bulk, live, repository
from crm_backend.knowledge.bulk import Version
from crm_backend.knowledge.errors import (
    ArticleConflict,
    ArticleNotFound,
    InvalidArticle,
    SlugTaken,
    UnansweredNotFound,
)
from crm_backend.knowledge.markdown import render_html
from crm_backend.knowledge.models import (
    CATEGORIES,
    LANGUAGES,
    AnswerFeedback,
    Article,
    ArticleRevision,
    ArticleTranslation,
    SearchLog,
    UnansweredQuestion,
)
from crm_backend.knowledge.schemas import ArticleIn, ArticleUpdate, VersionIn
from crm_backend.knowledge.search import ANSWER_THRESHOLD, DIM, Hit, embed_questions, embed_version

MAX_TITLE = 200
MAX_BODY = 20_000
MAX_TAGS = 20
MAX_TAG = 40
MAX_QUESTIONS = 30
MAX_QUESTION = 200
LANGUAGE_NAMES = {"zh": ("Chinese", "中文"), "en": ("English", "英文")}


@dataclass(frozen=True)
class Content:
    """What an editor can change (compared for conflicts and diffs)."""

    category: str
    tags: tuple[str, ...]
    versions: dict[str, Version]

    def fields(self) -> dict[str, str]:
        out = {"category": self.category, "tags": ", ".join(self.tags)}
        for language in LANGUAGES:
            title, body, questions = self.versions.get(language, Version("", ""))
            out[f"{language}.title"] = title
            out[f"{language}.body"] = body
            out[f"{language}.questions"] = "\n".join(questions)
        return out


def _clean(category: str, tags: Sequence[str], zh: VersionIn | None, en: VersionIn | None,
           *, current: Content | None = None) -> Content:
    """Validate editor input; every refusal names the field in both languages. A version sent without its
    questions keeps those of `current` (an API client that predates them does not wipe them)."""
    if category not in CATEGORIES:
        raise InvalidArticle(f"Unknown category {category!r}; use one of {', '.join(CATEGORIES)}",
                             f"未知分类 {category!r}，可选：{', '.join(CATEGORIES)}")
    clean_tags = tuple(dict.fromkeys(t.strip() for t in tags if t.strip()))
    if len(clean_tags) > MAX_TAGS or any(len(t) > MAX_TAG for t in clean_tags):
        raise InvalidArticle(f"At most {MAX_TAGS} tags of up to {MAX_TAG} characters",
                             f"标签最多 {MAX_TAGS} 个，每个不超过 {MAX_TAG} 个字符")
    versions: dict[str, Version] = {}
    for language, version in (("zh", zh), ("en", en)):
        if version is None:
            continue
        en_name, zh_name = LANGUAGE_NAMES[language]
        title, body = version.title.strip(), version.body.strip()
        if not title or not body:
            raise InvalidArticle(f"The {en_name} version needs a title and a body",
                                 f"{zh_name}版本需要标题和正文")
        if len(title) > MAX_TITLE:
            raise InvalidArticle(f"The {en_name} title is longer than {MAX_TITLE} characters",
                                 f"{zh_name}标题超过 {MAX_TITLE} 个字符")
        if len(body) > MAX_BODY:
            raise InvalidArticle(f"The {en_name} body is longer than {MAX_BODY:,} characters ({len(body):,})",
                                 f"{zh_name}正文超过 {MAX_BODY:,} 个字符（当前 {len(body):,}）")
        if version.questions is None:
            questions = current.versions[language].questions if current and language in current.versions else ()
        else:
            questions = bulk.split_questions(version.questions)
        if len(questions) > MAX_QUESTIONS or any(len(q) > MAX_QUESTION for q in questions):
            raise InvalidArticle(f"The {en_name} version may list at most {MAX_QUESTIONS} customer questions of up to "
                                 f"{MAX_QUESTION} characters",
                                 f"{zh_name}版本最多 {MAX_QUESTIONS} 个常见问法，每个不超过 {MAX_QUESTION} 个字符")
        versions[language] = Version(title, body, questions)
    if not versions:
        raise InvalidArticle("An article needs a Chinese or an English version", "文章至少需要中文或英文版本")
    return Content(category, clean_tags, versions)


def content_of(article: Article) -> Content:
    return Content(article.category, tuple(article.tags),
                   {t.language: Version(t.title, t.body, tuple(t.questions or ())) for t in article.translations})


def _snapshot(article: Article) -> dict[str, Any]:
    content = content_of(article)
    return {"category": content.category, "tags": list(content.tags), "status": article.status,
            "versions": {lang: {"title": t, "body": b, "questions": list(q)}
                         for lang, (t, b, q) in content.versions.items()}}


def _content_from_snapshot(snapshot: dict[str, Any]) -> Content:
    return Content(snapshot["category"], tuple(snapshot["tags"]),
                   {lang: Version(v["title"], v["body"], tuple(v.get("questions", ())))
                    for lang, v in snapshot["versions"].items()})


def _apply(article: Article, content: Content) -> None:
    """Write `content` into the article; vectors are recomputed only for versions whose text changed."""
    tags_changed = tuple(article.tags) != content.tags
    article.category = content.category
    article.tags = list(content.tags)
    for language in LANGUAGES:
        existing = article.translation(language)
        wanted = content.versions.get(language)
        if wanted is None:
            if existing is not None:
                article.translations.remove(existing)
            continue
        if existing is None:
            existing = ArticleTranslation(language=language, title="", body="", questions=[])
            article.translations.append(existing)
        if (existing.title, existing.body) != (wanted.title, wanted.body) or tags_changed \
                or existing.title_vector is None:
            existing.title, existing.body = wanted.title, wanted.body
            existing.title_vector, existing.body_vector = embed_version(wanted.title, wanted.body, content.tags)
        if tuple(existing.questions or ()) != wanted.questions or existing.questions_vector is None:
            # An edit that adds one question embeds that one; the others keep their stored vectors.
            stored = np.frombuffer(existing.questions_vector or b"", dtype=np.float32).reshape(-1, DIM)
            known = {q: row.tobytes() for q, row in zip(existing.questions or (), stored, strict=False)}
            existing.questions = list(wanted.questions)
            existing.questions_vector = embed_questions(wanted.questions, known=known)


def _record(session: Session, article: Article, *, author: str, note: str | None) -> None:
    session.add(ArticleRevision(article_id=article.id, version=article.version, author=author, note=note,
                                snapshot=_snapshot(article)))
    live.touch()


def get_article(session: Session, *, article_id: int) -> Article:
    article = repository.by_id(session, article_id)
    if article is None:
        raise ArticleNotFound(article_id)
    return article


def get_published(session: Session, *, slug: str) -> Article:
    article = repository.by_slug(session, slug)
    if article is None or article.status != "published":
        raise ArticleNotFound(slug)
    return article


def create_article(session: Session, *, data: ArticleIn, author: str) -> Article:
    begin_write(session)
    content = _clean(data.category, data.tags, data.zh, data.en)
    if repository.by_slug(session, data.slug) is not None:
        raise SlugTaken(data.slug)
    now = utcnow()
    article = Article(slug=data.slug, category=content.category, tags=[], status=data.status, version=1, views=0,
                      created_by=author, updated_by=author, created_at=now, updated_at=now,
                      published_at=now if data.status == "published" else None)
    _apply(article, content)
    session.add(article)
    session.flush()
    _record(session, article, author=author, note="created")
    session.flush()
    return article


def _conflict(session: Session, article: Article, *, base_version: int, mine: Content) -> ArticleConflict:
    """409 details: what changed since the editor's version, and a unified diff of theirs → mine per field."""
    current = content_of(article).fields()
    base_revision = repository.revision(session, article.id, base_version)
    base = _content_from_snapshot(base_revision.snapshot).fields() if base_revision else {}
    ours = mine.fields()
    diff = {}
    for name, now_value in current.items():
        if ours[name] != now_value:
            diff[name] = "\n".join(difflib.unified_diff(now_value.splitlines(), ours[name].splitlines(),
                                                        f"current (v{article.version}, {article.updated_by})",
                                                        "yours", lineterm=""))
    changed = sorted(name for name, value in current.items() if base.get(name) != value)
    return ArticleConflict(current_version=article.version, your_version=base_version,
                           updated_by=article.updated_by, diff={"fields": diff, "changed_since_yours": changed})


def update_article(session: Session, *, article_id: int, data: ArticleUpdate, author: str) -> Article:
    """Save an edit made from version `data.version`; a stale version → 409 `article_conflict` with the diff."""
    begin_write(session)
    article = get_article(session, article_id=article_id)
    content = _clean(data.category, data.tags, data.zh, data.en, current=content_of(article))
    if data.version != article.version:
        raise _conflict(session, article, base_version=data.version, mine=content)
    if content == content_of(article):
        return article
    _apply(article, content)
    article.version += 1
    article.updated_by = author
    article.updated_at = utcnow()
    session.flush()
    _record(session, article, author=author, note=data.note)
    session.flush()
    return article


def set_status(session: Session, *, article_id: int, status: str, version: int, author: str) -> Article:
    begin_write(session)
    article = get_article(session, article_id=article_id)
    if version != article.version:
        raise _conflict(session, article, base_version=version, mine=content_of(article))
    if article.status == status:
        return article
    article.status = status
    article.version += 1
    article.updated_by = author
    article.updated_at = utcnow()
    if status == "published":
        article.published_at = article.updated_at
    session.flush()
    _record(session, article, author=author, note=status)
    session.flush()
    return article


def import_articles(session: Session, *, articles: list[bulk.ArticleData], author: str,
                    publish: bool) -> dict[str, int]:
    """Create or update articles by slug; each change is a revision by `author`. All or nothing."""
    begin_write(session)
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    for item in articles:
        zh, en = (VersionIn(**item.versions[lang]._asdict()) if lang in item.versions else None for lang in LANGUAGES)
        status = "published" if publish else item.status  # None: keep the article's status
        existing = repository.by_slug(session, item.slug)
        if existing is None:
            create_article(session, data=ArticleIn(slug=item.slug, category=item.category, tags=item.tags,
                                                   status=status or "draft", zh=zh, en=en),
                           author=author)
            counts["created"] += 1
            continue
        before = existing.version
        update_article(session, article_id=existing.id, author=author, data=ArticleUpdate(
            version=existing.version, category=item.category, tags=item.tags, zh=zh, en=en, note="import"))
        if status and existing.status != status:
            set_status(session, article_id=existing.id, status=status, version=existing.version, author=author)
        counts["updated" if existing.version != before else "unchanged"] += 1
    return counts


def export_articles(session: Session, *, fmt: str) -> str:
    rows, _ = repository.listing(session, limit=100_000)
    items = [bulk.ArticleData(slug=a.slug, category=a.category, tags=list(a.tags), status=a.status,
                              versions=content_of(a).versions) for a in rows]
    return bulk.to_csv(items) if fmt == "csv" else bulk.to_markdown(items)


def version_view(article: Article, language: str) -> dict[str, Any] | None:
    version = article.translation(language)
    if version is None:
        return None
    return {"title": version.title, "body": version.body, "html": render_html(version.body),
            "questions": list(version.questions or ())}


def search(session: Session, *, query: str, language: str, limit: int = 5) -> list[Hit]:
    return live.current(session).search(query, language=language, limit=limit)


@dataclass(frozen=True)
class Answer:
    hit: Hit | None
    answered: bool
    other_language: bool
    hits: list[Hit]


def answer(session: Session, *, question: str, language: str, channel: str, limit: int = 1,
           conversation_id: str | None = None) -> Answer:
    """The best article for a customer's question, or a decline below the confidence threshold (logged)."""
    hits = search(session, query=question, language=language, limit=limit)
    top = hits[0] if hits else None
    answered = top is not None and top.score >= ANSWER_THRESHOLD
    begin_write(session)  # after the search: the log waits for SQLite's lock instead of failing on a stale read
    session.add(SearchLog(query=question.strip()[:300], language=language, channel=channel[:32],
                          article_id=top.article_id if answered and top else None,
                          score=top.score if top else 0.0, answered=answered, conversation_id=conversation_id))
    session.flush()
    return Answer(top if answered else None, answered, bool(answered and top and top.language != language), hits)


def record_view(session: Session, *, article: Article) -> None:
    begin_write(session)
    article.views += 1
    session.flush()


def record_feedback(session: Session, *, article_id: int, helpful: bool, language: str, channel: str,
                    conversation_id: str | None) -> AnswerFeedback:
    begin_write(session)
    get_article(session, article_id=article_id)
    query = repository.answered_query(session, conversation_id=conversation_id,
                                      article_id=article_id) if conversation_id else None
    row = AnswerFeedback(article_id=article_id, helpful=helpful, language=language, channel=channel,
                         conversation_id=conversation_id, query=query)
    session.add(row)
    session.flush()
    return row


def stats(session: Session, *, gaps: int = 20) -> dict[str, Any]:
    """Per-article views, answers, helpful / not helpful, the top searches with no good answer, and the questions
    whose answer customers said did not help."""
    rows, _ = repository.listing(session, limit=100_000)
    answers = repository.answer_counts(session)
    feedback = repository.feedback_counts(session)
    articles: list[dict[str, Any]] = [{"id": a.id, "slug": a.slug,
                 "title": (a.translation("zh") or a.translation("en") or ArticleTranslation(title=a.slug)).title,
                 "views": a.views, "answers": answers.get(a.id, 0), "helpful": feedback.get((a.id, True), 0),
                 "not_helpful": feedback.get((a.id, False), 0)} for a in rows]
    articles.sort(key=lambda s: (-(s["answers"] + s["views"]), s["slug"]))
    slugs = {a.id: a.slug for a in rows}
    return {"articles": articles,
            "gaps": [{"query": q, "language": lang, "count": n, "best_score": round(s, 3)}
                     for q, lang, n, s in repository.content_gaps(session, limit=gaps)],
            "unhelpful": [{"query": q, "language": lang, "article_id": a, "slug": slugs.get(a, ""), "count": n}
                          for q, lang, a, n in repository.unhelpful_answers(session, limit=gaps)]}


def record_unanswered(session: Session, *, question: str, language: str, author: str) -> UnansweredQuestion:
    """Record a question the knowledge base does not answer; recording the same question again keeps one."""
    text = " ".join(question.split())[:300]
    begin_write(session)
    row = repository.unanswered_by_question(session, language=language, question=text)
    if row is None:
        row = UnansweredQuestion(language=language, question=text, vector=embed_questions([text]), author=author)
        session.add(row)
        session.flush()
        live.touch()
    return row


def remove_unanswered(session: Session, *, question_id: int) -> None:
    begin_write(session)
    row = session.get(UnansweredQuestion, question_id)
    if row is None:
        raise UnansweredNotFound(question_id)
    session.delete(row)
    session.flush()
    live.touch()
