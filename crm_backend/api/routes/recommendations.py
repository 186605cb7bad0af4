"""Personal recommendations (service token): the bot asks for a verified customer only."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from crm_backend.api.deps import SessionDep, require_service_token
from crm_backend.api.responses import error_responses
from crm_backend.core.bounds import IdPath
from crm_backend.recommendation import service
from crm_backend.recommendation.schemas import Recommendations

router = APIRouter(tags=["recommendations"], dependencies=[Depends(require_service_token)])


@router.get("/customers/{customer_id}/recommendations", response_model=Recommendations,
            responses=error_responses(404))
def recommendations(customer_id: IdPath, session: SessionDep,
                    limit: Annotated[int, Query(ge=1, le=10)] = 3) -> Recommendations:
    """Items the customer has not bought yet, each with its reason ("customers who bought X also bought Y")."""
    return service.recommend(session, customer_id=customer_id, limit=limit)
