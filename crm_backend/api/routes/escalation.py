"""Escalation decision (service token)."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from crm_backend.api.deps import LanguageDep, SessionDep, require_service_token
from crm_backend.api.responses import error_responses
from crm_backend.escalation.schemas import EscalationDecisionOut, EscalationRequest
from crm_backend.escalation.service import decide_for

router = APIRouter(tags=["escalation"], dependencies=[Depends(require_service_token)])


@router.post("/escalation/decide", response_model=EscalationDecisionOut, responses=error_responses(404))
def decide(body: EscalationRequest, session: SessionDep, language: LanguageDep) -> EscalationDecisionOut:
    """Escalate to a human or not, with priority and reason (rule table in docs/notes/crm-analytics.md)."""
    return decide_for(session, request=body, language=language)
