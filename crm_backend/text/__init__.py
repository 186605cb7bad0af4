"""Bilingual text analysis: language, sentiment, complaint category, PII redaction.

The spaCy models live in :mod:`crm_backend.text.analyzer` (imported lazily by callers), so importing
this package for :func:`redact` stays cheap.
"""

from crm_backend.text.language import detect_language
from crm_backend.text.pii import redact

__all__ = ["detect_language", "redact"]
