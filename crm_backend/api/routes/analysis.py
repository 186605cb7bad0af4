"""Text analysis (service token)."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from crm_backend.api.deps import require_service_token
from crm_backend.text.analyzer import analyze
from crm_backend.text.schemas import CategoryOut, SentimentOut, TextAnalysisOut, TextIn

router = APIRouter(tags=["analysis"], dependencies=[Depends(require_service_token)])


@router.post("/analysis/text", response_model=TextAnalysisOut)
def analyze_text(body: TextIn) -> TextAnalysisOut:
    """Language, sentiment (label + signed score −1..1), complaint category (+ confidence), redacted text."""
    result = analyze(body.text)
    return TextAnalysisOut(language=result.language,
                           sentiment=SentimentOut(label=result.sentiment.label, score=result.sentiment.score),
                           category=CategoryOut(label=result.category.label, confidence=result.category.score),
                           redacted=result.redacted)
