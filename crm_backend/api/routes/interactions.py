"""Interaction summaries (service token)."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from crm_backend.api.deps import SessionDep, require_service_token
from crm_backend.api.responses import error_responses
from crm_backend.interaction import service
from crm_backend.interaction.schemas import InteractionSaved, InteractionUpsert

router = APIRouter(tags=["interactions"], dependencies=[Depends(require_service_token)])


@router.post("/interactions", response_model=InteractionSaved, responses=error_responses(404))
def upsert_interaction(body: InteractionUpsert, session: SessionDep) -> InteractionSaved:
    """Create or update the summary of one conversation (keyed by conversation_id)."""
    interaction_id, created = service.upsert_interaction(session, data=body)
    return InteractionSaved(interaction_id=interaction_id, created=created)
