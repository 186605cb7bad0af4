"""Goodwill gestures: bonus points or a coupon an agent grants a customer from the console, within limits.

Two limits apply to each grant: one by the agent's role and one by the customer's tier (value customers
get more room), both set by a supervisor (console setting `gesture_limits`). A coupon (any reward of the
catalogue) counts at its price in points. Both go through the points ledger (idempotent: a double-click
grants once); the grant is audited and its reason recorded on the conversation's ticket (one is opened
when the conversation has none).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from crm_backend.agent.models import Agent
from crm_backend.core.errors import DomainError, ValidationFailed
from crm_backend.customer.models import Customer
from crm_backend.handoff import conversation, tickets
from crm_backend.handoff.audit import audit
from crm_backend.handoff.models import Handoff
from crm_backend.handoff.settings import DEFAULT_GESTURE_LIMITS
from crm_backend.points import repository as points_repository
from crm_backend.points import service as points
from crm_backend.points.errors import RewardNotFound
from crm_backend.points.models import PointsEntry, Reward
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


@dataclass
class Granted:
    entry: PointsEntry
    limit: int
    value: int  # points, or the coupon's price in points
    reward: Reward | None


def coupons_within(session: Session, *, limit: int) -> list[Reward]:
    """The rewards an agent may give as a coupon under `limit` (active, in stock, priced within it)."""
    rewards, _ = points.list_rewards(session, limit=100, offset=0)
    return [r for r in rewards if r.cost_points <= limit and (r.stock is None or r.stock > 0)]


def grant(session: Session, *, handoff: Handoff, agent: Agent, points_to_grant: int | None, reward_code: str | None,
          reason: str, key: str, limits: dict[str, Any] | None) -> Granted:
    """Credit the points or give the coupon once per `key`, audit the grant and note it on the ticket. Flushes."""
    conversation.require_holder(handoff, agent)
    customer = customer_of(session, handoff)
    limit = limit_for(limits or {}, role=agent.role, tier=customer.tier)
    ledger_key = f"goodwill:{handoff.id}:{key}"
    reward = None
    if reward_code is not None:
        found = points_repository.reward_by_code(session, reward_code)
        if found is None or not found.active:
            raise RewardNotFound(reward_code)
        value, what = found.cost_points, f"coupon {found.code}"
        if value > limit:
            raise OverLimit(value, limit)
        given = points.grant_reward(session, customer_id=customer.id, reward_code=found.code, reason=reason,
                                    key=ledger_key)
        entry = session.get(PointsEntry, given.redemption.points_entry_id)
        assert entry is not None
        reward = given.reward
    else:
        value, what = int(points_to_grant or 0), f"+{points_to_grant} points"
        if value > limit:
            raise OverLimit(value, limit)
        entry = points.adjust(session, customer_id=customer.id, points=value, reason=f"补偿 Goodwill: {reason}",
                              key=ledger_key)
    if not handoff.ticket_no:
        ticket_no = tickets.create_for_handoff(session, handoff=handoff, agent=agent, description=None,
                                               severity="low")
        conversation.link_ticket(session, handoff=handoff, agent=agent, ticket_no=ticket_no)
    ticket = ticket_repository.by_no(session, str(handoff.ticket_no))
    if ticket is not None:
        session.add(TicketStatusChange(ticket_id=ticket.id, from_status=ticket.status, to_status=ticket.status,
                                       actor=f"agent:{agent.username}",
                                       note=f"[goodwill {what}] {reason}"[:500]))
    audit(session, agent=agent, action="gesture", handoff_id=handoff.id,
          details={"customer_id": customer.id, "points": value if reward is None else 0,
                   "reward": reward.code if reward is not None else None, "value": value, "reason": reason,
                   "limit": limit, "entry_id": entry.id})
    session.flush()
    return Granted(entry, limit, value, reward)
