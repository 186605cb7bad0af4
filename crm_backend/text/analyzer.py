"""Analyse a message: language, sentiment with a score, complaint category with confidence, redacted text."""

import threading
from dataclasses import dataclass
from pathlib import Path

import spacy
from spacy.language import Language

from crm_backend.text.data import LANGUAGES, TASKS, Task, data_fingerprint, models_root
from crm_backend.text.language import detect_language
from crm_backend.text.pii import redact
from crm_backend.text.train import normalise, train_all

# Below this confidence a ticket's category is not inferred (it stays "other").
CATEGORY_CONFIDENCE_MIN = 0.5

_lock = threading.Lock()
_predict_lock = threading.Lock()
_models: dict[tuple[str, Task], Language] = {}


@dataclass(frozen=True)
class Label:
    """A predicted label and its probability."""

    label: str
    score: float


@dataclass(frozen=True)
class TextAnalysis:
    """Result of :func:`analyze`. ``sentiment.score`` is signed: P(positive) − P(negative), in [-1, 1]."""

    language: str
    sentiment: Label
    category: Label
    redacted: str


def model_dir() -> Path:
    """Directory of the models for the current training data; trains them first when missing."""
    target = models_root() / data_fingerprint()
    if not all((target / f"{lang}_{task}").exists() for lang in LANGUAGES for task in TASKS):
        train_all(target)
    return target


def _model(language: str, task: Task) -> Language:
    key = (language, task)
    if key not in _models:
        with _lock:
            if key not in _models:
                base = model_dir()
                for lang in LANGUAGES:
                    for t in TASKS:
                        _models[(lang, t)] = spacy.load(base / f"{lang}_{t}")
    return _models[key]


def classify(text: str, language: str, task: Task) -> dict[str, float]:
    """Class probabilities of one task for ``text`` in ``language``."""
    model = _model(language, task)
    # spaCy pipelines are not documented as thread-safe; a call takes about a millisecond.
    with _predict_lock:
        return dict(model(normalise(text)).cats)


def analyze(text: str) -> TextAnalysis:
    """Analyse ``text``; PII is redacted first so the models never see it."""
    redacted = redact(text)
    language = detect_language(redacted)
    sentiment = classify(redacted, language, "sentiment")
    category = classify(redacted, language, "category")
    best_sentiment = max(sentiment, key=lambda k: sentiment[k])
    best_category = max(category, key=lambda k: category[k])
    signed = sentiment.get("positive", 0.0) - sentiment.get("negative", 0.0)
    return TextAnalysis(
        language=language,
        sentiment=Label(best_sentiment, round(signed, 4)),
        category=Label(best_category, round(category[best_category], 4)),
        redacted=redacted,
    )


def warm_up() -> None:
    """Train (if needed) and load every model, e.g. at seed or start-up time."""
    _model(LANGUAGES[0], TASKS[0])
