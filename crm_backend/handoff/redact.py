"""Redaction of transcripts before they are stored (Rasa has no PII anonymisation of its own)."""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable

_PATTERNS = [
    (re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+"), "[email]"),
    (re.compile(r"(?<!\d)\d{17}[\dXx](?!\d)"), "[id]"),
    (re.compile(r"(?<!\d)\d{13,19}(?!\d)"), "[card]"),
    (re.compile(r"(?<!\d)(?:\+?86[- ]?)?1[3-9]\d{9}(?!\d)"), "[phone]"),
]


def _fallback(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def _resolve() -> Callable[[str], str]:
    try:  # the text-analysis package owns redaction when it is present
        candidate = getattr(importlib.import_module("crm_backend.text.pii"), "redact", None)
        if callable(candidate):
            def via_text(text: str) -> str:
                result = candidate(text)
                return result if isinstance(result, str) else _fallback(text)
            return via_text
    except ImportError:
        pass
    return _fallback


def redact(text: str) -> str:
    """`text` with phone numbers, e-mail addresses, ID and card numbers masked."""
    return _resolve()(text)
