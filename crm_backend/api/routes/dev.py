"""Development-only helpers (404 in any other KEFU_ENV)."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from crm_backend.api.deps import SessionDep, SettingsDep, require_service_token
from crm_backend.core.errors import NotFoundError
from crm_backend.core.pagination import Page, PageDep
from crm_backend.identity import service
from crm_backend.identity.schemas import OutboxItem

router = APIRouter(prefix="/dev", tags=["development"], dependencies=[Depends(require_service_token)])


@router.get("/outbox", response_model=Page[OutboxItem])
def read_outbox(session: SessionDep, settings: SettingsDep, page: PageDep,
                recipient: str | None = None) -> Page[OutboxItem]:
    """Messages the `outbox` OTP sender 'delivered', newest first (each with the parsed `code`)."""
    if not settings.is_development:
        raise NotFoundError()
    rows, total = service.outbox(session, recipient=recipient, limit=page.limit, offset=page.offset)
    return Page[OutboxItem](items=[OutboxItem.model_validate(r, from_attributes=True) for r in rows], total=total,
                            limit=page.limit, offset=page.offset)
