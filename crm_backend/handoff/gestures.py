"""Goodwill gestures: bonus points an agent grants a customer from the console, within limits.

Two limits apply to each grant: one by the agent's role and one by the customer's tier (value customers
get more room), both set by a supervisor (console setting `gesture_limits`). Points go through the
points ledger (idempotent: a double-click grants once); the grant is audited and its reason recorded on
the conversation's ticket (one is opened when the conversation has none).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from crm_backend.agent.models import Agent
from crm_backend.core.errors import DomainError, ValidationFailed
from crm_backend.customer.models import Customer
from crm_backend.handoff import conversation, tickets
from crm_backend.handoff.audit import audit
from crm_backend.handoff.models import Handoff
from crm_backend.handoff.settings import DEFAULT_GESTURE_LIMITS
from crm_backend.points import service as points
from crm_backend.points.models import PointsEntry
from crm_backend.ticket import repository as ticket_repository
from crm_backend.ticket.models import TicketStatusChange


class OverLimit(DomainError):
    def __init__(self, points: int, limit: int) -> None:
        super().__init__("over_limit", 422, f"{points} points is over your limit of {limit} for this customer",
                         f"{points} 积分超出您对该客户的补偿上限 {limit} 分", {"limit": limit})


def merged_limits(stored: dict[str, Any] | None) -> dict[str, Any]:
    stored = stored or {}
    return {"role": {**DEFAULT_GESTURE_LIMITS["role"], **(stored.get("role") or {})},
            "tier": {**DEFAULT_GESTURE_LIMITS["tier"], **(stored.get("tier") or {})}}


def limit_for(limits: dict[str, Any], *, role: str, tier: str | None) -> int:
    """The most points this agent may grant this customer at once."""
    merged = merged_limits(limits)
    by_role = int(merged["role"].get(role, 0))
    by_tier = int(merged["tier"].get(tier or "regular", merged["tier"]["regular"]))
    return min(by_role, by_tier)


def customer_of(session: Session, handoff: Handoff) -> Customer:
    customer = session.get(Customer, handoff.customer_id) if handoff.customer_id is not None else None
    if customer is None:
        raise ValidationFailed("This conversation has no verified customer to grant points to",
                               "该会话没有已验证的客户，无法补偿积分")
    return customer


def grant(session: Session, *, handoff: Handoff, agent: Agent, points_to_grant: int, reason: str, key: str,
          limits: dict[str, Any] | None) -> tuple[PointsEntry, int]:
    """Credit the points once per `key`, audit the grant and note it on the ticket. Flushes.

    Returns the ledger entry and the limit the grant was checked against.
    """
    conversation.require_holder(handoff, agent)
    customer = customer_of(session, handoff)
    limit = limit_for(limits or {}, role=agent.role, tier=customer.tier)
    if points_to_grant > limit:
        raise OverLimit(points_to_grant, limit)
    entry = points.adjust(session, customer_id=customer.id, points=points_to_grant,
                          reason=f"补偿 Goodwill: {reason}", key=f"goodwill:{handoff.id}:{key}")
    if not handoff.ticket_no:
        ticket_no = tickets.create_for_handoff(session, handoff=handoff, agent=agent, description=None,
                                               severity="low")
        conversation.link_ticket(session, handoff=handoff, agent=agent, ticket_no=ticket_no)
    ticket = ticket_repository.by_no(session, str(handoff.ticket_no))
    if ticket is not None:
        session.add(TicketStatusChange(ticket_id=ticket.id, from_status=ticket.status, to_status=ticket.status,
                                       actor=f"agent:{agent.username}",
                                       note=f"[goodwill +{points_to_grant} points] {reason}"[:500]))
    audit(session, agent=agent, action="gesture", handoff_id=handoff.id,
          details={"customer_id": customer.id, "points": points_to_grant, "reason": reason, "limit": limit,
                   "entry_id": entry.id})
    session.flush()
    return entry, limit
