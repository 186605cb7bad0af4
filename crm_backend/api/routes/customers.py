"""Customer profile routes (service token)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from crm_backend.api.deps import SessionDep, require_service_token
from crm_backend.api.responses import error_responses
from crm_backend.core.bounds import IdPath
from crm_backend.core.errors import ValidationFailed
from crm_backend.core.pagination import Page, PageDep
from crm_backend.customer import repository, service
from crm_backend.customer.models import TIERS
from crm_backend.customer.schemas import CustomerOut, CustomerPatch, ReferralIn, ReferralOut
from crm_backend.loyalty import referrals

router = APIRouter(prefix="/customers", tags=["customers"], dependencies=[Depends(require_service_token)])


@router.get("", response_model=Page[CustomerOut])
def search_customers(session: SessionDep, page: PageDep,
                     q: Annotated[str | None, Query(max_length=64, description="name, phone or email fragment")] = None,
                     tier: str | None = None) -> Page[CustomerOut]:
    """Find customers (agent console search)."""
    if tier is not None and tier not in TIERS:
        raise ValidationFailed(f"tier must be one of {', '.join(TIERS)}", "会员等级取值无效")
    rows, total = repository.search(session, q=q, tier=tier, limit=page.limit, offset=page.offset)
    return Page[CustomerOut](items=[CustomerOut.of(c) for c in rows], total=total, limit=page.limit,
                             offset=page.offset)


@router.get("/{customer_id}", response_model=CustomerOut)
def get_customer(customer_id: IdPath, session: SessionDep) -> CustomerOut:
    """A customer's profile (phone masked); 404 `customer_not_found`."""
    return CustomerOut.of(service.get_customer(session, customer_id=customer_id))


@router.patch("/{customer_id}", response_model=CustomerOut)
def update_customer(customer_id: IdPath, body: CustomerPatch, session: SessionDep) -> CustomerOut:
    """Change preferred language, email or consent flags."""
    changes = body.model_dump(exclude_unset=True)
    if any(value is None for value in changes.values()):
        raise ValidationFailed("Fields may be omitted but not null", "字段可以省略，但不能为 null")
    return CustomerOut.of(service.update_customer(session, customer_id=customer_id, changes=changes))


@router.get("/{customer_id}/referrals", response_model=Page[ReferralOut])
def list_referrals(customer_id: IdPath, session: SessionDep, page: PageDep) -> Page[ReferralOut]:
    """Customers this customer referred, with the points each referral earned."""
    rows, total = referrals.list_for(session, referrer_id=customer_id, limit=page.limit, offset=page.offset)
    return Page[ReferralOut](items=[ReferralOut.model_validate(r) for r in rows], total=total, limit=page.limit,
                             offset=page.offset)


@router.post("/{customer_id}/referrals", response_model=ReferralOut, status_code=201, responses=error_responses(409))
def add_referral(customer_id: IdPath, body: ReferralIn, session: SessionDep) -> ReferralOut:
    """Record a referral; the referrer gets 200 points when the referred customer first orders (409 `conflict`)."""
    return ReferralOut.model_validate(referrals.register(session, referrer_id=customer_id,
                                                         referred_id=body.referred_id))
