"""Points balance, ledger and staff adjustments (service token)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query
from sqlalchemy.orm import Session

from crm_backend.api.deps import SessionDep, require_service_token
from crm_backend.api.responses import error_responses
from crm_backend.core import idempotency
from crm_backend.core.bounds import IdPath
from crm_backend.core.errors import ValidationFailed
from crm_backend.core.pagination import Page, PageDep
from crm_backend.points import service
from crm_backend.points.models import ENTRY_KINDS
from crm_backend.points.schemas import AdjustmentIn, BalanceOut, EntryOut, ExpiringOut

router = APIRouter(prefix="/customers/{customer_id}/points", tags=["points"],
                   dependencies=[Depends(require_service_token)])


@router.get("", response_model=BalanceOut)
def balance(customer_id: IdPath, session: SessionDep) -> BalanceOut:
    """Balance, tier and points expiring within 30 days."""
    result = service.summary(session, customer_id=customer_id)
    return BalanceOut(customer_id=customer_id, balance=result.balance, tier=result.tier,
                      lifetime_earned=result.lifetime_earned,
                      expiring_soon=[ExpiringOut(points=lot.points, expires_at=lot.expires_at)
                                     for lot in result.expiring_soon],
                      expiring_total_30d=result.expiring_total_30d)


@router.get("/entries", response_model=Page[EntryOut])
def entries(customer_id: IdPath, session: SessionDep, page: PageDep,
            kind: Annotated[str | None, Query(description="earn, redeem, expire, adjust or reverse")] = None
            ) -> Page[EntryOut]:
    """Ledger entries, newest first."""
    if kind is not None and kind not in ENTRY_KINDS:
        raise ValidationFailed(f"kind must be one of {', '.join(ENTRY_KINDS)}", "kind 取值无效")
    rows, total = service.entries(session, customer_id=customer_id, limit=page.limit, offset=page.offset, kind=kind)
    return Page[EntryOut](items=[EntryOut.model_validate(r) for r in rows], total=total, limit=page.limit,
                          offset=page.offset)


@router.post("/adjustments", response_model=EntryOut, status_code=201, responses=error_responses(409))
def adjust(customer_id: IdPath, body: AdjustmentIn, session: SessionDep,
           idempotency_key: Annotated[str, Header(alias="Idempotency-Key", min_length=1, max_length=128)]
           ) -> EntryOut:
    """Staff correction (+/-); the same Idempotency-Key replays it, with another body it is a 409."""
    return adjust_once(session, customer_id=customer_id, body=body, key=idempotency_key)


def adjust_once(session: Session, *, customer_id: int, body: AdjustmentIn, key: str) -> EntryOut:
    """Adjust once per Idempotency-Key (a retry replays the first answer, another body is a 409)."""
    return idempotency.run_once(
        session, scope=f"adjustment:{customer_id}", key=key, payload=body.model_dump(mode="json"), model=EntryOut,
        write=lambda: EntryOut.model_validate(service.adjust(session, customer_id=customer_id, points=body.points,
                                                             reason=body.reason, key=key)))
