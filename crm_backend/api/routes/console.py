"""Agent console: live events (SSE), presence, agents and their load, settings, canned replies, pages."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sse_starlette.sse import EventSourceResponse

from crm_backend.agent.models import Agent
from crm_backend.api.deps import SessionDep
from crm_backend.console import auth, pages
from crm_backend.console.canned import canned_replies
from crm_backend.console.deps import ConsoleSession, CurrentAgent, CurrentSupervisor
from crm_backend.core.bus import get_bus
from crm_backend.core.db import as_utc, begin_write, get_sessionmaker, utcnow
from crm_backend.core.errors import UnauthorizedError
from crm_backend.dashboard.service import default_period
from crm_backend.handoff import assignment, live, present, repository, timers
from crm_backend.handoff.models import AuditLog, Handoff
from crm_backend.handoff.settings import console_settings, is_supervisor, update_settings

router = APIRouter(prefix="/console", tags=["console"])
root_router = APIRouter(include_in_schema=False)


class AgentLoad(BaseModel):
    id: int
    username: str
    display_name: str
    role: str
    online: bool
    present: bool
    load: int
    capacity: int


class HeartbeatIn(BaseModel):
    status: str | None = Field(default=None, pattern="^(online|away)$")


class PriorityTargets(BaseModel):
    urgent: int = Field(ge=5, le=86400)
    high: int = Field(ge=5, le=86400)
    normal: int = Field(ge=5, le=86400)
    low: int = Field(ge=5, le=86400)


class ResponseTargetsIn(BaseModel):
    """Seconds to the first and to each next agent response, by priority; value customers get `factor` of them."""

    first: PriorityTargets
    next: PriorityTargets
    value_customer_factor: float = Field(ge=0.1, le=1.0)


class RoleLimits(BaseModel):
    agent: int = Field(ge=0, le=1_000_000)
    supervisor: int = Field(ge=0, le=1_000_000)
    admin: int = Field(ge=0, le=1_000_000)


class TierLimits(BaseModel):
    regular: int = Field(ge=0, le=1_000_000)
    silver: int = Field(ge=0, le=1_000_000)
    gold: int = Field(ge=0, le=1_000_000)
    diamond: int = Field(ge=0, le=1_000_000)


class GestureLimitsIn(BaseModel):
    """Goodwill points granted at once: at most the role's limit and at most the customer's tier's."""

    role: RoleLimits
    tier: TierLimits


class AbandonAfterIn(BaseModel):
    """Minutes of customer silence after which a waiting handoff is closed (0: never)."""

    web: int = Field(ge=0, le=10_080)
    chat_app: int = Field(ge=0, le=43_200)


class SettingsIn(BaseModel):
    auto_assign: bool | None = None
    capacity: int | None = Field(default=None, ge=1, le=50)
    agent_timeout_seconds: int | None = Field(default=None, ge=30, le=86400)
    callback_wait_minutes: int | None = Field(default=None, ge=1, le=1440)
    minutes_per_conversation: int | None = Field(default=None, ge=1, le=120)
    response_targets: ResponseTargetsIn | None = None
    gesture_limits: GestureLimitsIn | None = None
    abandon_after_minutes: AbandonAfterIn | None = None


def agent_loads(session: SessionDep) -> list[AgentLoad]:
    online = assignment.online_agent_ids(session)
    present = assignment.online_agent_ids(session, include_away=True)
    loads = repository.agent_loads(session)
    return [AgentLoad(id=a.id, username=a.username, display_name=a.display_name, role=a.role, online=a.id in online,
                      present=a.id in present, load=loads.get(a.id, 0), capacity=a.capacity)
            for a in session.scalars(select(Agent).where(Agent.is_active.is_(True)).order_by(Agent.id))]


@router.get("/agents")
def list_agents(session: SessionDep, _agent: CurrentAgent) -> dict[str, list[AgentLoad]]:
    """Every active agent with presence and current load (transfer targets, supervisor view)."""
    return {"items": agent_loads(session)}


@router.post("/heartbeat", status_code=204)
def heartbeat(body: HeartbeatIn, session: SessionDep, agent: CurrentAgent, found: ConsoleSession) -> Response:
    """The open console says it is alive (every 20 s); a closed browser stops it and the timeout applies."""
    was_online = agent.is_online
    begin_write(session)
    found[0].last_seen_at = utcnow()
    assignment.heartbeat(session, agent=agent, status=body.status)
    if was_online != agent.is_online:
        live.announce(session, "agents")
    for handoff in assignment.auto_assign(session) if agent.is_online else []:
        live.announce(session, "assigned", handoff.id, agent_id=handoff.assigned_agent_id)
    return Response(status_code=204)


def settings_view(session: SessionDep) -> dict[str, Any]:
    """Console settings plus `capacity`, the per-agent limit (kept on the agents, the same for all by default)."""
    capacity = session.scalar(select(func.max(Agent.capacity)).where(Agent.is_active.is_(True)))
    return {**console_settings(session), "capacity": int(capacity or 3)}


@router.get("/settings")
def get_console_settings(session: SessionDep, _agent: CurrentAgent) -> dict[str, Any]:
    return settings_view(session)


@router.put("/settings")
def put_console_settings(body: SettingsIn, session: SessionDep, supervisor: CurrentSupervisor) -> dict[str, Any]:
    """Supervisor settings; `capacity` sets every agent's concurrent-conversation limit."""
    begin_write(session)
    changes = body.model_dump(exclude_none=True)
    capacity = changes.pop("capacity", None)
    if capacity is not None:
        for agent in session.scalars(select(Agent)):
            agent.capacity = capacity
    update_settings(session, actor=supervisor, changes={**changes, **(
        {"capacity": capacity} if capacity is not None else {})})
    for handoff in assignment.auto_assign(session):
        live.announce(session, "assigned", handoff.id, agent_id=handoff.assigned_agent_id)
    live.announce(session, "agents")
    return settings_view(session)


@router.get("/canned")
def canned(_agent: CurrentAgent, lang: str = "zh") -> dict[str, list[dict[str, str]]]:
    return {"items": canned_replies(lang)}


@router.get("/audit")
def audit_log(session: SessionDep, _supervisor: CurrentSupervisor, limit: int = 100) -> dict[str, Any]:
    rows = session.scalars(select(AuditLog).order_by(AuditLog.id.desc()).limit(min(max(limit, 1), 500)))
    return {"items": [{"id": r.id, "agent_id": r.agent_id, "action": r.action, "handoff_id": r.handoff_id,
                       "details": json.loads(r.details or "{}"), "ip": r.ip, "created_at": r.created_at}
                      for r in rows]}


@router.get("/breaches")
def breaches(session: SessionDep, _supervisor: CurrentSupervisor,
             minutes: int = Query(60, ge=1, le=7 * 24 * 60)) -> dict[str, Any]:
    """Response timers that ran out in the last `minutes`, newest first, with their conversation."""
    rows = timers.recent(session, since=utcnow() - timedelta(minutes=minutes))
    found = session.scalars(select(Handoff).where(Handoff.id.in_({b.handoff_id for b in rows}))).all()
    handoffs = {h.id: h for h in present.handoffs(session, found)}
    return {"items": [{"handoff_id": b.handoff_id, "kind": b.kind, "due_at": as_utc(b.due_at),
                       "breached_at": as_utc(b.breached_at),
                       "customer_name": handoffs[b.handoff_id].customer_name,
                       "conversation_id": handoffs[b.handoff_id].conversation_id,
                       "priority": handoffs[b.handoff_id].priority, "status": handoffs[b.handoff_id].status}
                      for b in rows]}


@router.get("/events")
async def events(request: Request) -> EventSourceResponse:
    """Server-sent events: one `handoff` event per change, from every CRM process sharing the bus."""
    def logged_in() -> bool:
        with get_sessionmaker()() as session:  # short-lived: the stream must not pin a DB connection
            return auth.load(session, cookie=request.cookies.get(auth.SESSION_COOKIE)) is not None

    if not await run_in_threadpool(logged_in):
        raise UnauthorizedError("Please log in to the agent console", "请先登录客服工作台")
    bus = get_bus()
    subscription = bus.subscribe(live.CHANNEL)
    stream = await subscription.__aenter__()  # subscribed before the response starts: no event is missed

    async def generate() -> AsyncIterator[dict[str, str]]:
        try:
            yield {"event": "ready", "data": "{}"}
            async for event in stream:
                # A logout (or an expired session) ends the stream before the next event leaves.
                if not await run_in_threadpool(logged_in):
                    yield {"event": "logout", "data": "{}"}
                    return
                yield {"event": "handoff", "data": json.dumps(event, default=str)}
        finally:
            await subscription.__aexit__(None, None, None)

    return EventSourceResponse(generate(), ping=15, headers={"Cache-Control": "no-store"})


# --------------------------------------------------------------------------- pages


def _page_agent(request: Request, session: SessionDep) -> tuple[Any, Agent] | None:
    return auth.load(session, cookie=request.cookies.get(auth.SESSION_COOKIE))


@root_router.get("/console")
def console_page(request: Request, session: SessionDep) -> Response:
    found = _page_agent(request, session)
    if found is None:
        return RedirectResponse("/console/login", status_code=303)
    row, agent = found
    supervisor = is_supervisor(agent)
    me = json.dumps({"id": agent.id, "name": agent.display_name, "role": agent.role, "supervisor": supervisor})
    return pages.render(request, "console.html", {"agent": agent, "csrf_token": row.csrf_token,
                                                  "supervisor": supervisor, "agent_json": me.replace("</", "<\\/")})


@root_router.get("/dashboard")
def dashboard_page(request: Request, session: SessionDep) -> Response:
    found = _page_agent(request, session)
    if found is None:
        return RedirectResponse("/console/login?next=/dashboard", status_code=303)
    row, agent = found
    if not is_supervisor(agent):
        return RedirectResponse("/console", status_code=303)
    start, end = default_period()
    return pages.render(request, "dashboard.html", {"agent": agent, "csrf_token": row.csrf_token,
                                                    "start": start.isoformat(), "end": end.isoformat()})


@root_router.get("/console/static/{name}")
def static(name: str) -> Response:
    return pages.static_file(name)
