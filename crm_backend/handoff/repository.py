"""Handoff queries: the queue, messages, presence and load, and the conditional updates that settle races.

Races (two agents claiming, two clicks on resolve, two processes delivering one reply) are settled
by UPDATEs conditional on the state the caller saw; their rowcount says who won, exactly on SQLite
and PostgreSQL alike.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CursorResult, and_, func, or_, select, update
from sqlalchemy.orm import Session

from crm_backend.agent.models import Agent
from crm_backend.customer.models import Customer
from crm_backend.handoff.models import ConsoleSetting, Handoff, HandoffMessage, HandoffStatus


def rowcount(result: Any) -> int:
    return int(result.rowcount) if isinstance(result, CursorResult) else 0


def active_for_conversation(session: Session, conversation_id: str) -> Handoff | None:
    return session.scalars(select(Handoff).where(Handoff.conversation_id == conversation_id,
                                                 Handoff.status.in_(HandoffStatus.ACTIVE))).first()


def active(session: Session) -> list[Handoff]:
    return list(session.scalars(select(Handoff).where(Handoff.status.in_(HandoffStatus.ACTIVE))))


def any_active(session: Session) -> bool:
    """Whether any handoff is open (one indexed query)."""
    return session.scalar(select(Handoff.id).where(Handoff.status.in_(HandoffStatus.ACTIVE)).limit(1)) is not None


def latest_for_conversation(session: Session, conversation_id: str) -> Handoff | None:
    return session.scalars(select(Handoff).where(Handoff.conversation_id == conversation_id)
                           .order_by(Handoff.created_at.desc())).first()


def waiting_ahead(session: Session, handoff: Handoff) -> int:
    """Waiting conversations served before `handoff` (higher priority, or same priority and older)."""
    ahead = session.scalar(select(func.count()).select_from(Handoff).where(
        Handoff.status == HandoffStatus.WAITING, Handoff.id != handoff.id,
        or_(Handoff.priority_rank < handoff.priority_rank,
            and_(Handoff.priority_rank == handoff.priority_rank, Handoff.created_at <= handoff.created_at))))
    return int(ahead or 0)


def queue(session: Session, *, visible_to: int | None, include_resolved: bool, limit: int) -> list[Handoff]:
    """Value customers first, then priority, then longest waiting; `visible_to` limits to an agent's view."""
    stmt = select(Handoff)
    if not include_resolved:
        stmt = stmt.where(Handoff.status.in_(HandoffStatus.ACTIVE))
    if visible_to is not None:
        stmt = stmt.where(or_(Handoff.assigned_agent_id.is_(None), Handoff.assigned_agent_id == visible_to))
    stmt = stmt.order_by(Handoff.value_customer.desc(), Handoff.priority_rank, Handoff.created_at).limit(limit)
    return list(session.scalars(stmt))


def waiting(session: Session) -> list[Handoff]:
    return list(session.scalars(select(Handoff).where(Handoff.status == HandoffStatus.WAITING)
                                .order_by(Handoff.value_customer.desc(), Handoff.priority_rank,
                                          Handoff.created_at)))


def _silent_waiting(seen_before: datetime) -> Any:
    """Still waiting, and the customer has said nothing since `seen_before`."""
    return and_(Handoff.status == HandoffStatus.WAITING,
                func.coalesce(Handoff.customer_last_seen_at, Handoff.created_at) < seen_before)


def silent_waiting(session: Session, *, channels: tuple[str, ...], exclude: bool, seen_before: datetime,
                   limit: int) -> list[Handoff]:
    """Waiting handoffs on (or, with `exclude`, not on) `channels` whose customer said nothing since `seen_before`."""
    on_channels = Handoff.channel.not_in(channels) if exclude else Handoff.channel.in_(channels)
    return list(session.scalars(select(Handoff).where(_silent_waiting(seen_before), on_channels)
                                .order_by(Handoff.created_at).limit(limit)))


def mark_abandoned(session: Session, *, handoff_id: int, seen_before: datetime, now: datetime) -> bool:
    """Close a handoff still waiting and still silent (an agent's claim or a customer turn since wins)."""
    result = session.execute(
        update(Handoff).where(Handoff.id == handoff_id, _silent_waiting(seen_before))
        .values(status=HandoffStatus.ABANDONED, resolved_at=now).execution_options(synchronize_session=False))
    return rowcount(result) == 1


def take_queue_ack(session: Session, *, handoff_id: int, quiet_since: datetime, now: datetime) -> bool:
    """Claim the acknowledgement of a waiting customer's new message: only when they wrote after the handoff
    (or the last acknowledgement) and that was before `quiet_since`; exactly one caller wins."""
    last = func.coalesce(Handoff.queue_acknowledged_at, Handoff.created_at)
    result = session.execute(
        update(Handoff).where(Handoff.id == handoff_id, Handoff.status == HandoffStatus.WAITING,
                              Handoff.customer_last_seen_at > last, last < quiet_since)
        .values(queue_acknowledged_at=now).execution_options(synchronize_session=False))
    return rowcount(result) == 1


def assigned(session: Session) -> list[Handoff]:
    return list(session.scalars(select(Handoff).where(Handoff.status == HandoffStatus.ASSIGNED,
                                                      Handoff.assigned_agent_id.is_not(None))))


def messages(session: Session, handoff_id: int) -> list[HandoffMessage]:
    return list(session.scalars(select(HandoffMessage).where(HandoffMessage.handoff_id == handoff_id)
                                .order_by(HandoffMessage.created_at, HandoffMessage.id)))


def _waiting(lease_expired_before: datetime) -> Any:
    """A reply that waits for an attempt: pending, or taken by an attempt whose lease ran out."""
    return or_(HandoffMessage.delivery == "pending",
               and_(HandoffMessage.delivery == "sending", HandoffMessage.sending_since < lease_expired_before))


def pending_messages(session: Session, *, handoff_id: int | None, max_attempts: int,
                     lease_expired_before: datetime) -> list[HandoffMessage]:
    stmt = select(HandoffMessage).where(_waiting(lease_expired_before), HandoffMessage.attempts < max_attempts)
    if handoff_id is not None:
        stmt = stmt.where(HandoffMessage.handoff_id == handoff_id)
    return list(session.scalars(stmt.order_by(HandoffMessage.id)))


def settings_rows(session: Session) -> list[ConsoleSetting]:
    return list(session.scalars(select(ConsoleSetting)))


def seen_agent_ids(session: Session, *, since: datetime, include_away: bool) -> set[int]:
    stmt = select(Agent.id).where(Agent.is_active.is_(True), Agent.last_seen_at.is_not(None),
                                  Agent.last_seen_at > since)
    if not include_away:
        stmt = stmt.where(Agent.is_online.is_(True))
    return set(session.scalars(stmt))


def agent_loads(session: Session) -> dict[int, int]:
    """Assigned (unresolved) conversations per agent."""
    rows = session.execute(select(Handoff.assigned_agent_id, func.count()).where(
        Handoff.status == HandoffStatus.ASSIGNED).group_by(Handoff.assigned_agent_id))
    return {agent_id: count for agent_id, count in rows if agent_id is not None}


def agents(session: Session, ids: set[int] | None = None, *, roles: tuple[str, ...] | None = None) -> list[Agent]:
    stmt = select(Agent)
    if ids is not None:
        stmt = stmt.where(Agent.id.in_(ids))
    if roles is not None:
        stmt = stmt.where(Agent.role.in_(roles))
    return list(session.scalars(stmt.order_by(Agent.id)))


def set_assignee(session: Session, *, handoff_id: int, expect_agent: int | None, expect_status: tuple[str, ...],
                 agent_id: int | None, claimed_at: datetime | None) -> bool:
    """Move the handoff to `agent_id` (None: back to the queue) if it is still as the caller saw it."""
    owner = Handoff.assigned_agent_id.is_(None) if expect_agent is None else Handoff.assigned_agent_id == expect_agent
    result = session.execute(
        update(Handoff).where(Handoff.id == handoff_id, owner, Handoff.status.in_(expect_status))
        .values(assigned_agent_id=agent_id, claimed_at=claimed_at,
                status=HandoffStatus.ASSIGNED if agent_id is not None else HandoffStatus.WAITING)
        .execution_options(synchronize_session=False))
    return rowcount(result) == 1


def mark_resolved(session: Session, *, handoff_id: int, agent_id: int, now: datetime) -> bool:
    result = session.execute(
        update(Handoff).where(Handoff.id == handoff_id, Handoff.status.in_(HandoffStatus.ACTIVE))
        .values(status=HandoffStatus.RESOLVED, resolved_at=now, resolved_by_agent_id=agent_id,
                assigned_agent_id=func.coalesce(Handoff.assigned_agent_id, agent_id))
        .execution_options(synchronize_session=False))
    return rowcount(result) == 1


def take_attempt(session: Session, *, message_id: int, seen_attempts: int, now: datetime,
                 lease_expired_before: datetime) -> bool:
    result = session.execute(
        update(HandoffMessage).where(HandoffMessage.id == message_id, _waiting(lease_expired_before),
                                     HandoffMessage.attempts == seen_attempts)
        .values(attempts=seen_attempts + 1, delivery="sending", sending_since=now)
        .execution_options(synchronize_session=False))
    return rowcount(result) == 1


def display_names(session: Session, model: type[Customer] | type[Agent], ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows: Any = session.scalars(select(model).where(model.id.in_(ids)))
    return {row.id: row.display_name for row in rows}


def last_customer_turns(session: Session, handoff_ids: list[int]) -> dict[int, str]:
    """The latest customer message of each handoff."""
    last: dict[int, str] = {}
    if handoff_ids:
        for message in session.scalars(select(HandoffMessage).where(
                HandoffMessage.handoff_id.in_(handoff_ids), HandoffMessage.role == "user")
                .order_by(HandoffMessage.created_at, HandoffMessage.id)):
            last[message.handoff_id] = message.text
    return last


def last_turn_times(session: Session, handoff_ids: list[int]) -> dict[int, tuple[datetime | None, datetime | None]]:
    """(latest customer turn, latest agent reply) times of each handoff."""
    times: dict[int, tuple[datetime | None, datetime | None]] = {}
    if handoff_ids:
        rows = session.execute(select(HandoffMessage.handoff_id, HandoffMessage.role,
                                      func.max(HandoffMessage.created_at))
                               .where(HandoffMessage.handoff_id.in_(handoff_ids),
                                      HandoffMessage.role.in_(("user", "agent")))
                               .group_by(HandoffMessage.handoff_id, HandoffMessage.role)).all()
        for handoff_id, role, at in rows:
            user, agent = times.get(handoff_id, (None, None))
            times[handoff_id] = (at, agent) if role == "user" else (user, at)
    return times
