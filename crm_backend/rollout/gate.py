"""The promotion gate: a candidate may replace the serving model only if it is no worse on held-out data.

Refused when held-out accuracy drops (overall, or on either split: data/nlu_test and the held-out slice of
the annotations) or when any intent's F1 drops by more than two points. The figures come from the training
worker, which evaluates the candidate and the model serving when the training started on the same examples.
"""

from __future__ import annotations

from typing import Any

F1_DROP_LIMIT = 0.02
SPLITS = {"nlu_test": ("data/nlu_test", "data/nlu_test"), "annotations": ("held-out annotations", "留出的标注")}


def verdict(evaluation: dict[str, Any]) -> dict[str, Any]:
    """`{"passed", "reasons_en", "reasons_zh"}` for a worker's before/after evaluation."""
    before, after = evaluation.get("before"), evaluation.get("after")
    en: list[str] = []
    zh: list[str] = []
    if not after:
        return {"passed": False, "reasons_en": ["the candidate was not evaluated"], "reasons_zh": ["候选模型未经评估"]}
    if not before:  # nothing serves yet: nothing to be worse than
        return {"passed": True, "reasons_en": [], "reasons_zh": []}
    if after["accuracy"] < before["accuracy"]:
        en.append(f"held-out accuracy drops from {before['accuracy']:.1%} to {after['accuracy']:.1%}")
        zh.append(f"留出集准确率从 {before['accuracy']:.1%} 降到 {after['accuracy']:.1%}")
    for split, (name_en, name_zh) in SPLITS.items():
        old, new = before["splits"].get(split), after["splits"].get(split)
        if old and new and old["n"] and new["n"] and new["accuracy"] < old["accuracy"]:
            en.append(f"accuracy on {name_en} drops from {old['accuracy']:.1%} to {new['accuracy']:.1%}")
            zh.append(f"{name_zh}准确率从 {old['accuracy']:.1%} 降到 {new['accuracy']:.1%}")
    for intent, old_scores in sorted(before["per_intent"].items()):
        new_f1 = after["per_intent"].get(intent, {}).get("f1", 0.0)
        drop = old_scores["f1"] - new_f1
        if drop > F1_DROP_LIMIT + 1e-9:
            en.append(f"F1 of {intent} drops {drop * 100:.1f} points ({old_scores['f1']:.3f} → {new_f1:.3f})")
            zh.append(f"意图 {intent} 的 F1 下降 {drop * 100:.1f} 个百分点（{old_scores['f1']:.3f} → {new_f1:.3f}）")
    return {"passed": not en, "reasons_en": en, "reasons_zh": zh}
