"""Customer scores with their explanation (service token)."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from crm_backend.api.deps import LanguageDep, SessionDep, require_service_token
from crm_backend.core.bounds import IdPath
from crm_backend.scoring.schemas import ChurnReasonOut, ScoresOut
from crm_backend.scoring.service import get_scores

router = APIRouter(tags=["scores"], dependencies=[Depends(require_service_token)])


@router.get("/customers/{customer_id}/scores", response_model=ScoresOut)
def customer_scores(customer_id: IdPath, session: SessionDep, language: LanguageDep) -> ScoresOut:
    """RFM, CLV, value segment, lifecycle stage, satisfaction and churn risk, each with inputs and formula."""
    row = get_scores(session, customer_id=customer_id)
    reasons = [ChurnReasonOut(**r) for r in row.churn_reasons]
    return ScoresOut(
        customer_id=row.customer_id, rfm={"r": row.r, "f": row.f, "m": row.m}, clv=row.clv,
        current_value=row.current_value, potential_value=row.potential_value, value_segment=row.value_segment,
        lifecycle_stage=row.lifecycle_stage, satisfaction=row.satisfaction, churn_risk=row.churn_risk,
        churn_level=str(row.explanation.get("churn", {}).get("level", "low")), churn_reasons=reasons,
        reasons=[r.zh if language == "zh" else r.en for r in reasons], explanation=row.explanation,
        computed_at=row.computed_at,
    )
