"""A policy that never picks an action: it keeps the `language` slot in step with the customer."""

from __future__ import annotations

from typing import Any

from rasa.core.policies.policy import Policy, PolicyPrediction
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import Event, SlotSet
from rasa.shared.core.generator import TrackerWithCachedStates
from rasa.shared.core.trackers import DialogueStateTracker

from bot.language import LANGUAGE


def language_events(tracker: DialogueStateTracker) -> list[Event]:
    """`language` slot update for the customer's latest message, if it changes the slot."""
    if tracker.latest_action_name != ACTION_LISTEN_NAME or tracker.latest_message is None:
        return []  # only the first prediction after a user message; later ones in the turn see the slot
    detected = tracker.latest_message.parse_data.get(LANGUAGE)
    if detected in ("zh", "en") and detected != tracker.get_slot(LANGUAGE):
        return [SlotSet(LANGUAGE, detected)]
    return []


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=True
)
class LanguageSlotPolicy(Policy):
    """Sets the `language` slot from `bot.language.LanguageDetector`'s verdict on each user message.

    Rasa applies a policy's events before the predicted action runs, whichever policy wins, so every
    reply of the turn (responses and custom actions) already sees the customer's language. Doing it
    here, in the Rasa process, saves a call to the action server on every turn.
    """

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Below every action-picking policy (TED 1, memoization 3, rules 6): it never wins anyway."""
        return {"priority": 0}

    def train(self, training_trackers: list[TrackerWithCachedStates], domain: Domain,
              **kwargs: Any) -> Resource:
        """Nothing to learn; the resource exists so the model loads like any policy's."""
        with self._model_storage.write_to(self._resource):
            pass
        return self._resource

    def predict_action_probabilities(self, tracker: DialogueStateTracker, domain: Domain,
                                     rule_only_data: dict[str, Any] | None = None,
                                     **kwargs: Any) -> PolicyPrediction:
        """No action preference (all zeros), plus the `language` slot update as mandatory events."""
        return self._prediction(self._default_predictions(domain), events=language_events(tracker))
