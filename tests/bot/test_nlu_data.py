"""The training data holds every intent in both languages: at least 25 examples each (house rule)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from rasa.shared.nlu.training_data.loading import load_data
from rasa.shared.nlu.training_data.message import Message

from bot.language import detect_language

ROOT = Path(__file__).resolve().parents[2]
MINIMUM = 25
LANGUAGES = ("zh", "en")
# Intents the CRM triggers through Rasa's API (never typed by a customer) need no utterances.
EXTERNAL_PREFIX = "EXTERNAL_"


def short_intents(examples: Iterable[Message]) -> list[str]:
    """`intent [language]: count` for every intent below MINIMUM examples in one of the languages."""
    found: Counter[tuple[str, str]] = Counter()
    for example in examples:
        found[(example.get_full_intent(), detect_language(example.get("text")) or "neutral")] += 1
    intents = sorted({intent for intent, _ in found if not intent.startswith(EXTERNAL_PREFIX)})
    return [f"{intent} [{lang}]: {found[(intent, lang)]}" for intent in intents for lang in LANGUAGES
            if found[(intent, lang)] < MINIMUM]


def test_every_intent_has_25_examples_per_language() -> None:
    examples = load_data(str(ROOT / "data" / "nlu")).intent_examples
    assert len({m.get_full_intent() for m in examples}) > 20, "the NLU data did not load"
    assert short_intents(examples) == [], f"intents below {MINIMUM} training examples per language"


def test_an_intent_short_in_one_language_is_reported() -> None:
    examples = [Message(data={"text": f"bye number {i}", "intent": "goodbye"}) for i in range(MINIMUM)]
    examples += [Message(data={"text": f"再见{i}", "intent": "goodbye"}) for i in range(MINIMUM - 1)]
    examples += [Message(data={"text": "bye", "intent": "EXTERNAL_reminder"})]
    assert short_intents(examples) == [f"goodbye [zh]: {MINIMUM - 1}"]
