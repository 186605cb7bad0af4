"""`GET /metrics` (Prometheus), HTTP metrics on every route, and the log format and conversation id.

Outside development `/metrics` needs `Authorization: Bearer $METRICS_TOKEN` (kefu_ops.metrics).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Header, Response
from prometheus_fastapi_instrumentator import Instrumentator
from prometheus_fastapi_instrumentator.metrics import Info
from starlette.types import ASGIApp, Receive, Scope, Send

from crm_backend.api.deps import SessionDep
from crm_backend.core.errors import ForbiddenError, UnauthorizedError
from crm_backend.observability import service
from kefu_ops import logs
from kefu_ops.metrics import check_access, exposition, observe_http

root_router = APIRouter(tags=["operations"])


def require_metrics_access(authorization: Annotated[str | None, Header()] = None) -> None:
    denied = check_access(authorization)
    if denied is None:
        return
    if denied.status == 403:
        raise ForbiddenError(denied.message_en, denied.message_zh)
    raise UnauthorizedError(denied.message_en, denied.message_zh)


@root_router.get("/metrics", dependencies=[Depends(require_metrics_access)], include_in_schema=False)
def metrics(session: SessionDep) -> Response:
    """Prometheus text format: HTTP metrics of this process plus the business gauges (queue, SLA, kept work)."""
    service.refresh(session)
    body, content_type = exposition()
    return Response(body, media_type=content_type)


def _observe(info: Info) -> None:
    observe_http(info.modified_handler, info.method, info.response.status_code if info.response else 500,
                 info.modified_duration)


class ConversationMiddleware:
    """Log lines of a request carry the conversation the action server named in `X-Conversation-Id`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        header = logs.CONVERSATION_HEADER.lower().encode()
        value = next((v for k, v in scope.get("headers", []) if k == header), None)
        token = logs.bind_conversation(value.decode("utf-8", "replace")[:128] if value else None)
        try:
            await self.app(scope, receive, send)
        finally:
            logs.reset_conversation(token)


def instrument(app: FastAPI) -> None:
    """HTTP metrics on every route and the conversation id of each request's log lines (main.py calls it)."""
    Instrumentator(should_group_status_codes=False, excluded_handlers=["/metrics"]).add(_observe).instrument(app)
    app.add_middleware(ConversationMiddleware)
