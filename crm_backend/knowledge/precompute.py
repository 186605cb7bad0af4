"""Write knowledge/demo/vectors.npz, the e5 vectors of every demo version and recorded unanswered question.

Usage: `python -m crm_backend.knowledge.precompute`.

Run it after editing the demo articles; a version whose text changed is simply embedded at load time.
"""

from __future__ import annotations

import numpy as np

from crm_backend.knowledge import search
from crm_backend.knowledge.evaluate import demo_articles, demo_unanswered


def main() -> None:
    arrays: dict[str, np.ndarray] = {}
    search._precomputed.cache_clear()
    questions = [question for _, question in demo_unanswered()]
    for article in demo_articles():
        for title, body, asked in article.versions.values():
            key = search.version_key(title, body, article.tags)
            title_vector, body_vector = search.embed_version(title, body, article.tags)
            arrays[f"t{key}"] = np.frombuffer(title_vector, dtype=np.float32)
            arrays[f"b{key}"] = np.frombuffer(body_vector, dtype=np.float32)
            questions.extend(asked)
    for question in questions:
        arrays[f"q{search.question_key(question)}"] = np.frombuffer(search.embed_questions([question]),
                                                                    dtype=np.float32)
    np.savez_compressed(search.PRECOMPUTED, **arrays)  # type: ignore[arg-type]
    versions = sum(key.startswith("t") for key in arrays)
    print(f"{versions} versions, {len(arrays) - 2 * versions} questions → {search.PRECOMPUTED}")


if __name__ == "__main__":
    main()
