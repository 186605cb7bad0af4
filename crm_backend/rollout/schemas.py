"""Request and response models of the roll-out API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class VersionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    source: str
    status: str
    stage: str
    progress: float
    error: str | None
    sha256: str | None
    size: int | None
    annotations: int
    heldout_annotations: int
    baseline_id: int | None
    evaluation: dict[str, Any] | None
    gate: dict[str, Any] | None
    requested_by: int | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    train_seconds: float | None
    serving: bool = False
    served_before: bool = False


class DeploymentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    version_id: int
    action: str
    reason: str | None
    agent_id: int | None
    agent_name: str | None = None
    at: datetime


class VersionsPage(BaseModel):
    items: list[VersionOut]
    total: int
    limit: int
    offset: int
    serving_id: int | None
    deployments: list[DeploymentOut]


class PromoteIn(BaseModel):
    override_reason: str | None = Field(default=None, max_length=2000)


class HeldoutExample(BaseModel):
    text: str
    intent: str
    language: str


class ClaimOut(BaseModel):
    id: int
    baseline_id: int | None
    annotations: int
    annotations_yaml: str
    skipped_intents: list[str]
    heldout: list[HeldoutExample]


class ProgressIn(BaseModel):
    stage: str = Field(max_length=200)
    progress: float = Field(ge=0.0, le=1.0)


class ProgressOut(BaseModel):
    id: int
    status: str


class SplitScore(BaseModel):
    n: int = Field(ge=0)
    accuracy: float = Field(ge=0.0, le=1.0)


class IntentScore(BaseModel):
    f1: float = Field(ge=0.0, le=1.0)
    support: int = Field(ge=0)


class ModelScores(BaseModel):
    version_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    accuracy: float = Field(ge=0.0, le=1.0)
    splits: dict[str, SplitScore]
    per_intent: dict[str, IntentScore]


class EvaluationIn(BaseModel):
    before: ModelScores | None
    after: ModelScores
    errors: list[dict[str, Any]] = Field(default_factory=list, max_length=200)
    train_seconds: float = Field(ge=0.0)
    evaluate_seconds: float = Field(ge=0.0, default=0.0)


class FailureIn(BaseModel):
    error: str = Field(max_length=4000)
