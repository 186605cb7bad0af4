"""Membership tiers (service token)."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from crm_backend.api.deps import SessionDep, require_service_token
from crm_backend.core.bounds import IdPath
from crm_backend.points.rules import TIER_MULTIPLIER
from crm_backend.tier import rules, service
from crm_backend.tier.schemas import BenefitOut, CustomerTierOut, TierInfoOut

router = APIRouter(tags=["tiers"], dependencies=[Depends(require_service_token)])


def _benefits(tier: str) -> list[BenefitOut]:
    return [BenefitOut(code=c, name_zh=zh, name_en=en) for c, zh, en in rules.BENEFITS[tier]]


@router.get("/tiers", response_model=list[TierInfoOut])
def list_tiers() -> list[TierInfoOut]:
    """All tiers with their 12-month spend thresholds, point multipliers and benefits."""
    return [TierInfoOut(tier=t, name_zh=rules.TIER_NAMES[t][0], name_en=rules.TIER_NAMES[t][1],
                        multiplier=TIER_MULTIPLIER[t], threshold_12m=float(rules.THRESHOLDS[t]), benefits=_benefits(t))
            for t in rules.TIER_ORDER]


@router.get("/customers/{customer_id}/tier", response_model=CustomerTierOut)
def customer_tier(customer_id: IdPath, session: SessionDep) -> CustomerTierOut:
    """The customer's tier, benefits and progress to the next tier."""
    result = service.status(session, customer_id=customer_id)
    zh, en = rules.TIER_NAMES[result.tier]
    return CustomerTierOut(customer_id=customer_id, tier=result.tier, name_zh=zh, name_en=en,
                           multiplier=TIER_MULTIPLIER[result.tier], benefits=_benefits(result.tier),
                           spend_12m=float(result.spend_12m), next_tier=result.next_tier,
                           progress_pct=result.progress_pct, amount_to_next=float(result.amount_to_next),
                           currency="CNY")
