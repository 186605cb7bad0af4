"""Labelled examples for the text models (``data/text_analysis/<lang>_{train,test}.tsv``)."""

import csv
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

ROOT = Path(__file__).resolve().parents[2]
DATA_DIR = ROOT / "data" / "text_analysis"
LANGUAGES = ("zh", "en")
SENTIMENTS = ("negative", "neutral", "positive")
CATEGORIES = ("delivery", "product_quality", "service_attitude", "price_billing", "refund_return", "account", "other")
Task = Literal["sentiment", "category"]
TASKS: tuple[Task, ...] = ("sentiment", "category")
LABELS: dict[Task, tuple[str, ...]] = {"sentiment": SENTIMENTS, "category": CATEGORIES}
# Bump when the pipeline config changes so cached models are retrained.
MODEL_VERSION = "1"


@dataclass(frozen=True)
class Example:
    """One labelled message."""

    text: str
    sentiment: str
    category: str

    def label(self, task: Task) -> str:
        """The gold label for ``task``."""
        return self.sentiment if task == "sentiment" else self.category


def load_examples(language: str, split: Literal["train", "test"]) -> list[Example]:
    """Read one split; raises ``ValueError`` on an unknown label so bad data fails loudly."""
    path = DATA_DIR / f"{language}_{split}.tsv"
    examples = []
    with path.open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
            example = Example(text=row["text"].strip(), sentiment=row["sentiment"], category=row["category"])
            if example.sentiment not in SENTIMENTS or example.category not in CATEGORIES:
                raise ValueError(f"{path}: bad label in row {row!r}")
            examples.append(example)
    return examples


def data_fingerprint() -> str:
    """Hash of the training files + model version: the cache key of the trained models."""
    digest = hashlib.sha256(MODEL_VERSION.encode())
    for language in LANGUAGES:
        digest.update((DATA_DIR / f"{language}_train.tsv").read_bytes())
    return digest.hexdigest()[:16]


def models_root() -> Path:
    """Where trained models are cached (``TEXT_MODELS_DIR``, default ``var/text_models``)."""
    return Path(os.environ.get("TEXT_MODELS_DIR", ROOT / "var" / "text_models"))
