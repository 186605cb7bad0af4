"""Knowledge search at 10,000 articles in one CRM process: search latency and full index rebuild time.

1. A fresh database (SQLite file, and PostgreSQL with --postgres) gets the 86 demo articles (zh + en, real
   e5 vectors) plus synthetic articles up to --articles (default 10,000; 2 language versions each). The
   synthetic ones recombine demo sentences with random words; their vectors are demo vectors plus noise,
   renormalised — embedding 20,000 versions for real takes ~30 min, and search cost does not depend on the
   vector values. Real embedding throughput is measured separately on the demo versions.
2. Full rebuild: `LiveIndex.get` on a cold index = read every published version with its stored vectors,
   tokenise (jieba/English) and build BM25 postings and the vector matrices.
3. Search: --queries distinct questions (tuning questions × random suffixes, so the query-vector cache
   never helps), timed one by one through `SearchIndex.search` as the API calls it.
Writes bench/results/knowledge_search.json.
Usage: `nice -n 10 .venvs/crm/bin/python bench/knowledge_search.py [--articles 10000] [--postgres]`.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from crm_backend.cli import migrate  # noqa: E402
from crm_backend.core.db import make_engine, utcnow  # noqa: E402
from crm_backend.knowledge import live  # noqa: E402
from crm_backend.knowledge.evaluate import demo_articles, read_questions  # noqa: E402
from crm_backend.knowledge.models import Article, ArticleTranslation  # noqa: E402
from crm_backend.knowledge.search import DIM, embed_version  # noqa: E402
from testing.services import fresh_database_url  # noqa: E402

TUNING = ROOT / "crm_backend" / "knowledge" / "tuning"
WORDS_EN = "blue quick parcel garden silver window budget coffee winter market ticket ocean river music".split()
WORDS_ZH = "蓝色 快速 包裹 花园 银色 窗户 预算 咖啡 冬天 市场 海洋 河流 音乐 城市 周末".split()


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.array(values), q))


def load(url: str, count: int, rng: random.Random) -> dict[str, Any]:
    migrate(url)
    engine = make_engine(url)
    articles = demo_articles()
    started = time.monotonic()
    vectors = {}
    for article in articles:
        for lang, (title, body) in article.versions.items():
            vectors[(article.slug, lang)] = embed_version(title, body, article.tags)
    embed_seconds = time.monotonic() - started
    versions = sum(len(a.versions) for a in articles)
    now = utcnow()
    article_rows, translation_rows = [], []
    for number in range(count):
        source = articles[number % len(articles)]
        slug = source.slug if number < len(articles) else f"{source.slug}-{number}"
        article_rows.append({"id": number + 1, "slug": slug, "category": source.category, "tags": source.tags,
                             "status": "published", "version": 1, "views": 0, "created_by": "bench",
                             "updated_by": "bench", "created_at": now, "updated_at": now, "published_at": now})
        for lang, (title, body) in source.versions.items():
            title_vec, body_vec = vectors[(source.slug, lang)]
            if number >= len(articles):
                words = WORDS_ZH if lang == "zh" else WORDS_EN
                extra = " ".join(rng.sample(words, 3))
                title, body = f"{title} {extra}", f"{body}\n\n{extra} {number}"
                noisy = []
                for raw in (title_vec, body_vec):
                    vec = np.frombuffer(raw, dtype=np.float32) + np.asarray(
                        [rng.gauss(0, 0.02) for _ in range(DIM)], dtype=np.float32)
                    noisy.append((vec / np.linalg.norm(vec)).astype(np.float32).tobytes())
                title_vec, body_vec = noisy
            translation_rows.append({"article_id": number + 1, "language": lang, "title": title[:200], "body": body,
                                     "title_vector": title_vec, "body_vector": body_vec})
    with Session(engine) as session:
        session.execute(insert(Article), article_rows)
        for start in range(0, len(translation_rows), 2000):
            session.execute(insert(ArticleTranslation), translation_rows[start:start + 2000])
        session.commit()
    engine.dispose()
    return {"embed_ms_per_version": round(embed_seconds / versions * 1000, 1), "demo_versions": versions,
            "versions": len(translation_rows)}


def run(url: str, *, count: int, queries: int, rng: random.Random) -> dict[str, Any]:
    loaded = load(url, count, rng)
    engine = make_engine(url)
    index = live.LiveIndex()
    with Session(engine) as session:
        started = time.monotonic()
        built = index.get(session)
        rebuild = time.monotonic() - started
    questions = [(q, lang) for lang in ("zh", "en") for q, _ in read_questions(TUNING / f"{lang}.tsv")]
    built.search("warm up", language="en")
    timings = []
    for number in range(queries):
        question, lang = questions[number % len(questions)]
        suffix = rng.choice(WORDS_ZH if lang == "zh" else WORDS_EN)
        text = f"{question} {suffix}{number}"
        started = time.perf_counter()
        built.search(text, language=lang, limit=5)
        timings.append((time.perf_counter() - started) * 1000)
    engine.dispose()
    return {**loaded, "articles": count, "indexed_versions": built.size, "rebuild_s": round(rebuild, 2),
            "queries": queries, "search_ms": {"p50": round(statistics.median(timings), 2),
                                              "p95": round(percentile(timings, 95), 2),
                                              "max": round(max(timings), 2)}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=400)
    parser.add_argument("--postgres", action="store_true", help="also run on PostgreSQL (database kefu_bench_kb)")
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        results["sqlite"] = run(f"sqlite:///{tmp}/bench.db", count=args.articles, queries=args.queries,
                                rng=random.Random(7))
        print("sqlite", json.dumps(results["sqlite"]))
    if args.postgres:
        results["postgresql"] = run(fresh_database_url("kefu_bench_kb"), count=args.articles,
                                    queries=args.queries, rng=random.Random(7))
        print("postgresql", json.dumps(results["postgresql"]))
    out = ROOT / "bench" / "results" / "knowledge_search.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
