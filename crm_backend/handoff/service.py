"""Handoff domain logic: create, queue, claim, transfer, talk, resolve, presence and auto-assignment.

Functions take the session first and are keyword-only; they flush but never commit (the caller owns
the transaction). Races (two agents claiming, two clicks on resolve) are settled by conditional
UPDATEs whose rowcount says who won, so they are exact on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import CursorResult, and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crm_backend.agent.models import Agent
from crm_backend.core.db import begin_write
from crm_backend.handoff import errors
from crm_backend.handoff.models import (
    PRIORITY_RANK,
    AuditLog,
    ConsoleSetting,
    Handoff,
    HandoffMessage,
    HandoffStatus,
)
from crm_backend.handoff.redact import redact

SUPERVISOR_ROLES = ("supervisor", "admin")
DEFAULTS: dict[str, Any] = {
    "auto_assign": False,
        "agent_timeout_seconds": 120,  # no heartbeat for this long → conversation goes back to the queue
    "callback_wait_minutes": 10,  # expected wait above this → the bot offers a callback ticket
    "minutes_per_conversation": 4,  # expected-wait estimate
}


def now_utc() -> datetime:
    return datetime.now(UTC)


def aware(moment: datetime | None) -> datetime | None:
    """SQLite returns naive datetimes; treat them as UTC."""
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def start_write(session: Session) -> None:
    """End the request's read transaction and start a writer's one.

    On SQLite a read transaction that later writes can fail at once with "database is locked" when
    another writer committed in between; `BEGIN IMMEDIATE` waits for the lock instead.
    """
    if session.in_transaction():
        session.commit()
    begin_write(session)


def is_supervisor(agent: Agent) -> bool:
    return agent.role in SUPERVISOR_ROLES


# --------------------------------------------------------------------------- settings, audit


def get_settings(session: Session) -> dict[str, Any]:
    """Console settings with defaults filled in."""
    values = dict(DEFAULTS)
    for row in session.scalars(select(ConsoleSetting)):
        try:
            values[row.key] = json.loads(row.value)
        except ValueError:
            continue
    return values


def update_settings(session: Session, *, actor: Agent, changes: dict[str, Any]) -> dict[str, Any]:
    """Change console settings (supervisors only)."""
    if not is_supervisor(actor):
        raise errors.Forbidden()
    for key, value in changes.items():
        if key not in DEFAULTS or value is None:
            continue
        row = session.get(ConsoleSetting, key)
        if row is None:
            session.add(ConsoleSetting(key=key, value=json.dumps(value)))
        else:
            row.value = json.dumps(value)
    audit(session, agent=actor, action="settings_update", details=changes)
    session.flush()
    return get_settings(session)


def audit(session: Session, *, agent: Agent | None, action: str, handoff_id: int | None = None,
          details: dict[str, Any] | None = None, ip: str | None = None) -> None:
    """Append one audit-log row."""
    session.add(AuditLog(agent_id=agent.id if agent else None, action=action, handoff_id=handoff_id,
                         details=json.dumps(details or {}, ensure_ascii=False, default=str), ip=ip,
                         created_at=now_utc()))


# --------------------------------------------------------------------------- presence


def online_agent_ids(session: Session, *, now: datetime | None = None, include_away: bool = False) -> set[int]:
    """Active agents whose console sent a heartbeat recently (and, unless `include_away`, who are not away)."""
    now = now or now_utc()
    timeout = int(get_settings(session)["agent_timeout_seconds"])
    stmt = select(Agent.id).where(Agent.is_active.is_(True), Agent.last_seen_at.is_not(None),
                                  Agent.last_seen_at > now - timedelta(seconds=timeout))
    if not include_away:
        stmt = stmt.where(Agent.is_online.is_(True))
    return set(session.scalars(stmt))


def heartbeat(session: Session, *, agent: Agent, status: str | None = None) -> None:
    """Record that the agent's console is open; `status` online/away toggles auto-assignment eligibility."""
    agent.last_seen_at = now_utc()
    if status in ("online", "away"):
        if agent.is_online != (status == "online"):
            audit(session, agent=agent, action=f"status_{status}")
        agent.is_online = status == "online"
    session.flush()


def agent_loads(session: Session) -> dict[int, int]:
    """Assigned (unresolved) conversations per agent."""
    rows = session.execute(select(Handoff.assigned_agent_id, func.count()).where(
        Handoff.status == HandoffStatus.ASSIGNED).group_by(Handoff.assigned_agent_id))
    return {agent_id: count for agent_id, count in rows if agent_id is not None}


# --------------------------------------------------------------------------- create


@dataclass
class Created:
    handoff: Handoff
    expected_wait_minutes: int
    agents_online: int
    offer_callback: bool
    new: bool


def _value_customer(session: Session, customer_id: int | None) -> bool:
    if customer_id is None:
        return False
    from crm_backend.console import customer360

    return customer360.is_value_customer(session, customer_id)


def expected_wait(session: Session, *, ahead: int, agents_online: int) -> int:
    """Minutes until an agent is likely free: queue ahead / agents × minutes per conversation."""
    per = int(get_settings(session)["minutes_per_conversation"])
    return max(1, round((ahead + 1) * per / max(agents_online, 1)))


def create_handoff(session: Session, *, conversation_id: str, channel: str, customer_id: int | None, reason: str,
                   reason_code: str, priority: str, transcript: Sequence[dict[str, Any]], language: str) -> Created:
    """Open an escalation (or return the conversation's open one) with its redacted transcript."""
    existing = session.scalars(select(Handoff).where(Handoff.conversation_id == conversation_id,
                                                     Handoff.status.in_(HandoffStatus.ACTIVE))).first()
    now = now_utc()
    new = existing is None
    if existing is None:
        priority = priority if priority in PRIORITY_RANK else "normal"
        handoff = Handoff(conversation_id=conversation_id, channel=channel, customer_id=customer_id,
                          language=language if language in ("zh", "en") else "zh", reason=redact(reason),
                          reason_code=reason_code, priority=priority, priority_rank=PRIORITY_RANK[priority],
                          value_customer=_value_customer(session, customer_id), status=HandoffStatus.WAITING,
                          created_at=now, customer_last_seen_at=now, tracker_cursor=0.0)
        session.add(handoff)
        session.flush()
        for turn in transcript:
            role = turn.get("role")
            text = str(turn.get("text") or "").strip()
            if role not in ("user", "bot") or not text:
                continue
            session.add(HandoffMessage(handoff_id=handoff.id, role=role, text=redact(text)[:4000],
                                       created_at=_parse_at(turn.get("at")) or now))
        session.add(HandoffMessage(handoff_id=handoff.id, role="system", text=f"handoff:{reason_code or 'request'}",
                                   created_at=now))
        audit(session, agent=None, action="handoff_created", handoff_id=handoff.id,
              details={"priority": priority, "reason_code": reason_code, "channel": channel})
        session.flush()
    else:
        handoff = existing
    online = len(online_agent_ids(session, now=now))
    ahead = session.scalar(select(func.count()).select_from(Handoff).where(
        Handoff.status == HandoffStatus.WAITING, Handoff.id != handoff.id,
        or_(Handoff.priority_rank < handoff.priority_rank,
            and_(Handoff.priority_rank == handoff.priority_rank, Handoff.created_at <= handoff.created_at))))
    wait = expected_wait(session, ahead=int(ahead or 0), agents_online=online)
    threshold = int(get_settings(session)["callback_wait_minutes"])
    return Created(handoff, wait, online, online == 0 or wait > threshold, new)


def _parse_at(value: Any) -> datetime | None:
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(float(value), UTC)
    if isinstance(value, str) and value:
        try:
            return aware(datetime.fromisoformat(value.replace("Z", "+00:00")))
        except ValueError:
            return None
    return None


# --------------------------------------------------------------------------- reading


def can_view(agent: Agent, handoff: Handoff) -> bool:
    """Agents see their own and unassigned conversations; supervisors and admins see all."""
    return is_supervisor(agent) or handoff.assigned_agent_id in (None, agent.id)


def get_visible(session: Session, *, handoff_id: int, agent: Agent) -> Handoff:
    handoff = session.get(Handoff, handoff_id)
    if handoff is None:
        raise errors.HandoffNotFound(handoff_id)
    if not can_view(agent, handoff):
        raise errors.Forbidden()
    return handoff


def queue(session: Session, *, agent: Agent, include_resolved: bool = False, limit: int = 200) -> list[Handoff]:
    """Visible conversations: value customers first, then priority, then longest waiting."""
    stmt = select(Handoff)
    if not include_resolved:
        stmt = stmt.where(Handoff.status.in_(HandoffStatus.ACTIVE))
    if not is_supervisor(agent):
        stmt = stmt.where(or_(Handoff.assigned_agent_id.is_(None), Handoff.assigned_agent_id == agent.id))
    stmt = stmt.order_by(Handoff.value_customer.desc(), Handoff.priority_rank, Handoff.created_at).limit(limit)
    return list(session.scalars(stmt))


def messages(session: Session, *, handoff_id: int) -> list[HandoffMessage]:
    return list(session.scalars(select(HandoffMessage).where(HandoffMessage.handoff_id == handoff_id)
                                .order_by(HandoffMessage.created_at, HandoffMessage.id)))


def agent_for_conversation(session: Session, *, conversation_id: str) -> int | None:
    """The agent who last resolved (or holds) this conversation — credits CSAT feedback to them."""
    handoff = session.scalars(select(Handoff).where(Handoff.conversation_id == conversation_id)
                              .order_by(Handoff.created_at.desc())).first()
    if handoff is None:
        return None
    return handoff.resolved_by_agent_id or handoff.assigned_agent_id


# --------------------------------------------------------------------------- claiming and transfer


def _rowcount(result: Any) -> int:
    return int(result.rowcount) if isinstance(result, CursorResult) else 0


def claim(session: Session, *, handoff_id: int, agent: Agent) -> Handoff:
    """Assign an unassigned conversation to `agent`; exactly one of simultaneous claims wins."""
    now = now_utc()
    result = session.execute(
        update(Handoff).where(Handoff.id == handoff_id, Handoff.assigned_agent_id.is_(None),
                              Handoff.status == HandoffStatus.WAITING)
        .values(assigned_agent_id=agent.id, status=HandoffStatus.ASSIGNED, claimed_at=now)
        .execution_options(synchronize_session=False))
    handoff = session.get(Handoff, handoff_id)
    if handoff is None:
        raise errors.HandoffNotFound(handoff_id)
    if _rowcount(result) != 1:
        raise errors.AlreadyClaimed(handoff_id)
    session.refresh(handoff)
    session.add(HandoffMessage(handoff_id=handoff_id, role="system", text=f"claimed:{agent.id}", agent_id=agent.id,
                               created_at=now))
    audit(session, agent=agent, action="claim", handoff_id=handoff_id)
    session.flush()
    return handoff


def transfer(session: Session, *, handoff_id: int, actor: Agent, to_agent_id: int | None,
             to_supervisor: bool = False) -> Handoff:
    """Hand a conversation to another agent, to any supervisor (least loaded), or back to the queue."""
    handoff = get_visible(session, handoff_id=handoff_id, agent=actor)
    if handoff.status == HandoffStatus.RESOLVED:
        raise errors.AlreadyResolved(handoff.id)
    if not is_supervisor(actor) and handoff.assigned_agent_id != actor.id:
        raise errors.Forbidden()
    target: Agent | None = None
    if to_supervisor:
        supervisors = list(session.scalars(select(Agent).where(Agent.role.in_(SUPERVISOR_ROLES))))
        if not supervisors:
            raise errors.AgentNotFound(0)
        online = online_agent_ids(session, include_away=True)
        loads = agent_loads(session)
        target = min(supervisors, key=lambda a: (a.id not in online, loads.get(a.id, 0), a.id))
    elif to_agent_id is not None:
        target = session.get(Agent, to_agent_id)
        if target is None or not getattr(target, "is_active", True):
            raise errors.AgentNotFound(to_agent_id)
    previous = handoff.assigned_agent_id
    result = session.execute(
        update(Handoff).where(Handoff.id == handoff_id, Handoff.status != HandoffStatus.RESOLVED,
                              Handoff.assigned_agent_id.is_(previous) if previous is None
                              else Handoff.assigned_agent_id == previous)
        .values(assigned_agent_id=target.id if target else None,
                status=HandoffStatus.ASSIGNED if target else HandoffStatus.WAITING,
                claimed_at=now_utc() if target else None)
        .execution_options(synchronize_session=False))
    if _rowcount(result) != 1:
        raise errors.AlreadyClaimed(handoff_id)
    session.refresh(handoff)
    session.add(HandoffMessage(handoff_id=handoff_id, role="system", agent_id=actor.id, created_at=now_utc(),
                               text=f"transferred:{previous or ''}->{target.id if target else 'queue'}"))
    audit(session, agent=actor, action="transfer", handoff_id=handoff_id,
          details={"from": previous, "to": target.id if target else None, "to_supervisor": to_supervisor})
    session.flush()
    return handoff


# --------------------------------------------------------------------------- talking


def _require_holder(handoff: Handoff, agent: Agent) -> None:
    if handoff.status == HandoffStatus.RESOLVED:
        raise errors.AlreadyResolved(handoff.id)
    if handoff.assigned_agent_id != agent.id and not is_supervisor(agent):
        raise errors.NotAssigned(handoff.id)


def add_reply(session: Session, *, handoff_id: int, agent: Agent, text: str) -> HandoffMessage:
    """Record an agent reply as `pending`; the caller delivers it through Rasa and marks the result."""
    handoff = get_visible(session, handoff_id=handoff_id, agent=agent)
    _require_holder(handoff, agent)
    now = now_utc()
    message = HandoffMessage(handoff_id=handoff_id, role="agent", text=text, agent_id=agent.id, created_at=now,
                             delivery="pending", attempts=0)
    session.add(message)
    if handoff.first_response_at is None:
        handoff.first_response_at = now
    audit(session, agent=agent, action="reply", handoff_id=handoff_id, details={"chars": len(text)})
    session.flush()
    return message


def claim_attempt(session: Session, *, message: HandoffMessage) -> bool:
    """Take the next delivery attempt of a pending reply; False when another request/process took it.

    Without this, two CRM processes' pollers (or a poller and the Retry button) could both send the same
    reply when Rasa comes back, and the customer would read it twice.
    """
    seen = message.attempts
    result = session.execute(
        update(HandoffMessage).where(HandoffMessage.id == message.id, HandoffMessage.delivery == "pending",
                                     HandoffMessage.attempts == seen)
        .values(attempts=seen + 1).execution_options(synchronize_session=False))
    session.refresh(message)
    return _rowcount(result) == 1


def mark_delivery(session: Session, *, message: HandoffMessage, delivered: bool, error: str | None = None,
                  customer_gone: bool = False) -> None:
    """Record the outcome of the delivery attempt taken with `claim_attempt`."""
    if delivered:
        message.delivery, message.last_error = "delivered", None
    else:
        message.delivery = "recorded" if customer_gone else "pending"
        message.last_error = (error or "")[:500]
    session.flush()


def pending_messages(session: Session, *, handoff_id: int | None = None,
                     max_attempts: int = 20) -> list[HandoffMessage]:
    stmt = select(HandoffMessage).where(HandoffMessage.delivery == "pending", HandoffMessage.attempts < max_attempts)
    if handoff_id is not None:
        stmt = stmt.where(HandoffMessage.handoff_id == handoff_id)
    return list(session.scalars(stmt.order_by(HandoffMessage.id)))


def add_note(session: Session, *, handoff_id: int, agent: Agent, text: str) -> HandoffMessage:
    """An internal note: visible to agents only, never sent to the customer."""
    get_visible(session, handoff_id=handoff_id, agent=agent)
    note = HandoffMessage(handoff_id=handoff_id, role="note", text=text, agent_id=agent.id, created_at=now_utc())
    session.add(note)
    audit(session, agent=agent, action="note", handoff_id=handoff_id)
    session.flush()
    return note


def link_ticket(session: Session, *, handoff_id: int, agent: Agent, ticket_no: str) -> Handoff:
    handoff = get_visible(session, handoff_id=handoff_id, agent=agent)
    handoff.ticket_no = ticket_no
    audit(session, agent=agent, action="ticket_link", handoff_id=handoff_id, details={"ticket_no": ticket_no})
    session.flush()
    return handoff


def sync_from_tracker(session: Session, *, handoff: Handoff, events: list[dict[str, Any]]) -> list[HandoffMessage]:
    """Copy the customer's (and bot's) turns after the escalation into the handoff's messages.

    Idempotent through the unique (handoff, role, Rasa timestamp): the event stream may deliver an event
    twice or out of order (competing consumers), so there is no cursor to skip by.
    """
    created: list[HandoffMessage] = []
    start = (aware(handoff.created_at) or now_utc()).timestamp()
    for event in events:
        kind, text = event.get("event"), event.get("text")
        ts = float(event.get("timestamp") or 0.0)
        if kind not in ("user", "bot") or not text or ts <= start:
            continue
        if kind == "bot" and (event.get("metadata") or {}).get("kefu_agent_id") is not None:
            continue  # our own agent reply, already stored
        message = HandoffMessage(handoff_id=handoff.id, role=kind, text=redact(str(text))[:4000], rasa_ts=ts,
                                 created_at=datetime.fromtimestamp(ts, UTC))
        try:
            with session.begin_nested():
                session.add(message)
                session.flush()
        except IntegrityError:
            continue  # already stored
        created.append(message)
        if kind == "user" and (aware(handoff.customer_last_seen_at) or message.created_at) <= message.created_at:
            handoff.customer_last_seen_at = message.created_at
    session.flush()
    return created


# --------------------------------------------------------------------------- resolution


def resolve(session: Session, *, handoff_id: int, agent: Agent) -> bool:
    """Mark the conversation resolved; True only for the request that actually resolved it."""
    handoff = get_visible(session, handoff_id=handoff_id, agent=agent)
    if handoff.status != HandoffStatus.RESOLVED:
        _require_holder(handoff, agent)
    now = now_utc()
    result = session.execute(
        update(Handoff).where(Handoff.id == handoff_id, Handoff.status != HandoffStatus.RESOLVED)
        .values(status=HandoffStatus.RESOLVED, resolved_at=now, resolved_by_agent_id=agent.id,
                assigned_agent_id=func.coalesce(Handoff.assigned_agent_id, agent.id))
        .execution_options(synchronize_session=False))
    if _rowcount(result) != 1:
        return False
    session.refresh(handoff)
    session.add(HandoffMessage(handoff_id=handoff_id, role="system", text="resolved", agent_id=agent.id,
                               created_at=now))
    audit(session, agent=agent, action="resolve", handoff_id=handoff_id)
    session.flush()
    return True


# --------------------------------------------------------------------------- background duties


def release_stale(session: Session, *, now: datetime | None = None) -> list[Handoff]:
    """Put conversations of agents without a recent heartbeat back in the queue."""
    now = now or now_utc()
    present = online_agent_ids(session, now=now, include_away=True)
    stale = list(session.scalars(select(Handoff).where(Handoff.status == HandoffStatus.ASSIGNED,
                                                       Handoff.assigned_agent_id.is_not(None))))
    released = []
    for handoff in stale:
        if handoff.assigned_agent_id in present:
            continue
        previous = handoff.assigned_agent_id
        result = session.execute(
            update(Handoff).where(Handoff.id == handoff.id, Handoff.assigned_agent_id == previous,
                                  Handoff.status == HandoffStatus.ASSIGNED)
            .values(assigned_agent_id=None, status=HandoffStatus.WAITING, claimed_at=None)
            .execution_options(synchronize_session=False))
        if _rowcount(result) == 1:
            session.refresh(handoff)
            session.add(HandoffMessage(handoff_id=handoff.id, role="system", text=f"released:{previous}",
                                       created_at=now))
            audit(session, agent=None, action="auto_release", handoff_id=handoff.id, details={"agent": previous})
            released.append(handoff)
    session.flush()
    return released


def auto_assign(session: Session, *, now: datetime | None = None) -> list[Handoff]:
    """When enabled, give waiting conversations to the least-loaded online agents under capacity."""
    settings = get_settings(session)
    if not settings["auto_assign"]:
        return []
    online = online_agent_ids(session, now=now)
    if not online:
        return []
    agents = {a.id: a for a in session.scalars(select(Agent).where(Agent.id.in_(online)))}
    loads = agent_loads(session)
    assigned = []
    waiting = list(session.scalars(select(Handoff).where(Handoff.status == HandoffStatus.WAITING)
                                   .order_by(Handoff.value_customer.desc(), Handoff.priority_rank,
                                             Handoff.created_at)))
    for handoff in waiting:
        candidates = [a for a in agents if loads.get(a, 0) < agents[a].capacity]
        if not candidates:
            break
        chosen = min(candidates, key=lambda a: (loads.get(a, 0), a))
        try:
            with session.begin_nested():
                claim(session, handoff_id=handoff.id, agent=agents[chosen])
        except errors.AlreadyClaimed:
            continue
        loads[chosen] = loads.get(chosen, 0) + 1
        assigned.append(handoff)
    return assigned
