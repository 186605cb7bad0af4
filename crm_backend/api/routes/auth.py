"""Console login/logout: JSON API under /api/v1/auth and the HTML form at /console/login."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, Field

from crm_backend.api.deps import SessionDep
from crm_backend.api.responses import error_responses
from crm_backend.console import auth, pages
from crm_backend.console.deps import ConsoleSession, CsrfProtected
from crm_backend.core.client_ip import client_ip
from crm_backend.core.config import get_settings
from crm_backend.core.errors import DomainError

router = APIRouter(prefix="/auth", tags=["auth"])
root_router = APIRouter(include_in_schema=False)


class LoginIn(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class AgentOut(BaseModel):
    id: int
    username: str
    display_name: str
    role: str


class LoginOut(BaseModel):
    agent: AgentOut
    csrf_token: str


def client_of(request: Request) -> str:
    return client_ip(request, get_settings())


def _set_session_cookie(request: Request, response: Response, session_id: str) -> None:
    response.set_cookie(auth.SESSION_COOKIE, auth.sign(session_id), max_age=auth.SESSION_HOURS * 3600,
                        httponly=True, samesite="lax", secure=request.url.scheme == "https" or
                        not get_settings().is_development, path="/")


@router.post("/login", response_model=LoginOut, responses=error_responses(401, 429))
def login(body: LoginIn, request: Request, response: Response, session: SessionDep) -> LoginOut:
    """Log in; sets the session cookie and returns the CSRF token to send as `X-CSRF-Token`."""
    row, agent = auth.login(session, username=body.username, password=body.password, client=client_of(request))
    _set_session_cookie(request, response, row.id)
    return LoginOut(agent=AgentOut(id=agent.id, username=agent.username, display_name=agent.display_name,
                                   role=agent.role), csrf_token=row.csrf_token)


@router.get("/me", response_model=LoginOut)
def me(found: ConsoleSession) -> LoginOut:
    row, agent = found
    return LoginOut(agent=AgentOut(id=agent.id, username=agent.username, display_name=agent.display_name,
                                   role=agent.role), csrf_token=row.csrf_token)


@router.post("/logout", status_code=204)
def logout(found: ConsoleSession, _csrf: CsrfProtected, session: SessionDep) -> Response:
    auth.logout(session, row=found[0], agent=found[1])
    response = Response(status_code=204)
    response.delete_cookie(auth.SESSION_COOKIE, path="/")
    return response


# --------------------------------------------------------------------------- HTML form


def _login_page(request: Request, error: str | None = None, status_code: int = 200) -> Response:
    token = secrets.token_urlsafe(24)
    next_url = request.query_params.get("next") or "/console"
    response = pages.render(request, "login.html", {"csrf_token": token, "error": error,
                                                    "next_url": next_url if next_url.startswith("/") else "/console"},
                            status_code=status_code)
    response.set_cookie(auth.LOGIN_CSRF_COOKIE, auth.sign(token, "login"), max_age=3600, httponly=True,
                        samesite="strict", path="/console")
    return response


@root_router.get("/console/login")
def login_page(request: Request) -> Response:
    return _login_page(request)


@root_router.post("/console/login")
def login_form(request: Request, session: SessionDep, username: Annotated[str, Form(max_length=64)],
               password: Annotated[str, Form(max_length=256)], csrf_token: Annotated[str, Form()] = "",
               next: Annotated[str, Form()] = "/console") -> Response:
    """The login form (double-submit CSRF cookie, same rate limit as the API)."""
    lang = pages.language(request)
    expected = auth.unsign(request.cookies.get(auth.LOGIN_CSRF_COOKIE), "login", max_age=3600)
    if not auth.tokens_match(csrf_token, expected):
        return _login_page(request, pages.strings()[lang]["error"] + " (CSRF)", status_code=403)
    try:
        row, _agent = auth.login(session, username=username, password=password, client=client_of(request))
    except DomainError as error:
        return _login_page(request, error.message(lang), status_code=error.status_code)
    response = RedirectResponse(next if next.startswith("/") and not next.startswith("//") else "/console",
                                status_code=303)
    _set_session_cookie(request, response, row.id)
    return response


@root_router.post("/console/logout")
def logout_form(request: Request, session: SessionDep, csrf_token: Annotated[str, Form()] = "") -> Response:
    found = auth.load(session, cookie=request.cookies.get(auth.SESSION_COOKIE))
    if found is not None and auth.tokens_match(csrf_token, found[0].csrf_token):
        auth.logout(session, row=found[0], agent=found[1])
    response = RedirectResponse("/console/login", status_code=303)
    response.delete_cookie(auth.SESSION_COOKIE, path="/")
    return response
