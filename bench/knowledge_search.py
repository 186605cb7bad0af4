"""Knowledge search at 10,000 articles in one CRM process: search latency and full index rebuild time.

1. A fresh database (SQLite file, and PostgreSQL with --postgres) gets the 86 demo articles (zh + en, real
   e5 vectors) plus synthetic articles up to --articles (default 10,000; 2 language versions each). The
   synthetic ones recombine demo sentences with random words; their vectors are demo vectors plus noise,
   renormalised — embedding 20,000 versions for real takes ~30 min, and search cost does not depend on the
   vector values. Real embedding throughput is measured separately on the demo versions. 4,400 questions
   recorded as not answered (the demo's 440 and noisy copies) are compared with every question searched.
2. Full rebuild: `LiveIndex.get` on a cold index = read every published version with its stored vectors,
   tokenise (jieba/English) and build BM25 postings and the vector matrices.
3. Search: --queries distinct questions (tuning questions × random suffixes, so the query-vector cache
   never helps), timed one by one through `SearchIndex.search` as the API calls it, interleaved across the
   SQLite-built and the PostgreSQL-built index (A B, B A, …) so both see the same machine load.
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
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from crm_backend.cli import migrate  # noqa: E402
from crm_backend.core.db import make_engine, utcnow  # noqa: E402
from crm_backend.knowledge import live, search  # noqa: E402
from crm_backend.knowledge.evaluate import demo_articles, demo_unanswered, tsv_pairs  # noqa: E402
from crm_backend.knowledge.models import Article, ArticleTranslation, UnansweredQuestion  # noqa: E402
from crm_backend.knowledge.search import DIM, embed_questions, embed_version  # noqa: E402
from testing.services import fresh_database_url  # noqa: E402

TUNING = ROOT / "crm_backend" / "knowledge" / "tuning"
EMBED_SAMPLE = 10  # articles whose versions are embedded for real to time embedding
UNANSWERED_COPIES = 10
WORDS_EN = "blue quick parcel garden silver window budget coffee winter market ticket ocean river music".split()
WORDS_ZH = "蓝色 快速 包裹 花园 银色 窗户 预算 咖啡 冬天 市场 海洋 河流 音乐 城市 周末".split()


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.array(values), q))


def load(url: str, count: int, rng: random.Random) -> dict[str, Any]:
    migrate(url)
    engine = make_engine(url)
    articles = demo_articles()
    vectors = {}
    for article in articles:
        for lang, (title, body, questions) in article.versions.items():
            vectors[(article.slug, lang)] = (*embed_version(title, body, article.tags), embed_questions(questions))
    # The demo vectors are shipped precomputed, so time real embeddings (what a supervisor's save costs) on a
    # sample: one title `query:` and one body `passage:` per version.
    sample = [(title, body) for article in articles[:EMBED_SAMPLE] for title, body, _ in article.versions.values()]
    started = time.monotonic()
    for title, body in sample:
        search._model().query(title)
        search.embed_passages([f"{title}\n{body}"])
    embed_seconds = time.monotonic() - started
    versions = sum(len(a.versions) for a in articles)
    now = utcnow()
    article_rows, translation_rows = [], []
    noise = np.random.default_rng(rng.randrange(2**32))
    for number in range(count):
        source = articles[number % len(articles)]
        slug = source.slug if number < len(articles) else f"{source.slug}-{number}"
        article_rows.append({"id": number + 1, "slug": slug, "category": source.category, "tags": source.tags,
                             "status": "published", "version": 1, "views": 0, "created_by": "bench",
                             "updated_by": "bench", "created_at": now, "updated_at": now, "published_at": now})
        for lang, (title, body, questions) in source.versions.items():
            title_vec, body_vec, questions_vec = vectors[(source.slug, lang)]
            if number >= len(articles):
                words = WORDS_ZH if lang == "zh" else WORDS_EN
                extra = " ".join(rng.sample(words, 3))
                title, body = f"{title} {extra}", f"{body}\n\n{extra} {number}"
                noisy = []
                for raw in (title_vec, body_vec, questions_vec):
                    rows = np.frombuffer(raw, dtype=np.float32).reshape(-1, DIM)
                    rows = rows + noise.normal(0.0, 0.02, rows.shape).astype(np.float32)
                    noisy.append((rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32).tobytes())
                title_vec, body_vec, questions_vec = noisy
            # Every version lists its customers' questions, as the demo articles do (6 each).
            translation_rows.append({"article_id": number + 1, "language": lang, "title": title[:200], "body": body,
                                     "title_vector": title_vec, "body_vector": body_vec,
                                     "questions": list(questions), "questions_vector": questions_vec})
    # Questions recorded as not answered, after the articles were saved: the demo's 440 and noisy copies of them,
    # ten times as many (a shop with 10,000 articles records more), all compared with every question searched.
    recorded = []
    for copy in range(UNANSWERED_COPIES):
        for language, question in demo_unanswered():
            row = np.frombuffer(embed_questions([question]), dtype=np.float32)
            if copy:
                row = row + noise.normal(0.0, 0.02, row.shape).astype(np.float32)
                row = row / np.linalg.norm(row)
            recorded.append({"language": language, "question": f"{question} #{copy}", "author": "bench",
                             "vector": row.astype(np.float32).tobytes(), "created_at": now + timedelta(seconds=1)})
    with Session(engine) as session:
        session.execute(insert(Article), article_rows)
        for start in range(0, len(translation_rows), 2000):
            session.execute(insert(ArticleTranslation), translation_rows[start:start + 2000])
        session.execute(insert(UnansweredQuestion), recorded)
        session.commit()
    engine.dispose()
    return {"embed_ms_per_version": round(embed_seconds / len(sample) * 1000, 1), "demo_versions": versions,
            "versions": len(translation_rows), "recorded_unanswered": len(recorded)}


def build(url: str, *, count: int, rng: random.Random) -> tuple[Any, dict[str, Any]]:
    """Load the database and time a full rebuild of a cold index from it."""
    loaded = load(url, count, rng)
    engine = make_engine(url)
    index = live.LiveIndex()
    with Session(engine) as session:
        started = time.monotonic()
        built = index.get(session)
        rebuild = time.monotonic() - started
    engine.dispose()
    return built, {**loaded, "articles": count, "indexed_versions": built.size, "rebuild_s": round(rebuild, 2)}


def time_searches(indexes: dict[str, Any], *, queries: int, rng: random.Random) -> dict[str, list[float]]:
    """Each question on every index in turn (A B, then B A), so load on the shared machine hits all alike."""
    questions = [(q, lang) for lang in ("zh", "en") for q, _ in tsv_pairs(TUNING / f"{lang}.tsv")]
    names = list(indexes)
    for built in indexes.values():
        built.search("warm up", language="en")
    timings: dict[str, list[float]] = {name: [] for name in names}
    for number in range(queries):
        question, lang = questions[number % len(questions)]
        suffix = rng.choice(WORDS_ZH if lang == "zh" else WORDS_EN)
        text = f"{question} {suffix}{number}"
        # The first search of a text embeds it (e5, cached afterwards): that is part of every index's cost, so
        # it is timed separately and added to each, instead of charging it to whichever index ran first.
        started = time.perf_counter()
        search.embed_query(text.strip())
        embed_ms = (time.perf_counter() - started) * 1000
        for name in names if number % 2 == 0 else reversed(names):
            started = time.perf_counter()
            indexes[name].search(text, language=lang, limit=5)
            timings[name].append(embed_ms + (time.perf_counter() - started) * 1000)
    return timings


def summary(values: list[float]) -> dict[str, float]:
    return {"p50": round(statistics.median(values), 2), "p95": round(percentile(values, 95), 2),
            "max": round(max(values), 2)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=400)
    parser.add_argument("--postgres", action="store_true", help="also run on PostgreSQL (database kefu_bench_kb)")
    args = parser.parse_args()
    results: dict[str, dict[str, Any]] = {}
    indexes: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        indexes["sqlite"], results["sqlite"] = build(f"sqlite:///{tmp}/bench.db", count=args.articles,
                                                     rng=random.Random(7))
        if args.postgres:
            indexes["postgresql"], results["postgresql"] = build(fresh_database_url("kefu_bench_kb"),
                                                                 count=args.articles, rng=random.Random(7))
    timings = time_searches(indexes, queries=args.queries, rng=random.Random(11))
    for name, values in timings.items():
        results[name].update(queries=args.queries, search_ms=summary(values))
        print(name, json.dumps(results[name]))
    out = ROOT / "bench" / "results" / "knowledge_search.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
