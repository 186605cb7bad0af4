"""The `language` slot follows the customer without an action-server call (bot.policies)."""

from __future__ import annotations

from pathlib import Path

import pytest
from rasa.engine.graph import ExecutionContext
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.policies import LanguageSlotPolicy

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(ROOT / "domain.yml")


@pytest.fixture()
def policy(tmp_path: Path) -> LanguageSlotPolicy:
    return LanguageSlotPolicy.create(LanguageSlotPolicy.get_default_config(), LocalModelStorage(tmp_path),
                                     Resource("language_slot"), ExecutionContext(None))  # type: ignore[arg-type]


def tracker_after(domain: Domain, *events: object) -> DialogueStateTracker:
    return DialogueStateTracker.from_events("policy-test", [ActionExecuted(ACTION_LISTEN_NAME), *events],
                                            slots=domain.slots)  # type: ignore[arg-type]


def said(text: str, language: str | None) -> UserUttered:
    return UserUttered(text, {"name": "check_points_balance", "confidence": 0.9},
                       parse_data={"language": language})  # type: ignore[typeddict-unknown-key]


@pytest.mark.parametrize(("text", "language", "slot", "expected"), [
    ("what is my points balance?", "en", "zh", "en"),
    ("我的积分", "zh", "en", "zh"),
    ("我的积分", "zh", "zh", None),  # no change, no event
    ("KF20250003", None, "en", None),  # no evidence: the slot keeps the customer's language
])
def test_sets_the_slot_from_the_latest_message(policy: LanguageSlotPolicy, domain: Domain, text: str,
                                               language: str | None, slot: str, expected: str | None) -> None:
    tracker = tracker_after(domain, SlotSet("language", slot), ActionExecuted(ACTION_LISTEN_NAME),
                            said(text, language))
    prediction = policy.predict_action_probabilities(tracker, domain)
    assert prediction.events == ([SlotSet("language", expected)] if expected else [])
    assert max(prediction.probabilities) == 0.0  # never picks an action


def test_only_right_after_the_user_message(policy: LanguageSlotPolicy, domain: Domain) -> None:
    tracker = tracker_after(domain, said("what is my points balance?", "en"),
                            ActionExecuted("action_show_points_balance"))
    assert policy.predict_action_probabilities(tracker, domain).events == []


def test_persists_and_loads(policy: LanguageSlotPolicy, domain: Domain, tmp_path: Path) -> None:
    resource = policy.train([], domain)
    loaded = LanguageSlotPolicy.load(LanguageSlotPolicy.get_default_config(), LocalModelStorage(tmp_path),
                                     resource, ExecutionContext(None))  # type: ignore[arg-type]
    tracker = tracker_after(domain, said("hello there", "en"))
    assert loaded.predict_action_probabilities(tracker, domain).events == [SlotSet("language", "en")]
