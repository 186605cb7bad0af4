"""Handoff domain: open an escalation, estimate the wait, and decide who may see a conversation.

Assignment (claim, transfer, presence, auto-assignment) is in `assignment.py`, the conversation
itself (replies, notes, tracker copies, resolution) in `conversation.py`, SQL in `repository.py`.
Functions take the session first and are keyword-only; they flush but never commit (the request's
write unit, or a job's, owns the transaction).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from crm_backend.agent.models import Agent
from crm_backend.core.db import as_utc, utcnow
from crm_backend.handoff import errors, repository
from crm_backend.handoff.assignment import online_agent_ids
from crm_backend.handoff.audit import audit
from crm_backend.handoff.models import PRIORITY_RANK, Handoff, HandoffMessage, HandoffStatus
from crm_backend.handoff.redact import redact
from crm_backend.handoff.settings import console_settings, is_supervisor
from crm_backend.scoring.importance import is_top_customer


@dataclass
class Created:
    handoff: Handoff
    expected_wait_minutes: int
    agents_online: int
    offer_callback: bool
    new: bool


def expected_wait(session: Session, *, ahead: int, agents_online: int) -> int:
    """Minutes until an agent is likely free: queue ahead / agents × minutes per conversation."""
    per = int(console_settings(session)["minutes_per_conversation"])
    return max(1, round((ahead + 1) * per / max(agents_online, 1)))


def create_handoff(session: Session, *, conversation_id: str, channel: str, customer_id: int | None, reason: str,
                   reason_code: str, priority: str, transcript: Sequence[dict[str, Any]], language: str) -> Created:
    """Open an escalation (or return the conversation's open one) with its redacted transcript."""
    existing = repository.active_for_conversation(session, conversation_id)
    now = utcnow()
    new = existing is None
    if existing is None:
        priority = priority if priority in PRIORITY_RANK else "normal"
        handoff = Handoff(conversation_id=conversation_id, channel=channel, customer_id=customer_id,
                          language=language if language in ("zh", "en") else "zh", reason=redact(reason),
                          reason_code=reason_code, priority=priority, priority_rank=PRIORITY_RANK[priority],
                          value_customer=is_top_customer(session, customer_id), status=HandoffStatus.WAITING,
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
    wait = expected_wait(session, ahead=repository.waiting_ahead(session, handoff), agents_online=online)
    threshold = int(console_settings(session)["callback_wait_minutes"])
    return Created(handoff, wait, online, online == 0 or wait > threshold, new)


QUEUE_ACK_EVERY = timedelta(minutes=2)


@dataclass(frozen=True)
class QueuePlace:
    handoff: Handoff
    ahead: int
    minutes: int


def queue_ack_due(handoff: Handoff, *, now: datetime) -> bool:
    """A waiting customer wrote since the handoff (or since they were last told), and that was a while ago."""
    last = as_utc(handoff.queue_acknowledged_at or handoff.created_at)
    seen = as_utc(handoff.customer_last_seen_at)
    return (handoff.status == HandoffStatus.WAITING and last is not None and seen is not None and seen > last
            and last < now - QUEUE_ACK_EVERY)


def acknowledge_waiting(session: Session, *, handoff_id: int, now: datetime | None = None) -> QueuePlace | None:
    """Claim telling a waiting customer who wrote again their place in the queue (once per QUEUE_ACK_EVERY,
    one winner among processes); None when not due. Flushes."""
    now = now or utcnow()
    if not repository.take_queue_ack(session, handoff_id=handoff_id, quiet_since=now - QUEUE_ACK_EVERY, now=now):
        return None
    handoff = session.get_one(Handoff, handoff_id)
    session.refresh(handoff)
    ahead = repository.waiting_ahead(session, handoff)
    minutes = expected_wait(session, ahead=ahead, agents_online=len(online_agent_ids(session, now=now)))
    session.flush()
    return QueuePlace(handoff, ahead, minutes)


def _parse_at(value: Any) -> datetime | None:
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(float(value), UTC)
    if isinstance(value, str) and value:
        try:
            return as_utc(datetime.fromisoformat(value.replace("Z", "+00:00")))
        except ValueError:
            return None
    return None


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
    return repository.queue(session, visible_to=None if is_supervisor(agent) else agent.id,
                            include_resolved=include_resolved, limit=limit)


def messages(session: Session, *, handoff_id: int) -> list[HandoffMessage]:
    return repository.messages(session, handoff_id)


def agent_for_conversation(session: Session, *, conversation_id: str) -> int | None:
    """The agent who last resolved (or holds) this conversation — credits CSAT feedback to them."""
    handoff = repository.latest_for_conversation(session, conversation_id)
    if handoff is None:
        return None
    return handoff.resolved_by_agent_id or handoff.assigned_agent_id
