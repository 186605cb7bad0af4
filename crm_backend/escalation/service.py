"""Feed the escalation policy with what the CRM knows about the customer."""

from __future__ import annotations

from sqlalchemy.orm import Session

from crm_backend.customer import service as customer_service
from crm_backend.escalation.policy import EscalationInput, decide
from crm_backend.escalation.schemas import EscalationDecisionOut, EscalationRequest
from crm_backend.scoring.importance import is_vip
from crm_backend.scoring.service import get_scores


def decide_for(session: Session, *, request: EscalationRequest, language: str) -> EscalationDecisionOut:
    """Look up tier and scores of ``request.customer_id`` (404 if unknown) and apply the rule table."""
    tier = segment = None
    satisfaction = churn = None
    if request.customer_id is not None:
        tier = customer_service.get_customer(session, customer_id=request.customer_id).tier
        scores = get_scores(session, customer_id=request.customer_id)
        segment, satisfaction, churn = scores.value_segment, scores.satisfaction, scores.churn_risk
    decision = decide(EscalationInput(
        tier=tier, value_segment=segment, satisfaction=satisfaction, churn_risk=churn,
        message_sentiment=request.message_sentiment, complaint_severity=request.complaint_severity,
        explicit_request=request.explicit_request, bot_failures=request.bot_failures,
        is_complaint=request.is_complaint))
    return EscalationDecisionOut(escalate=decision.escalate, priority=decision.priority,
                                 reason=decision.reason(language), reason_code=decision.reason_code,
                                 vip=is_vip(tier, segment), tier=tier, value_segment=segment,
                                 satisfaction=satisfaction, churn_risk=churn)
