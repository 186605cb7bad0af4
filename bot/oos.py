"""Out-of-scope detection by distance to the training examples on the e5 sentence vectors.

The `out_of_scope` intent only knows the few off-topic examples it was trained on; a question about
a topic nobody wrote an example for still lands, often confidently, on the nearest in-scope intent.
What such questions have in common is that no in-scope training example is near them: on the
multilingual-e5-small vectors the bot already computes, an in-scope message is almost always within
cosine 0.9 of some training example of its intent family, an unseen topic rarely is. So a message
whose best cosine similarity to the in-scope training examples is below its language's threshold is
re-labelled `out_of_scope`. The thresholds come from `scripts/tune_oos.py` (in-scope leave-one-out on
the training data against the validation split of `data/nlu_oos/`; figures in
docs/notes/understanding.md).
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.featurizers.featurizer import Featurizer
from rasa.shared.nlu.constants import (
    ENTITIES,
    FEATURE_TYPE_SENTENCE,
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.language import detect_language

logger = logging.getLogger(__name__)

OUT_OF_SCOPE = "out_of_scope"


def sentence_vector(message: Message) -> np.ndarray | None:
    """The message's dense TEXT sentence feature (the e5 vector), l2-normalised; None without one."""
    for feature in message.features:
        if feature.attribute == TEXT and feature.type == FEATURE_TYPE_SENTENCE and feature.is_dense():
            vector = np.asarray(feature.features, dtype=np.float32).reshape(-1)
            norm = float(np.linalg.norm(vector))
            return vector / norm if norm else None
    return None


def best_similarity(vector: np.ndarray, references: np.ndarray) -> float:
    """Largest cosine similarity of an l2-normalised vector to the reference rows (-1 without any)."""
    return float((references @ vector).max()) if len(references) else -1.0


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class OutOfScopeDetector(IntentClassifier, GraphComponent):
    """Re-labels a message `out_of_scope` when it is far from every in-scope training example.

    Messages left alone: those with an extracted entity (a phone number, an order number or a code is
    in scope whatever the words around it), those without a detected language (digits, emoji), those
    whose intent is one of `exempt_intents`, and those already classified `out_of_scope`.
    """

    @classmethod
    def required_components(cls) -> list[type]:
        """Reads the dense sentence vectors of a featurizer before it."""
        return [Featurizer]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Thresholds per language from `scripts/tune_oos.py`; 0 switches a language off."""
        return {
            "thresholds": {"zh": 0.0, "en": 0.0},
            # Intents whose examples never serve as in-scope references (off-topic, injected events).
            "ignore_intents": [OUT_OF_SCOPE],
            "ignore_prefixes": ["EXTERNAL_"],
            # Short replies that are in scope by position in the dialogue, not by their words.
            "exempt_intents": ["affirm", "deny", "inform", "stop"],
        }

    def __init__(self, config: dict[str, Any], model_storage: ModelStorage, resource: Resource) -> None:
        """Keep the config; reference vectors arrive via `train` or `load`."""
        self.config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self.references = np.zeros((0, 0), dtype=np.float32)

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> OutOfScopeDetector:
        """A new, untrained component."""
        return cls(config, model_storage, resource)

    def _is_reference(self, intent: str | None) -> bool:
        if not intent:
            return False
        return intent not in self.config["ignore_intents"] and not any(
            intent.startswith(prefix) for prefix in self.config["ignore_prefixes"])

    def train(self, training_data: TrainingData) -> Resource:
        """Keep the sentence vectors of the in-scope training examples."""
        vectors = [sentence_vector(m) for m in training_data.intent_examples if self._is_reference(m.get(INTENT))]
        kept = [v for v in vectors if v is not None]
        self.references = np.vstack(kept).astype(np.float32) if kept else np.zeros((0, 0), dtype=np.float32)
        with self._model_storage.write_to(self._resource) as directory:
            np.savez_compressed(directory / "oos_references.npz", references=self.references)
        return self._resource

    def threshold(self, text: str) -> float:
        """The decline threshold for the text's language (0: never decline)."""
        lang = detect_language(text)
        return float(self.config["thresholds"].get(lang, 0.0)) if lang else 0.0

    def process(self, messages: list[Message]) -> list[Message]:
        """Re-label far-away messages `out_of_scope`, keeping the classifier's ranking after it."""
        for message in messages:
            text, intent = message.get(TEXT), message.get(INTENT) or {}
            if not isinstance(text, str) or not text.strip() or not len(self.references):
                continue
            if intent.get(INTENT_NAME_KEY) in (OUT_OF_SCOPE, *self.config["exempt_intents"]):
                continue
            if any(e.get("entity") != "language" for e in message.get(ENTITIES) or []):
                continue
            threshold = self.threshold(text)
            vector = sentence_vector(message)
            if not threshold or vector is None or vector.shape[0] != self.references.shape[1]:
                continue
            similarity = best_similarity(vector, self.references)
            if similarity >= threshold:
                continue
            logger.debug("out of scope: %r (similarity %.3f < %.3f)", text, similarity, threshold)
            # The margin below the threshold, as a rough confidence in [0.7, 1]; the classifier's guesses are
            # scaled into what is left, so the FallbackClassifier's ambiguity check cannot turn this decline
            # into a "please rephrase" (out_of_scope says what the bot can do instead).
            confidence = min(1.0, 0.7 + (threshold - similarity) * 10)
            ranking = [{**r, PREDICTED_CONFIDENCE_KEY: float(r.get(PREDICTED_CONFIDENCE_KEY) or 0.0) * (1 - confidence)}
                       for r in message.get(INTENT_RANKING_KEY) or [] if r.get(INTENT_NAME_KEY) != OUT_OF_SCOPE]
            declined = {INTENT_NAME_KEY: OUT_OF_SCOPE, PREDICTED_CONFIDENCE_KEY: confidence}
            message.set(INTENT, declined, add_to_output=True)
            message.set(INTENT_RANKING_KEY, [declined, *ranking], add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Training examples keep their labels."""
        return training_data

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> OutOfScopeDetector:
        """Load the reference vectors; an inactive detector if nothing was persisted."""
        component = cls(config, model_storage, resource)
        try:
            with model_storage.read_from(resource) as directory:
                with np.load(directory / "oos_references.npz", allow_pickle=False) as data:
                    component.references = data["references"]
        except (ValueError, FileNotFoundError):
            logger.debug("OutOfScopeDetector: no reference vectors in '%s'.", resource.name)
        return component
