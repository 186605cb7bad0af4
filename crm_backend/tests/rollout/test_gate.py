"""The promotion gate's verdict on before/after figures."""

from __future__ import annotations

from typing import Any

from crm_backend.rollout.gate import verdict


def scores(accuracy: float, f1: dict[str, float], annotations: float | None = None) -> dict[str, Any]:
    splits = {"nlu_test": {"n": 100, "accuracy": accuracy}}
    if annotations is not None:
        splits["annotations"] = {"n": 5, "accuracy": annotations}
    return {"accuracy": accuracy, "splits": splits,
            "per_intent": {name: {"f1": value, "support": 10} for name, value in f1.items()}}


def test_no_worse_passes_and_nothing_serving_passes() -> None:
    before = scores(0.95, {"greet": 0.90, "faq": 0.95})
    assert verdict({"before": before, "after": scores(0.95, {"greet": 0.90, "faq": 0.95})})["passed"]
    assert verdict({"before": None, "after": scores(0.5, {"greet": 0.1})})["passed"]
    assert not verdict({"before": before, "after": None})["passed"]


def test_an_accuracy_drop_is_refused_in_both_languages() -> None:
    result = verdict({"before": scores(0.95, {"greet": 0.9}), "after": scores(0.94, {"greet": 0.9})})
    assert not result["passed"]
    assert any("95.0% to 94.0%" in r for r in result["reasons_en"])
    assert any("留出集准确率" in r for r in result["reasons_zh"])


def test_a_drop_on_the_held_out_annotations_alone_is_refused() -> None:
    result = verdict({"before": scores(0.95, {"greet": 0.9}, annotations=0.8),
                      "after": scores(0.95, {"greet": 0.9}, annotations=0.6)})
    assert not result["passed"] and "held-out annotations" in result["reasons_en"][0]


def test_an_intent_may_lose_two_points_of_f1_but_not_more() -> None:
    before = scores(0.95, {"greet": 0.90, "faq": 0.95})
    assert verdict({"before": before, "after": scores(0.95, {"greet": 0.88, "faq": 0.97})})["passed"]
    refused = verdict({"before": before, "after": scores(0.95, {"greet": 0.879, "faq": 0.97})})
    assert not refused["passed"]
    assert refused["reasons_en"] == ["F1 of greet drops 2.1 points (0.900 → 0.879)"]
    assert "greet" in refused["reasons_zh"][0]
    missing = verdict({"before": before, "after": scores(0.95, {"faq": 0.97})})  # an intent no longer predicted
    assert not missing["passed"]
