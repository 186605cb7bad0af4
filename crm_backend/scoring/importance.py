"""Who is an important customer: the one rule the console queue and the escalation policy share.

Two levels, from the customer's tier and value segment (see docs/notes/crm-analytics.md):
- VIP: the value segment ("value", 价值客户) or tier gold and above → escalations get priority;
- top: the value segment or diamond → "value customer" in the console, first in the queue, and the
  highest escalation priority.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from crm_backend.customer.models import Customer
from crm_backend.scoring.models import CustomerScore

VALUE_SEGMENT = "value"
VIP_TIERS = frozenset({"gold", "diamond"})
TOP_TIER = "diamond"


def is_vip(tier: str | None, value_segment: str | None) -> bool:
    """Value segment, or gold and above."""
    return value_segment == VALUE_SEGMENT or (tier or "") in VIP_TIERS


def is_top(tier: str | None, value_segment: str | None) -> bool:
    """Value segment, or diamond."""
    return value_segment == VALUE_SEGMENT or tier == TOP_TIER


def is_top_customer(session: Session, customer_id: int | None) -> bool:
    """`is_top` for a stored customer (False for an unknown or anonymous one)."""
    if customer_id is None:
        return False
    customer = session.get(Customer, customer_id)
    if customer is None:
        return False
    score = session.get(CustomerScore, customer_id)
    return is_top(customer.tier, score.value_segment if score else None)
