"""Feedback route (service token)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header

from crm_backend.api.deps import SessionDep, require_service_token
from crm_backend.api.responses import error_responses
from crm_backend.core import idempotency
from crm_backend.core.bounds import IdPath
from crm_backend.feedback import service
from crm_backend.feedback.schemas import CommentAdded, CommentCreate, FeedbackCreate, FeedbackCreated
from crm_backend.handoff.service import agent_for_conversation

router = APIRouter(tags=["feedback"], dependencies=[Depends(require_service_token)])


@router.post("/feedback", status_code=201, response_model=FeedbackCreated, responses=error_responses(404))
def submit_feedback(body: FeedbackCreate, session: SessionDep,
                    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None
                    ) -> FeedbackCreated:
    """Record CSAT (1–5), NPS (0–10) or a suggestion; a low score opens a follow-up ticket."""
    def write() -> FeedbackCreated:
        # CSAT after a handoff is credited to the agent who handled the conversation.
        handled_by = (agent_for_conversation(session, conversation_id=body.conversation_id)
                      if body.agent_id is None and body.conversation_id else None)
        submitted = service.submit_feedback(session, data=body, handled_by=handled_by)
        return FeedbackCreated(feedback_id=submitted.feedback.id, follow_up_ticket_no=submitted.follow_up_ticket_no)

    return idempotency.run_once(session, scope="feedback", key=idempotency_key,
                                payload=body.model_dump(mode="json"), model=FeedbackCreated, write=write)


@router.post("/feedback/{feedback_id}/comment", response_model=CommentAdded, responses=error_responses(404))
def add_comment(feedback_id: IdPath, body: CommentCreate, session: SessionDep,
                idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None) -> CommentAdded:
    """The customer's comment after a survey answer; a detractor's also goes onto the follow-up ticket."""
    def write() -> CommentAdded:
        added = service.add_comment(session, feedback_id=feedback_id, data=body)
        return CommentAdded(feedback_id=added.feedback.id, follow_up_ticket_no=added.follow_up_ticket_no)

    return idempotency.run_once(session, scope="feedback-comment", key=idempotency_key,
                                payload={"feedback_id": feedback_id, **body.model_dump(mode="json")},
                                model=CommentAdded, write=write)
