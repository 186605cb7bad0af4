"""Rewards catalog and redemptions (service token)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header
from sqlalchemy.orm import Session

from crm_backend.api.deps import SessionDep, require_service_token
from crm_backend.api.responses import error_responses
from crm_backend.core import idempotency
from crm_backend.core.bounds import IdPath
from crm_backend.core.pagination import Page, PageDep
from crm_backend.points import service
from crm_backend.points.schemas import RedemptionIn, RedemptionOut, RewardOut

router = APIRouter(tags=["rewards"], dependencies=[Depends(require_service_token)])


@router.get("/rewards", response_model=Page[RewardOut])
def rewards(session: SessionDep, page: PageDep) -> Page[RewardOut]:
    """Active rewards, cheapest first (stock null = unlimited)."""
    rows, total = service.list_rewards(session, limit=page.limit, offset=page.offset)
    return Page[RewardOut](items=[RewardOut.model_validate(r) for r in rows], total=total, limit=page.limit,
                           offset=page.offset)


@router.post("/customers/{customer_id}/redemptions", response_model=RedemptionOut, status_code=201,
             responses=error_responses(409, notes={409: "insufficient_points, out_of_stock or idempotency_conflict"}))
def redeem(customer_id: IdPath, body: RedemptionIn, session: SessionDep,
           idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None) -> RedemptionOut:
    """Redeem a reward; retry with the same Idempotency-Key to get the original answer."""
    return redeem_once(session, customer_id=customer_id, body=body, key=idempotency_key)


def redeem_once(session: Session, *, customer_id: int, body: RedemptionIn, key: str | None) -> RedemptionOut:
    """Redeem once per Idempotency-Key (a retry replays the first answer, another body is a 409)."""
    def write() -> RedemptionOut:
        done = service.redeem(session, customer_id=customer_id, reward_code=body.reward_code, quantity=body.quantity)
        return RedemptionOut(redemption_id=done.redemption.id, reward_code=done.reward.code,
                             quantity=done.redemption.quantity, points_spent=done.redemption.points_spent,
                             balance_after=done.balance_after)

    return idempotency.run_once(session, scope=f"redemption:{customer_id}", key=key,
                                payload=body.model_dump(mode="json"), model=RedemptionOut, write=write)
