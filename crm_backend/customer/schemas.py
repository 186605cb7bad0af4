"""Customer API shapes."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from crm_backend.core.bounds import DbId
from crm_backend.customer.models import Customer
from crm_backend.customer.service import mask_phone


class CustomerOut(BaseModel):
    id: int
    name_zh: str | None
    name_en: str | None
    display_name: str
    preferred_language: str
    tier: str
    phone_masked: str | None
    email: str | None
    birthday: date | None
    consent_marketing: bool
    consent_sms: bool
    consent_email: bool
    created_at: datetime

    @classmethod
    def of(cls, customer: Customer) -> CustomerOut:
        return cls(
            id=customer.id, name_zh=customer.name_zh, name_en=customer.name_en, display_name=customer.display_name,
            preferred_language=customer.preferred_language, tier=customer.tier,
            phone_masked=mask_phone(customer.phone), email=customer.email, birthday=customer.birthday,
            consent_marketing=customer.consent_marketing, consent_sms=customer.consent_sms,
            consent_email=customer.consent_email, created_at=customer.created_at,
        )


class CustomerPatch(BaseModel):
    """Fields a customer (through the assistant) or an agent may change."""

    model_config = ConfigDict(extra="forbid")

    preferred_language: Literal["zh", "en"] | None = None
    email: str | None = Field(default=None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    consent_marketing: bool | None = None
    consent_sms: bool | None = None
    consent_email: bool | None = None


class ReferralIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    referred_id: DbId


class ReferralOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    referrer_id: int
    referred_id: int
    points_awarded: int
    rewarded_at: datetime | None
    created_at: datetime
