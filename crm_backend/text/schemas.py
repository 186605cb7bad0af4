"""POST /analysis/text schemas."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


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
