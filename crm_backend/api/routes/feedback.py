"""Feedback route (service token)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header
from fastapi.responses import JSONResponse

from crm_backend.api.deps import SessionDep, require_service_token
from crm_backend.api.responses import error_responses
from crm_backend.feedback import service
from crm_backend.feedback.schemas import FeedbackCreate, FeedbackCreated

router = APIRouter(tags=["feedback"], dependencies=[Depends(require_service_token)])


@router.post("/feedback", status_code=201, response_model=FeedbackCreated, responses=error_responses(404))
def submit_feedback(body: FeedbackCreate, session: SessionDep,
                    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None) -> JSONResponse:
    """Record CSAT (1–5), NPS (0–10) or a suggestion; a low score opens a follow-up ticket."""
    status, payload = service.submit_feedback(session, data=body, idempotency_key=idempotency_key)
    return JSONResponse(payload, status_code=status)
