"""Bulk import/export: one Markdown document (front matter per article) or a CSV (one row per language).

Markdown:

    ---
    slug: shipping-fees
    category: shipping
    tags: 运费, shipping fee
    status: published        (optional)
    ---
    === zh: 运费怎么算？
    ? 包邮吗
    ? 寄到新疆要加钱吗
    Markdown body …

    === en: How much is shipping?
    Markdown body …

Lines starting with "? " right under a version's title are the questions customers ask that it answers
(matched one by one by the search, see search.py); the body starts at the first other line.

CSV columns: slug, category, tags (comma-separated), status, language, title, body, and optionally
questions (one per line in the cell).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

import yaml

from crm_backend.knowledge.errors import ImportFailed

_ARTICLE = re.compile(r"^---[ \t]*\n(slug:.*?)\n---[ \t]*\n(.*?)(?=^---[ \t]*\nslug:|\Z)", re.S | re.M)
_SECTION = re.compile(r"^=== (zh|en): *(.*)$", re.M)
CSV_COLUMNS = ("slug", "category", "tags", "status", "language", "title", "body")
QUESTION_PREFIX = "? "


class Version(NamedTuple):
    """One language version's text: title, Markdown body, and the customers' questions it answers."""

    title: str
    body: str
    questions: tuple[str, ...] = ()


@dataclass
class ArticleData:
    """An article as read from an import file (validation happens in the service)."""

    slug: str
    category: str
    tags: list[str] = field(default_factory=list)
    status: str | None = None
    versions: dict[str, Version] = field(default_factory=dict)


def split_tags(value: object) -> list[str]:
    if isinstance(value, list):
        items = [str(v) for v in value]
    else:
        items = re.split(r"[,，]", str(value or ""))
    return [t.strip() for t in items if t.strip()]


def split_questions(value: object) -> tuple[str, ...]:
    """Questions from a list or from text with one per line."""
    items = value if isinstance(value, list) else str(value or "").splitlines()
    return tuple(dict.fromkeys(q.strip() for q in map(str, items) if q.strip()))


def _section(title: str, text: str) -> Version:
    lines = text.strip().split("\n")
    questions: list[str] = []
    while lines and lines[0].startswith(QUESTION_PREFIX):
        questions.append(lines.pop(0).removeprefix(QUESTION_PREFIX))
    return Version(title.strip(), "\n".join(lines).strip(), split_questions(questions))


def parse_markdown(text: str) -> list[ArticleData]:
    """Articles of a Markdown bulk file; ImportFailed names the first malformed article."""
    text = text.replace("\r\n", "\n")
    found = list(_ARTICLE.finditer(text))
    if not found:
        raise ImportFailed("No article found: each article starts with a '---' front matter block with a slug",
                           "未找到文章：每篇文章以包含 slug 的 '---' 头信息开始")
    articles = []
    for number, match in enumerate(found, start=1):
        try:
            meta = yaml.safe_load(match.group(1))
        except yaml.YAMLError as error:
            raise ImportFailed(f"Article {number}: front matter is not valid YAML ({error})",
                               f"第 {number} 篇文章：头信息不是有效的 YAML（{error}）") from error
        if not isinstance(meta, dict) or not meta.get("slug") or not meta.get("category"):
            raise ImportFailed(f"Article {number}: front matter needs slug and category",
                               f"第 {number} 篇文章：头信息需要 slug 和 category")
        article = ArticleData(slug=str(meta["slug"]).strip(), category=str(meta["category"]).strip(),
                              tags=split_tags(meta.get("tags")),
                              status=str(meta["status"]).strip() if meta.get("status") else None)
        parts = _SECTION.split(match.group(2))
        for i in range(1, len(parts) - 2, 3):
            article.versions[parts[i]] = _section(parts[i + 1], parts[i + 2])
        if not article.versions:
            raise ImportFailed(f"Article {article.slug}: no '=== zh: title' or '=== en: title' section",
                               f"文章 {article.slug}：缺少 '=== zh: 标题' 或 '=== en: 标题' 段落")
        articles.append(article)
    return articles


def parse_csv(text: str) -> list[ArticleData]:
    """Articles of a CSV bulk file (rows of one slug are merged)."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = [c for c in CSV_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise ImportFailed(f"CSV is missing columns: {', '.join(missing)}", f"CSV 缺少列：{', '.join(missing)}")
    by_slug: dict[str, ArticleData] = {}
    for line, row in enumerate(reader, start=2):
        slug = (row["slug"] or "").strip()
        language = (row["language"] or "").strip()
        if not slug or language not in ("zh", "en"):
            raise ImportFailed(f"CSV line {line}: needs a slug and language zh or en",
                               f"CSV 第 {line} 行：需要 slug，language 必须是 zh 或 en")
        article = by_slug.setdefault(slug, ArticleData(slug=slug, category=(row["category"] or "").strip(),
                                                        tags=split_tags(row["tags"]),
                                                        status=(row["status"] or "").strip() or None))
        article.versions[language] = Version((row["title"] or "").strip(), (row["body"] or "").strip(),
                                             split_questions(row.get("questions")))
    return list(by_slug.values())


def _zh_first(article: ArticleData) -> list[tuple[str, Version]]:
    return sorted(article.versions.items(), key=lambda item: item[0] != "zh")


def to_markdown(articles: Iterable[ArticleData]) -> str:
    chunks = []
    for article in articles:
        meta = yaml.safe_dump({"slug": article.slug, "category": article.category, "tags": ", ".join(article.tags),
                               "status": article.status}, allow_unicode=True, sort_keys=False).strip()
        sections = ["".join([f"=== {lang}: {title}\n", *(f"{QUESTION_PREFIX}{q}\n" for q in questions), f"{body}\n"])
                    for lang, (title, body, questions) in _zh_first(article)]
        chunks.append(f"---\n{meta}\n---\n" + "\n".join(sections))
    return "\n".join(chunks)


def to_csv(articles: Iterable[ArticleData]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow((*CSV_COLUMNS, "questions"))
    for article in articles:
        for lang, (title, body, questions) in _zh_first(article):
            writer.writerow([article.slug, article.category, ", ".join(article.tags), article.status or "", lang,
                             title, body, "\n".join(questions)])
    return out.getvalue()
