"""Who holds a conversation: presence, claims, transfers, releases of vanished agents, auto-assignment.

Every change of holder is a conditional update (`repository.set_assignee`), so of simultaneous
claims exactly one wins, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from crm_backend.agent.models import Agent
from crm_backend.core import events
from crm_backend.core.db import utcnow
from crm_backend.handoff import errors, repository
from crm_backend.handoff.audit import audit
from crm_backend.handoff.models import Handoff, HandoffMessage, HandoffStatus
from crm_backend.handoff.settings import SUPERVISOR_ROLES, console_settings, is_supervisor


def online_agent_ids(session: Session, *, now: datetime | None = None, include_away: bool = False) -> set[int]:
    """Active agents whose console sent a heartbeat recently (and, unless `include_away`, who are not away)."""
    timeout = int(console_settings(session)["agent_timeout_seconds"])
    return repository.seen_agent_ids(session, since=(now or utcnow()) - timedelta(seconds=timeout),
                                     include_away=include_away)


def heartbeat(session: Session, *, agent: Agent, status: str | None = None) -> None:
    """Record that the agent's console is open; `status` online/away toggles auto-assignment eligibility."""
    agent.last_seen_at = utcnow()
    if status in ("online", "away"):
        if agent.is_online != (status == "online"):
            audit(session, agent=agent, action=f"status_{status}")
        agent.is_online = status == "online"
    session.flush()


def claim(session: Session, *, handoff_id: int, agent: Agent) -> Handoff:
    """Assign an unassigned conversation to `agent`; exactly one of simultaneous claims wins."""
    now = utcnow()
    won = repository.set_assignee(session, handoff_id=handoff_id, expect_agent=None,
                                  expect_status=(HandoffStatus.WAITING,), agent_id=agent.id, claimed_at=now)
    handoff = session.get(Handoff, handoff_id)
    if handoff is None:
        raise errors.HandoffNotFound(handoff_id)
    if not won:
        if handoff.status in HandoffStatus.CLOSED:
            raise errors.AlreadyResolved(handoff_id)
        raise errors.AlreadyClaimed(handoff_id)
    session.refresh(handoff)
    session.add(HandoffMessage(handoff_id=handoff_id, role="system", text=f"claimed:{agent.id}", agent_id=agent.id,
                               created_at=now))
    audit(session, agent=agent, action="claim", handoff_id=handoff_id)
    session.flush()
    return handoff


def _transfer_target(session: Session, *, to_agent_id: int | None, to_supervisor: bool) -> Agent | None:
    if to_supervisor:
        supervisors = repository.agents(session, roles=SUPERVISOR_ROLES)
        if not supervisors:
            raise errors.AgentNotFound(0)
        online = online_agent_ids(session, include_away=True)
        loads = repository.agent_loads(session)
        return min(supervisors, key=lambda a: (a.id not in online, loads.get(a.id, 0), a.id))
    if to_agent_id is None:
        return None
    target = session.get(Agent, to_agent_id)
    if target is None or not target.is_active:
        raise errors.AgentNotFound(to_agent_id)
    return target


def transfer(session: Session, *, handoff: Handoff, actor: Agent, to_agent_id: int | None,
             to_supervisor: bool = False) -> Handoff:
    """Hand a visible conversation to another agent, to any supervisor (least loaded), or back to the queue."""
    if handoff.status in HandoffStatus.CLOSED:
        raise errors.AlreadyResolved(handoff.id)
    if not is_supervisor(actor) and handoff.assigned_agent_id != actor.id:
        raise errors.Forbidden()
    target = _transfer_target(session, to_agent_id=to_agent_id, to_supervisor=to_supervisor)
    previous = handoff.assigned_agent_id
    now = utcnow()
    if not repository.set_assignee(session, handoff_id=handoff.id, expect_agent=previous,
                                   expect_status=(HandoffStatus.WAITING, HandoffStatus.ASSIGNED),
                                   agent_id=target.id if target else None, claimed_at=now if target else None):
        raise errors.AlreadyClaimed(handoff.id)
    session.refresh(handoff)
    session.add(HandoffMessage(handoff_id=handoff.id, role="system", agent_id=actor.id, created_at=now,
                               text=f"transferred:{previous or ''}->{target.id if target else 'queue'}"))
    audit(session, agent=actor, action="transfer", handoff_id=handoff.id,
          details={"from": previous, "to": target.id if target else None, "to_supervisor": to_supervisor})
    session.flush()
    return handoff


def release_stale(session: Session, *, now: datetime | None = None) -> list[Handoff]:
    """Put conversations of agents without a recent heartbeat back in the queue."""
    now = now or utcnow()
    present = online_agent_ids(session, now=now, include_away=True)
    released = []
    for handoff in repository.assigned(session):
        previous = handoff.assigned_agent_id
        if previous in present:
            continue
        if repository.set_assignee(session, handoff_id=handoff.id, expect_agent=previous,
                                   expect_status=(HandoffStatus.ASSIGNED,), agent_id=None, claimed_at=None):
            session.refresh(handoff)
            session.add(HandoffMessage(handoff_id=handoff.id, role="system", text=f"released:{previous}",
                                       created_at=now))
            audit(session, agent=None, action="auto_release", handoff_id=handoff.id, details={"agent": previous})
            released.append(handoff)
    session.flush()
    return released


CHAT_APPS = ("telegram", "slack", "wechat")
ABANDON_BATCH = 100  # per round: a backlog of thousands is closed over a few rounds, each a short write


def close_abandoned(session: Session, *, limits: dict[str, Any], now: datetime | None = None) -> list[Handoff]:
    """Close waiting handoffs whose customer has said nothing for `limits` minutes ("web" for the website and
    any other channel, "chat_app" for Telegram, Slack and WeChat; 0 never closes). Flushes.

    Nobody can tell a website customer who closed the tab from one who waits quietly, so the silence decides;
    a chat app delivers a late reply, so it waits longer. Each closed handoff emits `HandoffAbandoned` (the
    bot takes the conversation back); its tickets stay open, and an agent's claim in between wins.
    """
    now = now or utcnow()
    closed: list[Handoff] = []
    for kind, exclude in (("web", True), ("chat_app", False)):
        minutes = float(limits.get(kind) or 0)
        if minutes <= 0:
            continue
        seen_before = now - timedelta(minutes=minutes)
        for handoff in repository.silent_waiting(session, channels=CHAT_APPS, exclude=exclude,
                                                 seen_before=seen_before, limit=ABANDON_BATCH):
            if not repository.mark_abandoned(session, handoff_id=handoff.id, seen_before=seen_before, now=now):
                continue
            session.refresh(handoff)
            session.add(HandoffMessage(handoff_id=handoff.id, role="system", text=f"abandoned:{minutes:g}",
                                       created_at=now))
            audit(session, agent=None, action="abandon", handoff_id=handoff.id,
                  details={"silent_minutes": minutes, "channel": handoff.channel, "ticket_no": handoff.ticket_no})
            events.emit(session, events.HandoffAbandoned(handoff.conversation_id))
            closed.append(handoff)
    session.flush()
    return closed


def auto_assign(session: Session, *, now: datetime | None = None) -> list[Handoff]:
    """When enabled, give waiting conversations to the least-loaded online agents under capacity."""
    if not console_settings(session)["auto_assign"]:
        return []
    online = online_agent_ids(session, now=now)
    if not online:
        return []
    agents = {a.id: a for a in repository.agents(session, online)}
    loads = repository.agent_loads(session)
    assigned = []
    for handoff in repository.waiting(session):
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
