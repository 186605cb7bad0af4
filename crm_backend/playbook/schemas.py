"""Playbook input/output: the audience rule, the action (bilingual template + offer), the schedule, the holdout."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from crm_backend.core.bounds import DbId

Segment = Literal["value", "potential", "secondary", "low"]
Stage = Literal["acquisition", "conversion", "retention", "upgrade", "decline"]
Tier = Literal["regular", "silver", "gold", "diamond"]
Channel = Literal["telegram", "slack", "wechat", "widget"]


class AudienceRule(BaseModel):
    """Every given condition must hold (AND); an empty rule matches every customer."""

    model_config = ConfigDict(extra="forbid")

    value_segments: list[Segment] | None = None
    lifecycle_stages: list[Stage] | None = None
    churn_risk_min: float | None = Field(default=None, ge=0, le=1)
    churn_risk_max: float | None = Field(default=None, ge=0, le=1)
    tiers: list[Tier] | None = None
    birthday_this_month: bool = False
    within_pct_of_next_tier: float | None = Field(default=None, gt=0, le=100)
    joined_within_days: int | None = Field(default=None, ge=1, le=3650)
    days_since_last_order_min: int | None = Field(default=None, ge=0, le=36_500)
    days_since_last_order_max: int | None = Field(default=None, ge=0, le=36_500)
    days_since_last_contact_min: int | None = Field(default=None, ge=0, le=36_500)
    days_since_last_contact_max: int | None = Field(default=None, ge=0, le=36_500)
    languages: list[Literal["zh", "en"]] | None = None
    channels: list[Channel] | None = None


class EventTrigger(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["order_delivered"] = "order_delivered"
    days: int = Field(default=7, ge=0, le=365)


class PlaybookIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name_zh: str = Field(min_length=1, max_length=128)
    name_en: str = Field(min_length=1, max_length=128)
    purpose: Literal["marketing", "service"] = "marketing"
    audience: AudienceRule = Field(default_factory=AudienceRule)
    template_zh: str = Field(min_length=1, max_length=1000)
    template_en: str = Field(min_length=1, max_length=1000)
    offer_kind: Literal["none", "points", "coupon"] = "none"
    offer_points: int = Field(default=0, ge=0, le=100_000)
    coupon_value: int = Field(default=0, ge=0, le=10_000)
    schedule: Literal["once", "daily", "event"] = "once"
    event: EventTrigger | None = None
    holdout_pct: float = Field(default=0.10, ge=0, le=0.9)
    window_days: int = Field(default=14, ge=1, le=180)
    enabled: bool = True

    @model_validator(mode="after")
    def consistent(self) -> PlaybookIn:
        if self.schedule == "event" and self.event is None:
            raise ValueError("an event schedule needs an event")
        if self.offer_kind == "points" and self.offer_points <= 0:
            raise ValueError("a points offer needs offer_points > 0")
        if self.offer_kind == "coupon" and self.coupon_value <= 0:
            raise ValueError("a coupon offer needs coupon_value > 0")
        return self


class PlaybookOut(PlaybookIn):
    model_config = ConfigDict(from_attributes=True, extra="ignore")

    id: int
    key: str
    updated_by: str
    updated_at: datetime


class RunOut(BaseModel):
    run_id: int
    playbook_id: int
    occurrence: str
    treated: int
    holdout: int
    queued: int


class GroupStats(BaseModel):
    customers: int
    converted: int
    rate: float


class Measurement(BaseModel):
    """Conversion = an order or a redemption within the playbook's window after the run started."""

    playbook_id: int
    run_id: int | None
    treated: GroupStats
    holdout: GroupStats
    uplift: float
    ci95_low: float
    ci95_high: float
    offer_points: int
    coupon_value: int
    sent: int
    skipped: dict[str, int]


class OptOutIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channel: str = Field(min_length=1, max_length=32)
    sender_id: str | None = Field(default=None, max_length=191)
    customer_id: DbId | None = None
    kind: Literal["marketing", "service", "all"] = "marketing"


class OptOutOut(BaseModel):
    customer_id: int | None
    opted_out: bool
    message: str


class PreferencesOut(BaseModel):
    customer_id: int
    marketing_opt_out: bool
    service_opt_out: bool
    opted_out_at: datetime | None
    opt_out_channel: str
    timezone: str  # IANA name; quiet hours are counted in it


class PreferencesIn(BaseModel):
    """Fields left out stay as they are."""

    model_config = ConfigDict(extra="forbid")

    timezone: str | None = Field(default=None, min_length=1, max_length=64)
    marketing_opt_out: bool | None = None
    service_opt_out: bool | None = None
