"""Knowledge-base domain errors (mapped to HTTP by core.errors.add_exception_handlers)."""

from __future__ import annotations

from typing import Any

from crm_backend.core.errors import ConflictError, DomainError, NotFoundError, ValidationFailed


class ArticleNotFound(NotFoundError):
    def __init__(self, key: int | str) -> None:
        super().__init__(f"Article {key} not found", f"未找到文章 {key}", code="article_not_found")


class UnansweredNotFound(NotFoundError):
    def __init__(self, key: int) -> None:
        super().__init__(f"Recorded question {key} not found", f"未找到记录的问题 {key}", code="unanswered_not_found")


class ArticleConflict(ConflictError):
    """A save based on an older version: refused with what changed since."""

    def __init__(self, *, current_version: int, your_version: int, updated_by: str, diff: dict[str, Any]) -> None:
        super().__init__(
            f"The article was changed by {updated_by} (version {current_version}) after you opened version "
            f"{your_version}; review the differences and save again",
            f"文章已被 {updated_by} 修改（版本 {current_version}），"
            f"您编辑的是版本 {your_version}；请查看差异后重新保存",
            code="article_conflict",
            details={"current_version": current_version, "your_version": your_version, "updated_by": updated_by,
                     "diff": diff},
        )


class SlugTaken(ConflictError):
    def __init__(self, slug: str) -> None:
        super().__init__(f"An article with slug {slug} already exists", f"slug 为 {slug} 的文章已存在",
                         code="slug_taken", details={"slug": slug})


class InvalidArticle(ValidationFailed):
    """Empty, oversized or otherwise unusable article content."""


class ImportFailed(DomainError):
    def __init__(self, message_en: str, message_zh: str) -> None:
        super().__init__("import_failed", 422, message_en, message_zh)
