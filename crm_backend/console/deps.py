"""Console authentication dependencies: session cookie → agent, CSRF on state-changing requests, roles."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from crm_backend.agent.models import Agent
from crm_backend.console import auth
from crm_backend.core.db import SessionDep
from crm_backend.core.errors import ForbiddenError, UnauthorizedError
from crm_backend.handoff.errors import CsrfFailed
from crm_backend.handoff.models import AgentSession

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def console_session(request: Request, session: SessionDep) -> tuple[AgentSession, Agent]:
    """The logged-in console session (401 `unauthorized` without a valid cookie)."""
    found = auth.load(session, cookie=request.cookies.get(auth.SESSION_COOKIE))
    if found is None:
        raise UnauthorizedError("Please log in to the agent console", "请先登录客服工作台")
    return found


ConsoleSession = Annotated[tuple[AgentSession, Agent], Depends(console_session)]


def require_csrf(request: Request, found: ConsoleSession) -> None:
    """State-changing requests must echo the session's CSRF token in the `X-CSRF-Token` header."""
    if request.method in SAFE_METHODS:
        return
    if not auth.tokens_match(request.headers.get("x-csrf-token"), found[0].csrf_token):
        raise CsrfFailed()


CsrfProtected = Annotated[None, Depends(require_csrf)]


def current_agent(found: ConsoleSession, _csrf: CsrfProtected) -> Agent:
    """The logged-in agent; unsafe methods are CSRF-checked first."""
    return found[1]


CurrentAgent = Annotated[Agent, Depends(current_agent)]


def current_supervisor(agent: CurrentAgent) -> Agent:
    """The logged-in agent if a supervisor or admin (403 otherwise)."""
    if agent.role not in ("supervisor", "admin"):
        raise ForbiddenError("Supervisors only", "仅限主管")
    return agent


CurrentSupervisor = Annotated[Agent, Depends(current_supervisor)]
