"""Customer profile routes (service token)."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from crm_backend.api.deps import SessionDep, require_service_token
from crm_backend.customer import service
from crm_backend.customer.schemas import CustomerOut

router = APIRouter(prefix="/customers", tags=["customers"], dependencies=[Depends(require_service_token)])


@router.get("/{customer_id}", response_model=CustomerOut)
def get_customer(customer_id: int, session: SessionDep) -> CustomerOut:
    """A customer's profile (phone masked); 404 `customer_not_found`."""
    return CustomerOut.of(service.get_customer(session, customer_id=customer_id))
