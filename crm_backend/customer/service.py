"""Customer lookups used by the API and by other domains."""

from __future__ import annotations

from sqlalchemy.orm import Session

from crm_backend.core.errors import CustomerNotFound
from crm_backend.customer import repository
from crm_backend.customer.models import Customer


def get_customer(session: Session, *, customer_id: int) -> Customer:
    """The customer, or CustomerNotFound (404 `customer_not_found`)."""
    customer = repository.get(session, customer_id)
    if customer is None:
        raise CustomerNotFound(customer_id)
    return customer


def mask_phone(phone: str | None) -> str | None:
    """138****0001 style masking: account data is shown, the full number is not."""
    if not phone:
        return None
    if len(phone) < 7:
        return "*" * len(phone)
    return f"{phone[:3]}{'*' * (len(phone) - 7)}{phone[-4:]}"


def update_customer(session: Session, *, customer_id: int, changes: dict[str, object]) -> Customer:
    """Apply profile changes (language, email, consents)."""
    customer = get_customer(session, customer_id=customer_id)
    for field, value in changes.items():
        setattr(customer, field, value)
    session.flush()
    return customer
