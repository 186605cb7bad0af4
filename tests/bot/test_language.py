"""Language detection and tokenisation of mixed Chinese/English text (Rasa issue 7910)."""

from __future__ import annotations

import pytest
from rasa.engine.graph import ExecutionContext
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import CountVectorsFeaturizer
from rasa.nlu.tokenizers.jieba_tokenizer import JiebaTokenizer
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.language import LanguageDetector, detect_language
from bot.tokenizer import MixedJiebaTokenizer


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("我的积分有多少", "zh"),
        ("what is my points balance?", "en"),
        ("我的order到了吗", "zh"),
        ("积分 balance", "zh"),
        ("KF20250003 到哪了", "zh"),
        ("where is KF20250003", "en"),
        ("13800000003", None),
        ("KF20250003", None),
        ("482913", None),
        ("", None),
        ("ok", "en"),
    ],
)
def test_detect_language(text: str, expected: str | None) -> None:
    assert detect_language(text) == expected


def _tokenizer(tmp_path, cls):  # type: ignore[no-untyped-def]
    storage = LocalModelStorage(tmp_path)
    return cls.create({**cls.get_default_config()}, storage, Resource("tok"), ExecutionContext(None))


@pytest.mark.parametrize("text", ["积分 balance", "我的 order KF20250003 到了吗", "talk to 人工 please"])
def test_mixed_text_has_no_whitespace_tokens(tmp_path, text: str) -> None:  # type: ignore[no-untyped-def]
    stock = _tokenizer(tmp_path / "a", JiebaTokenizer).tokenize(Message(data={"text": text}), "text")
    ours = _tokenizer(tmp_path / "b", MixedJiebaTokenizer).tokenize(Message(data={"text": text}), "text")
    # The bug this guards against: the stock tokenizer emits " " tokens in mixed text.
    assert any(not t.text.strip() for t in stock)
    assert all(t.text.strip() for t in ours)
    for token in ours:
        assert text[token.start:token.end] == token.text, "offsets must point at the token in the text"


def test_mixed_text_featurizes_consistently(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Sequence features have one row per token: the mismatch of issue 7910 would break this."""
    tokenizer = _tokenizer(tmp_path / "t", MixedJiebaTokenizer)
    texts = ["积分 balance", "我的order到了吗", "查一下 my latest order 物流", "points 还有多少"]
    messages = [Message(data={"text": t, "intent": "x"}) for t in texts]
    training = TrainingData(messages)
    tokenizer.process_training_data(training)
    featurizer = CountVectorsFeaturizer.create(
        CountVectorsFeaturizer.get_default_config(), LocalModelStorage(tmp_path), Resource("cvf"),
        ExecutionContext(None))
    featurizer.train(training)
    featurizer.process_training_data(training)
    for message in messages:
        sequence, sentence = message.get_sparse_features("text")
        assert sequence is not None and sentence is not None
        assert sequence.features.shape[0] == len(message.get("text_tokens"))


def test_detector_sets_language_in_parse_output() -> None:
    detector = LanguageDetector()
    messages = detector.process([Message(data={"text": "积分 balance"}), Message(data={"text": "my order"}),
                                 Message(data={"text": "123456"})])
    assert [m.get("language") for m in messages] == ["zh", "en", None]
    assert "language" in messages[0].as_dict(only_output_properties=True)
