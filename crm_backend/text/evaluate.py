"""Accuracy on the held-out split: ``python -m crm_backend.text.evaluate``.

Writes ``var/reports/text_analysis.json`` and prints accuracy per language and task.
"""

import json
import sys
from typing import Any

from crm_backend.text.analyzer import classify
from crm_backend.text.data import LANGUAGES, ROOT, TASKS, load_examples

TARGETS = {"sentiment": 0.85, "category": 0.80}


def evaluate() -> dict[str, Any]:
    """Accuracy, counts and misclassified examples per language and task on ``<lang>_test.tsv``."""
    report: dict[str, Any] = {"targets": TARGETS, "results": {}}
    for language in LANGUAGES:
        examples = load_examples(language, "test")
        for task in TASKS:
            errors = []
            for e in examples:
                probs = classify(e.text, language, task)
                predicted = max(probs, key=lambda k: probs[k])
                if predicted != e.label(task):
                    errors.append({"text": e.text, "gold": e.label(task), "predicted": predicted})
            accuracy = 1 - len(errors) / len(examples)
            report["results"][f"{language}_{task}"] = {
                "language": language,
                "task": task,
                "n": len(examples),
                "accuracy": round(accuracy, 4),
                "target": TARGETS[task],
                "meets_target": accuracy >= TARGETS[task],
                "errors": errors,
            }
    return report


def main() -> int:
    """Print the accuracy table and write the JSON report; exit 1 if a target is missed."""
    report = evaluate()
    out = ROOT / "var" / "reports" / "text_analysis.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    for r in report["results"].values():
        mark = "ok" if r["meets_target"] else "BELOW TARGET"
        print(f"{r['language']} {r['task']:<9} accuracy {r['accuracy']:.1%} "
              f"(n={r['n']}, target {r['target']:.0%}) {mark}")
    print(f"report: {out}")
    return 0 if all(r["meets_target"] for r in report["results"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
