"""Annotated FastAPI dependencies shared by every route module."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from crm_backend.core.config import Settings, get_settings
from crm_backend.core.db import SessionDep
from crm_backend.core.errors import UnauthorizedError
from crm_backend.core.i18n import Language, pick_language
from crm_backend.core.security import check_service_token, decode_customer_token

__all__ = ["SessionDep", "SettingsDep", "ServiceAuth", "LanguageDep", "CurrentCustomerId", "CsrfProtected",
           "CurrentAgent", "CurrentSupervisor", "require_service_token"]
SettingsDep = Annotated[Settings, Depends(get_settings)]

_bearer = HTTPBearer(auto_error=False, description="CRM_SERVICE_TOKEN")


def require_service_token(
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """401 `unauthorized` unless `Authorization: Bearer <CRM_SERVICE_TOKEN>` is presented."""
    token = credentials.credentials if credentials else None
    if not check_service_token(token, settings.crm_service_token):
        raise UnauthorizedError("Missing or invalid service token", "缺少或无效的服务令牌")


ServiceAuth = Annotated[None, Depends(require_service_token)]


def request_language(request: Request) -> Language:
    """"zh" or "en" from the request's Accept-Language."""
    return pick_language(request.headers.get("accept-language"))


LanguageDep = Annotated[Language, Depends(request_language)]


def customer_from_token(
    settings: SettingsDep,
    x_customer_token: Annotated[str | None, Header(description="signed customer token (JWT HS256)")] = None,
) -> int:
    """Customer id from a verified `X-Customer-Token` header; 401 `unauthorized` otherwise."""
    if not x_customer_token:
        raise UnauthorizedError("Missing customer token", "缺少客户令牌")
    return decode_customer_token(x_customer_token, settings.customer_token_secret)


CurrentCustomerId = Annotated[int, Depends(customer_from_token)]

# Agent-console auth (session cookie, CSRF on unsafe methods, roles) lives with the console.
from crm_backend.console.deps import CsrfProtected, CurrentAgent, CurrentSupervisor  # noqa: E402
