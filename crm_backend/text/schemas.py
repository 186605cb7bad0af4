"""POST /analysis/text schemas."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

# A sentiment sent as a label instead of a score (−1..1), as the bot may do.
SENTIMENT_LABELS = {"negative": -0.7, "neutral": 0.0, "positive": 0.7}


class TextIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=5000)


class SentimentOut(BaseModel):
    label: str
    score: float


class CategoryOut(BaseModel):
    label: str
    confidence: float


class TextAnalysisOut(BaseModel):
    language: str
    sentiment: SentimentOut
    category: CategoryOut
    redacted: str
