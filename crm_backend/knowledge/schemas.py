"""Request and response models of the knowledge-base API."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from crm_backend.core.bounds import INT_MAX, DbId

Status = Literal["draft", "published", "archived"]
LanguageCode = Literal["zh", "en"]


class VersionIn(BaseModel):
    title: str
    body: str = Field(description="Markdown; raw HTML is shown as text")
    questions: list[str] | None = Field(
        default=None, description="what customers ask that this version answers, in their words; "
                                  "left out of an edit: the version keeps the ones it has")


class ArticleIn(BaseModel):
    slug: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,119}$")
    category: str
    tags: list[str] = Field(default_factory=list)
    status: Status = "draft"
    zh: VersionIn | None = None
    en: VersionIn | None = None


class ArticleUpdate(BaseModel):
    version: int = Field(ge=1, le=INT_MAX, description="the version the editor started from (optimistic concurrency)")
    category: str
    tags: list[str] = Field(default_factory=list)
    zh: VersionIn | None = None
    en: VersionIn | None = None
    note: str | None = Field(default=None, max_length=300)


class StatusChange(BaseModel):
    version: DbId
    status: Status


class VersionOut(BaseModel):
    title: str
    body: str
    html: str
    questions: list[str]


class ArticleOut(BaseModel):
    id: int
    slug: str
    category: str
    tags: list[str]
    status: Status
    version: int
    views: int
    created_by: str
    updated_by: str
    created_at: datetime
    updated_at: datetime
    published_at: datetime | None
    zh: VersionOut | None
    en: VersionOut | None


class ArticleSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    slug: str
    category: str
    status: Status
    version: int
    title_zh: str | None
    title_en: str | None
    updated_by: str
    updated_at: datetime


class RevisionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    version: int
    author: str
    note: str | None
    created_at: datetime
    snapshot: dict[str, object]


class ImportIn(BaseModel):
    format: Literal["markdown", "csv"]
    content: str
    publish: bool = False


class ImportResult(BaseModel):
    created: int
    updated: int
    unchanged: int


class PreviewIn(BaseModel):
    body: str


class PreviewOut(BaseModel):
    html: str


class AnswerIn(BaseModel):
    question: str = Field(min_length=1, max_length=500)
    language: LanguageCode
    conversation_id: str | None = Field(default=None, max_length=128)
    channel: str = Field(default="bot", max_length=32)


class AnswerArticle(BaseModel):
    id: int
    slug: str
    title: str
    language: LanguageCode
    passage: str
    url: str
    score: float


class AnswerOut(BaseModel):
    answered: bool
    article: AnswerArticle | None = None
    other_language: bool = Field(default=False, description="only the other language's version exists")
    score: float


class FeedbackIn(BaseModel):
    article_id: DbId
    helpful: bool
    language: LanguageCode
    conversation_id: str | None = Field(default=None, max_length=128)
    channel: str = Field(default="bot", max_length=32)


class SearchHitOut(BaseModel):
    id: int
    slug: str
    category: str
    title: str
    language: LanguageCode
    passage: str
    score: float


class ArticleStats(BaseModel):
    id: int
    slug: str
    title: str
    views: int
    answers: int
    helpful: int
    not_helpful: int


class GapOut(BaseModel):
    query: str
    language: str
    count: int
    best_score: float


class UnhelpfulOut(BaseModel):
    query: str
    language: str
    article_id: int
    slug: str
    count: int


class UnansweredIn(BaseModel):
    question: str = Field(min_length=1, max_length=300, pattern=r"\S")
    language: LanguageCode


class UnansweredOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    question: str
    language: str
    author: str
    created_at: datetime


class StatsOut(BaseModel):
    articles: list[ArticleStats]
    gaps: list[GapOut]
    unhelpful: list[UnhelpfulOut]
