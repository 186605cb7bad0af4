"""Pick the reply language (zh / en) from an Accept-Language header."""

from __future__ import annotations

from typing import Literal

Language = Literal["zh", "en"]


def pick_language(accept_language: str | None, default: Language = "en") -> Language:
    """Return "zh" when the most preferred supported language is Chinese, else "en"."""
    if not accept_language:
        return default
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate(accept_language.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                quality = float(params[2:])
            except ValueError:
                quality = 0.0
        ranked.append((-quality, index, tag.strip().lower()))
    for negative_quality, _, tag in sorted(ranked):
        if negative_quality >= 0:
            continue
        if tag.startswith("zh"):
            return "zh"
        if tag.startswith("en"):
            return "en"
    return default
