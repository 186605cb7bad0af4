"""OutOfScopeDetector: far-away messages become out_of_scope; near, entity-bearing or exempt ones stay."""

from __future__ import annotations

from pathlib import Path

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.oos import OutOfScopeDetector
from bot.sentence_embeddings import E5SentenceFeaturizer

EXAMPLES = {
    "check_points_balance": ["我的积分还有多少", "查一下积分余额", "how many points do I have",
                             "check my points balance"],
    "check_order_status": ["我的订单到哪了", "查一下物流", "where is my order", "track my package"],
    "out_of_scope": ["今天天气怎么样", "what's the weather like"],
}
# The thresholds config.yml ships with (scripts/tune_oos.py).
THRESHOLDS = {"zh": 0.895, "en": 0.875}


def _context(node: str) -> ExecutionContext:
    return ExecutionContext(GraphSchema({}), node_name=node)


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[E5SentenceFeaturizer, OutOfScopeDetector, Path]:
    folder = tmp_path_factory.mktemp("oos")
    storage = LocalModelStorage(folder)
    e5 = E5SentenceFeaturizer.create(E5SentenceFeaturizer.get_default_config(), storage, Resource("e5"),
                                     _context("e5"))
    data = TrainingData([Message(data={TEXT: t, INTENT: i}) for i, texts in EXAMPLES.items() for t in texts])
    e5.process_training_data(data)
    resource = Resource("oos")
    detector = OutOfScopeDetector.create({"thresholds": THRESHOLDS}, storage, resource, _context("oos"))
    detector.train(data)
    loaded = OutOfScopeDetector.load({"thresholds": THRESHOLDS}, storage, resource, _context("oos"))
    return e5, loaded, folder


def _parse(e5: E5SentenceFeaturizer, detector: OutOfScopeDetector, text: str, intent: str,
           entities: list[dict] | None = None) -> Message:
    message = Message(data={TEXT: text})
    message.set(INTENT, {"name": intent, "confidence": 0.9}, add_to_output=True)
    message.set(INTENT_RANKING_KEY, [{"name": intent, "confidence": 0.9}], add_to_output=True)
    message.set(ENTITIES, entities or [], add_to_output=True)
    e5.process([message])
    detector.process([message])
    return message


def test_references_are_the_in_scope_examples_only(trained) -> None:
    _, detector, _ = trained
    assert detector.references.shape == (8, 384)  # out_of_scope examples are not references


@pytest.mark.parametrize("text", ["积分余额还剩多少", "what's my points balance", "我的快递到哪里了",
                                  "where's my parcel"])
def test_in_scope_paraphrases_keep_their_intent(trained, text: str) -> None:
    e5, detector, _ = trained
    assert _parse(e5, detector, text, "check_points_balance").get(INTENT)["name"] == "check_points_balance"


@pytest.mark.parametrize("text", ["仓鼠能吃葡萄吗", "秦始皇统一六国是哪一年", "how do i unclog a toilet",
                                  "what are the basic rules of go"])
def test_unseen_topics_become_out_of_scope(trained, text: str) -> None:
    e5, detector, _ = trained
    message = _parse(e5, detector, text, "check_order_status")
    assert message.get(INTENT)["name"] == "out_of_scope"
    confidence = message.get(INTENT)["confidence"]
    assert 0.7 <= confidence <= 1.0
    # The classifier's guess stays in the ranking, after out_of_scope and far enough below it that the
    # FallbackClassifier (ambiguity threshold 0.05) does not call the decline ambiguous.
    ranking = message.get(INTENT_RANKING_KEY)
    assert [r["name"] for r in ranking] == ["out_of_scope", "check_order_status"]
    assert ranking[1]["confidence"] == pytest.approx(0.9 * (1 - confidence))
    assert confidence - ranking[1]["confidence"] > 0.4


def test_entities_and_exempt_intents_are_never_declined(trained) -> None:
    e5, detector, _ = trained
    phone = [{"entity": "phone", "value": "13800138000", "start": 5, "end": 16}]
    assert _parse(e5, detector, "仓鼠能吃葡萄吗 13800138000", "inform", phone).get(INTENT)["name"] == "inform"
    assert _parse(e5, detector, "how do i unclog a toilet", "affirm").get(INTENT)["name"] == "affirm"
    assert _parse(e5, detector, "how do i unclog a toilet", "check_order_status",
                  phone).get(INTENT)["name"] == "check_order_status"


def test_no_language_or_zero_threshold_switches_it_off(trained) -> None:
    e5, detector, folder = trained
    assert _parse(e5, detector, "123 456", "check_order_status").get(INTENT)["name"] == "check_order_status"
    storage = LocalModelStorage(folder)
    off = OutOfScopeDetector.load({"thresholds": {"zh": 0.0, "en": 0.0}}, storage, Resource("oos"), _context("oos"))
    assert _parse(e5, off, "how do i unclog a toilet", "check_order_status").get(INTENT)["name"] == "check_order_status"


def test_an_untrained_detector_leaves_messages_alone(tmp_path: Path, trained) -> None:
    e5, _, _ = trained
    empty = OutOfScopeDetector.load({"thresholds": THRESHOLDS}, LocalModelStorage(tmp_path), Resource("none"),
                                    _context("none"))
    assert _parse(e5, empty, "how do i unclog a toilet", "check_order_status").get(INTENT)["name"] \
        == "check_order_status"
