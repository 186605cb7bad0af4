"""Bilingual messages that custom actions send, rendered from `actions/responses.yml`.

The file has the domain's response format (zh/en variations conditioned on the `language` slot);
it lives beside the actions because `rasa data validate --fail-on-warnings` rejects domain
responses that no story or rule uses, and these are only ever sent from code.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import yaml

RESPONSES_FILE = Path(__file__).with_name("responses.yml")
LANGUAGES = ("zh", "en")


@functools.lru_cache(maxsize=1)
def catalogue() -> dict[str, dict[str, str]]:
    """{response name: {language: text}} read once, on first use."""
    raw = yaml.safe_load(RESPONSES_FILE.read_text(encoding="utf-8"))["responses"]
    result: dict[str, dict[str, str]] = {}
    for name, variations in raw.items():
        texts: dict[str, str] = {}
        for variation in variations:
            for condition in variation.get("condition", []):
                if condition.get("name") == "language":
                    texts[condition["value"]] = variation["text"]
        result[name] = texts
    return result


def render(response: str, language: str | None, /, **values: Any) -> str:
    """The text of `response` in `language` (Chinese when unknown), filled with `values`."""
    texts = catalogue()[response]
    text = texts.get(language or "zh") or texts["zh"]
    return text.format(**values) if values else text
