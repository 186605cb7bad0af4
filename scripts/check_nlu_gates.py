"""Held-out NLU quality gates: intent accuracy per language and entity F1 on data/nlu_test/, and the
share of never-seen, off-topic questions (data/nlu_oos/test.yml) the bot declines, per language.

    .venvs/bot/bin/python scripts/check_nlu_gates.py --model models/kefu-<fp>.tar.gz

Writes var/reports/nlu_gates.json (errors included) and exits 1 below the gates.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.evaluation import load_examples, load_examples_file  # noqa: E402

INTENT_GATE = 0.95
ENTITY_F1_GATE = 0.90
OOS_DECLINE_GATE = 0.70
# Parses that make the bot decline (say what it can do, or ask for a rephrase) instead of answering.
DECLINED = ("out_of_scope", "nlu_fallback")


def entity_set(entities: list[dict[str, Any]]) -> set[tuple[str, int, int, str]]:
    return {(e["entity"], int(e["start"]), int(e["end"]), str(e["value"]).lower()) for e in entities
            if e.get("entity") != "language"}


async def declines(agent: Any, path: Path) -> dict[str, Any]:
    """Per language, how many of the out-of-scope questions in `path` the bot declines."""
    from bot.language import detect_language

    counts: dict[str, Counter] = defaultdict(Counter)
    answered = []
    for example in load_examples_file(path):
        text = example.get("text")
        parse = await agent.parse_message(text)
        lang = detect_language(text) or "neutral"
        counts[lang]["total"] += 1
        if parse.get("intent", {}).get("name") in DECLINED:
            counts[lang]["declined"] += 1
        else:
            answered.append({"text": text, "language": lang, "predicted": parse.get("intent", {}).get("name") or "",
                             "confidence": round(parse.get("intent", {}).get("confidence", 0.0), 3)})
    return {"decline_rate": {lang: round(c["declined"] / c["total"], 4) for lang, c in sorted(counts.items())},
            "counts": {lang: dict(c) for lang, c in sorted(counts.items())}, "answered": answered}


async def evaluate(model: str, folder: Path, oos: Path) -> dict[str, Any]:
    from rasa.core.agent import Agent

    from bot.language import detect_language

    started = time.monotonic()
    agent = Agent.load(model)
    load_s = time.monotonic() - started
    per_lang: dict[str, Counter] = defaultdict(Counter)
    tp = fp = fn = 0
    errors: list[dict[str, Any]] = []
    started = time.monotonic()
    examples = load_examples(folder)
    for example in examples:
        text = example.get("text")
        gold = example.get_full_intent()
        parse = await agent.parse_message(text)
        predicted = parse.get("intent", {}).get("name") or ""
        lang = detect_language(text) or "neutral"
        per_lang[lang]["total"] += 1
        per_lang[lang]["correct"] += int(predicted == gold)
        gold_entities = entity_set(example.get("entities") or [])
        predicted_entities = entity_set(parse.get("entities") or [])
        tp += len(gold_entities & predicted_entities)
        fp += len(predicted_entities - gold_entities)
        fn += len(gold_entities - predicted_entities)
        if predicted != gold or gold_entities != predicted_entities:
            errors.append({"text": text, "language": lang, "intent": gold, "predicted": predicted,
                           "confidence": round(parse.get("intent", {}).get("confidence", 0.0), 3),
                           "missed_entities": sorted(gold_entities - predicted_entities),
                           "extra_entities": sorted(predicted_entities - gold_entities)})
    parse_ms = 1000 * (time.monotonic() - started) / max(1, len(examples))
    out_of_scope = await declines(agent, oos)
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "model": os.path.basename(model),
        "examples": len(examples),
        "intent_accuracy": {lang: round(c["correct"] / c["total"], 4) for lang, c in sorted(per_lang.items())},
        "counts": {lang: dict(c) for lang, c in sorted(per_lang.items())},
        "entity": {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4),
                   "true_positives": tp, "false_positives": fp, "false_negatives": fn},
        "out_of_scope": out_of_scope,
        "gates": {"intent_accuracy_per_language": INTENT_GATE, "entity_f1": ENTITY_F1_GATE,
                  "oos_decline_rate_per_language": OOS_DECLINE_GATE},
        "model_load_s": round(load_s, 1),
        "parse_ms_per_message": round(parse_ms, 1),
        "errors": errors,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--data", default=str(ROOT / "data" / "nlu_test"))
    parser.add_argument("--oos", default=str(ROOT / "data" / "nlu_oos" / "test.yml"))
    parser.add_argument("--out", default=str(Path(os.environ.get("KEFU_VAR_DIR", ROOT / "var")) / "reports"
                                             / "nlu_gates.json"))
    args = parser.parse_args()
    logging.getLogger().setLevel(logging.WARNING)
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)  # Rasa's structlog otherwise prints a debug line per parsed message
    report = asyncio.run(evaluate(args.model, Path(args.data), Path(args.oos)))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    failures = [f"intent accuracy ({lang}) {acc:.1%} < {INTENT_GATE:.0%}"
                for lang, acc in report["intent_accuracy"].items() if lang in ("zh", "en") and acc < INTENT_GATE]
    missing = [lang for lang in ("zh", "en") if lang not in report["intent_accuracy"]]
    failures += [f"no {lang} examples in {args.data}" for lang in missing]
    oos = report["out_of_scope"]
    failures += [f"out-of-scope decline rate ({lang}) {oos['decline_rate'].get(lang, 0.0):.1%} < "
                 f"{OOS_DECLINE_GATE:.0%}" for lang in ("zh", "en")
                 if oos["decline_rate"].get(lang, 0.0) < OOS_DECLINE_GATE]
    if report["entity"]["f1"] < ENTITY_F1_GATE:
        failures.append(f"entity F1 {report['entity']['f1']:.3f} < {ENTITY_F1_GATE}")
    for lang, acc in report["intent_accuracy"].items():
        print(f"intent accuracy {lang:<7} {acc:7.2%}  ({report['counts'][lang]['correct']}/"
              f"{report['counts'][lang]['total']})")
    e = report["entity"]
    print(f"entity F1       {e['f1']:.4f}  (P {e['precision']:.3f} R {e['recall']:.3f}; "
          f"tp {e['true_positives']} fp {e['false_positives']} fn {e['false_negatives']})")
    for lang, rate in oos["decline_rate"].items():
        print(f"out-of-scope {lang:<7} {rate:7.2%}  declined ({oos['counts'][lang].get('declined', 0)}/"
              f"{oos['counts'][lang]['total']}, {args.oos})")
    print(f"{len(report['errors'])} misses and {len(oos['answered'])} answered off-topic questions listed in {out}")
    for failure in failures:
        print(f"GATE FAILED: {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
