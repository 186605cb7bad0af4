"""Per-message language detection for a bilingual (Chinese + English) assistant."""

from __future__ import annotations

import re
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

LANGUAGE = "language"  # message property (in parse data) and slot name
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
# Order numbers, codes and the like are Latin letters that say nothing about the language.
_NEUTRAL = re.compile(r"\bKF\d{8}\b|\bT\d{6}\b|\b[A-Z]{2,}\d+\b", re.IGNORECASE)


def detect_language(text: str | None) -> str | None:
    """Return "zh", "en" or None (no evidence, e.g. only digits), from the script of `text`.

    Mixed text ("我的order到了吗", "积分 balance") counts as Chinese as soon as it holds Chinese
    characters: customers who mix in an English word still read Chinese.
    """
    if not text:
        return None
    if _CJK.search(text):
        return "zh"
    if _LATIN_WORD.search(_NEUTRAL.sub(" ", text)):
        return "en"
    return None


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False
)
class LanguageDetector(GraphComponent):
    """Adds `language` ("zh"/"en", or None) to every parsed message's output.

    `bot.policies.LanguageSlotPolicy` copies it into the `language` slot, so the slot follows the
    customer turn by turn and keeps its value when a message carries no evidence.
    """

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {}

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> LanguageDetector:
        return cls()

    def process(self, messages: list[Message]) -> list[Message]:
        """Annotate each incoming message with its language."""
        for message in messages:
            message.set(LANGUAGE, detect_language(message.get("text")), add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        for example in training_data.training_examples:
            example.set(LANGUAGE, detect_language(example.get("text")))
        return training_data
