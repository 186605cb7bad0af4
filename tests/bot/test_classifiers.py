"""LinearIntentClassifier (+ E5SentenceFeaturizer) on a Jieba + CountVectors pipeline, Chinese and English."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import CountVectorsFeaturizer
from rasa.nlu.tokenizers.jieba_tokenizer import JiebaTokenizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.classifiers import LinearIntentClassifier
from bot.sentence_embeddings import E5SentenceFeaturizer

EXAMPLES = {
    "check_points": [
        "我的积分还有多少", "查一下积分余额", "积分多少", "我有多少积分啊", "帮我看看积分",
        "how many points do I have", "check my points balance", "what's my points balance",
        "points balance please", "show me my reward points",
    ],
    "track_order": [
        "我的订单到哪了", "快递什么时候到", "查一下物流", "订单怎么还没到", "我的包裹在哪里",
        "where is my order", "track my package", "when will my order arrive",
        "my parcel has not arrived", "order status please",
    ],
    "request_human": [
        "转人工", "我要找人工客服", "让真人来回答", "人工服务", "找个客服跟我说",
        "talk to a human", "I want a real person", "connect me to an agent",
        "human agent please", "let me speak to someone",
    ],
}
HELD_OUT = [
    ("积分余额是多少", "check_points"),
    ("can you check my points", "check_points"),
    ("包裹什么时候到", "track_order"),
    ("where's my parcel", "track_order"),
    ("我要人工", "request_human"),
    ("speak to a real agent", "request_human"),
]


def _context(node: str) -> ExecutionContext:
    return ExecutionContext(GraphSchema({}), node_name=node)


def _featurizers(storage: LocalModelStorage, with_e5: bool) -> list:
    """Jieba tokens, word 1-2 and char_wb 2-4 counts (the Kefu-style pipeline), optionally e5."""
    components: list = [
        JiebaTokenizer.create(JiebaTokenizer.get_default_config(), storage, Resource("tok"), _context("tok")),
        CountVectorsFeaturizer.create(
            {**CountVectorsFeaturizer.get_default_config(), "token_pattern": r"(?u)\b\w+\b", "max_ngram": 2},
            storage, Resource("cvf_word"), _context("cvf_word"),
        ),
        CountVectorsFeaturizer.create(
            {**CountVectorsFeaturizer.get_default_config(), "analyzer": "char_wb", "min_ngram": 2, "max_ngram": 4},
            storage, Resource("cvf_char"), _context("cvf_char"),
        ),
    ]
    if with_e5:
        config = E5SentenceFeaturizer.get_default_config()
        components.append(E5SentenceFeaturizer.create(config, storage, Resource("e5"), _context("e5")))
    return components


def _train(tmp_path: Path, with_e5: bool, config: dict | None = None):
    storage = LocalModelStorage(tmp_path)
    data = TrainingData([Message(data={TEXT: t, "intent": i}) for i, texts in EXAMPLES.items() for t in texts])
    featurizers = _featurizers(storage, with_e5)
    for component in featurizers:
        if hasattr(component, "train"):
            component.train(data)
        component.process_training_data(data)
    resource = Resource("linear_intent")
    classifier = LinearIntentClassifier.create(
        {**LinearIntentClassifier.get_default_config(), **(config or {})}, storage, resource, _context("clf")
    )
    classifier.train(data)
    return storage, resource, featurizers, classifier


def _predict(featurizers: list, classifier: LinearIntentClassifier, texts: list[str]) -> list[Message]:
    messages = [Message(data={TEXT: t}) for t in texts]
    for component in featurizers:
        component.process(messages)
    return classifier.process(messages)


@pytest.mark.parametrize("with_e5", [False, True], ids=["sparse", "sparse+e5"])
def test_classifies_chinese_and_english(tmp_path: Path, with_e5: bool) -> None:
    _, _, featurizers, classifier = _train(tmp_path, with_e5)
    messages = _predict(featurizers, classifier, [text for text, _ in HELD_OUT])
    predicted = [m.get("intent")["name"] for m in messages]
    assert predicted == [intent for _, intent in HELD_OUT]
    for message in messages:
        ranking = message.get("intent_ranking")
        confidences = [r["confidence"] for r in ranking]
        assert confidences == sorted(confidences, reverse=True)
        assert ranking[0] == message.get("intent")
        assert {r["name"] for r in ranking} == set(EXAMPLES)
        assert sum(confidences) == pytest.approx(1.0, abs=1e-5)
    dense_blocks = [block for block in classifier.layout if not block[1]]
    assert len(dense_blocks) == (1 if with_e5 else 0)


def test_persisted_model_predicts_the_same(tmp_path: Path) -> None:
    storage, resource, featurizers, classifier = _train(tmp_path, with_e5=False)
    texts = [text for text, _ in HELD_OUT] + ["积分 balance", "我的order到了吗"]
    before = [m.get("intent_ranking") for m in _predict(featurizers, classifier, texts)]
    loaded = LinearIntentClassifier.load(
        LinearIntentClassifier.get_default_config(), storage, resource, _context("clf")
    )
    after = [m.get("intent_ranking") for m in _predict(featurizers, loaded, texts)]
    assert [[r["name"] for r in ranking] for ranking in after] == [[r["name"] for r in ranking] for ranking in before]
    np.testing.assert_allclose(
        [[r["confidence"] for r in ranking] for ranking in after],
        [[r["confidence"] for r in ranking] for ranking in before], rtol=1e-5,
    )
    assert loaded.temperature == classifier.temperature


def test_fixed_temperature_and_logistic_model(tmp_path: Path) -> None:
    _, _, featurizers, classifier = _train(tmp_path, with_e5=False, config={"model": "logistic", "temperature": 1.0,
                                                                           "ranking_length": 2})
    assert classifier.temperature == 1.0
    (message,) = _predict(featurizers, classifier, ["查一下积分余额"])
    assert message.get("intent")["name"] == "check_points"
    assert len(message.get("intent_ranking")) == 2


def test_untrained_component_leaves_messages_alone(tmp_path: Path) -> None:
    storage = LocalModelStorage(tmp_path)
    classifier = LinearIntentClassifier.load(
        LinearIntentClassifier.get_default_config(), storage, Resource("missing"), _context("clf")
    )
    (message,) = classifier.process([Message(data={TEXT: "hello"})])
    assert message.get("intent") is None


def test_e5_featurizer_adds_one_normalised_sentence_vector(tmp_path: Path) -> None:
    storage = LocalModelStorage(tmp_path)
    featurizer = E5SentenceFeaturizer.create(
        E5SentenceFeaturizer.get_default_config(), storage, Resource("e5"), _context("e5")
    )
    messages = featurizer.process([Message(data={TEXT: "我的order到了吗"}), Message(data={TEXT: "where is my order"})])
    vectors = [m.get_dense_features(TEXT)[1].features for m in messages]
    assert all(v.shape == (1, 384) for v in vectors)
    assert np.linalg.norm(vectors[0]) == pytest.approx(1.0, abs=1e-3)
    # Same meaning across languages should be closer than an unrelated sentence.
    (other,) = featurizer.process([Message(data={TEXT: "今天天气真好"})])
    unrelated = other.get_dense_features(TEXT)[1].features
    assert float(vectors[0] @ vectors[1].T) > float(vectors[0] @ unrelated.T)
