"""Held-out NLU examples and the scores both gates compute from them (scripts/check_nlu_gates.py and the
training worker's promotion gate)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any


def load_examples_file(path: Path) -> list[Any]:
    """The intent examples of one Rasa NLU file (Rasa `Message`s)."""
    from rasa.shared.nlu.training_data.loading import load_data

    return list(load_data(str(path)).intent_examples)


def load_examples(folder: Path) -> list[Any]:
    """The intent examples of every `*.yml` file in `folder`, files in name order."""
    examples = []
    for path in sorted(folder.glob("*.yml")):
        examples += load_examples_file(path)
    return examples


def intent_scores(pairs: Iterable[tuple[str, str]]) -> tuple[float, dict[str, dict[str, float]]]:
    """Accuracy and per-intent F1 (with support) of (gold, predicted) intent pairs."""
    gold_count: Counter[str] = Counter()
    predicted_count: Counter[str] = Counter()
    hits: Counter[str] = Counter()
    total = correct = 0
    for gold, predicted in pairs:
        total += 1
        gold_count[gold] += 1
        predicted_count[predicted] += 1
        if gold == predicted:
            correct += 1
            hits[gold] += 1
    per_intent = {}
    for intent in sorted(gold_count):
        precision = hits[intent] / predicted_count[intent] if predicted_count[intent] else 0.0
        recall = hits[intent] / gold_count[intent]
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_intent[intent] = {"f1": round(f1, 4), "support": gold_count[intent]}
    return (correct / total if total else 0.0), per_intent
