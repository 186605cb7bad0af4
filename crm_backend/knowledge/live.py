"""The process's search index, kept in step with the database.

Every search first compares a cheap stamp (article count + sum of versions, and the questions recorded as not
answered) with the one the index was built from, at most once per `CHECK_SECONDS`; on a change the index is
rebuilt from the stored vectors. So an article published through any CRM process is searchable in every process
within about a second, with no restart and no message broker. While one thread rebuilds, others keep using the
old index.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable

from sqlalchemy.orm import Session

from crm_backend.knowledge import repository
from crm_backend.knowledge.models import Article
from crm_backend.knowledge.search import Doc, SearchIndex, embed_questions, embed_version

CHECK_SECONDS = 1.0


def docs_of(articles: Iterable[Article]) -> list[Doc]:
    docs = []
    for article in articles:
        for version in article.translations:
            if version.title_vector is None or version.body_vector is None:
                version.title_vector, version.body_vector = embed_version(version.title, version.body, article.tags)
            questions = tuple(version.questions or ())
            if version.questions_vector is None:
                version.questions_vector = embed_questions(questions)
            docs.append(Doc(article.id, article.slug, article.category, version.language, version.title,
                            version.body, tuple(article.tags), version.title_vector, version.body_vector,
                            questions, version.questions_vector, article.updated_at.timestamp()))
    return docs


class LiveIndex:
    def __init__(self, check_seconds: float = CHECK_SECONDS) -> None:
        self._check_seconds = check_seconds
        self._index = SearchIndex([])
        self._stamp: tuple[int, ...] | None = None
        self._checked_at = 0.0
        self._rebuild = threading.Lock()
        self.last_build_seconds = 0.0

    def get(self, session: Session) -> SearchIndex:
        """The current index, rebuilt first if the articles changed since it was built."""
        now = time.monotonic()
        if self._stamp is not None and now - self._checked_at < self._check_seconds:
            return self._index
        stamp = repository.index_stamp(session)
        self._checked_at = now
        if stamp == self._stamp:
            return self._index
        blocking = self._stamp is None  # the first build must finish before anyone can search
        if not self._rebuild.acquire(blocking=blocking):
            return self._index
        try:
            if stamp != self._stamp:
                started = time.monotonic()
                self._index = SearchIndex(docs_of(repository.published(session)),
                                          [(row.vector, row.created_at.timestamp())
                                           for row in repository.unanswered(session)])
                self._stamp = stamp
                self.last_build_seconds = time.monotonic() - started
        finally:
            self._rebuild.release()
        return self._index

    def touch(self) -> None:
        """Check the stamp on the next search (this process just saved an article)."""
        self._checked_at = 0.0

    def reset(self) -> None:
        """Forget the index (tests, after swapping databases)."""
        with self._rebuild:
            self._index = SearchIndex([])
            self._stamp = None


_live = LiveIndex()


def current(session: Session) -> SearchIndex:
    return _live.get(session)


def touch() -> None:
    _live.touch()


def reset() -> None:
    _live.reset()


__all__ = ["CHECK_SECONDS", "LiveIndex", "current", "docs_of", "reset", "touch"]
