"""The trained spaCy models meet the accuracy targets on the held-out split (never trained on)."""

import pytest

from crm_backend.text.analyzer import analyze
from crm_backend.text.data import LANGUAGES, load_examples
from crm_backend.text.evaluate import TARGETS, evaluate


@pytest.fixture(scope="module")
def report() -> dict:
    return evaluate()["results"]


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("task", ["sentiment", "category"])
def test_accuracy_meets_target(report: dict, language: str, task: str) -> None:
    result = report[f"{language}_{task}"]
    assert result["n"] >= 60
    assert result["accuracy"] >= TARGETS[task], result["errors"]


def test_held_out_split_is_disjoint_from_training() -> None:
    for language in LANGUAGES:
        train = {e.text for e in load_examples(language, "train")}
        test = {e.text for e in load_examples(language, "test")}
        assert len(train) >= 150
        assert not train & test


def test_analyze_redacts_and_labels() -> None:
    result = analyze("快递一个星期都没到，太慢了！我的电话13800000002")
    assert result.language == "zh"
    assert result.sentiment.label == "negative"
    assert result.sentiment.score < 0
    assert result.category.label == "delivery"
    assert "13800000002" not in result.redacted and "[PHONE]" in result.redacted

    english = analyze("Thanks, the support agent was really helpful and kind")
    assert english.language == "en"
    assert english.sentiment.label == "positive"
    assert 0 < english.sentiment.score <= 1
