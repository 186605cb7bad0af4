"""Banking77 loading and conversion to Rasa NLU YAML."""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DEFAULT_DIR = REPO.parent / "shared" / "data" / "banking77"


@dataclass(frozen=True)
class Split:
    """Texts and their intent labels, in file order."""

    texts: list[str]
    labels: list[str]


def data_dir() -> Path:
    """The Banking77 folder: `BANKING77_DIR` or `../shared/data/banking77` beside the repo."""
    return Path(os.environ.get("BANKING77_DIR", DEFAULT_DIR))


def load_split(name: str, folder: Path | None = None) -> Split:
    """Read `train` or `test` (`text,category` CSV)."""
    path = (folder or data_dir()) / f"{name}.csv"
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return Split([row["text"].strip() for row in rows], [row["category"] for row in rows])


def _escape(text: str) -> str:
    # Rasa reads `[x](y)` / `[x]{...}` as entity markup; Banking77 has no entities, so break the pattern.
    return " ".join(text.replace("](", "] (").replace("]{", "] {").split())


def write_rasa_nlu(split: Split, path: Path) -> None:
    """Write `split` as a Rasa 3 NLU YAML file (one block per intent)."""
    by_intent: dict[str, list[str]] = {}
    for text, label in zip(split.texts, split.labels, strict=True):
        by_intent.setdefault(label, []).append(_escape(text))
    lines = ['version: "3.1"', "nlu:"]
    for intent in sorted(by_intent):
        lines += [f"- intent: {intent}", "  examples: |"]
        lines += [f"    - {text}" for text in by_intent[intent]]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
