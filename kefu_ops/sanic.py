"""`/metrics`, HTTP request metrics and the log's conversation id for a Sanic app (Rasa, the action server).

Routes are labelled by their pattern (`/conversations/<conversation_id:path>/tracker`), never by the
URL a client sent, so neither conversation ids nor scanners' junk paths become label values.
"""

from __future__ import annotations

import time
from typing import Any

from kefu_ops.logs import bind_conversation
from kefu_ops.metrics import check_access, exposition, observe_http


def _route(request: Any) -> str:
    route = getattr(request, "route", None)
    path = getattr(route, "path", None)
    return "/" + path.lstrip("/") if path is not None else "unmatched"


def _conversation_of(request: Any, body_key: str | None) -> str | None:
    conversation = (getattr(request, "match_info", None) or {}).get("conversation_id")
    if conversation is None and body_key and request.method == "POST":
        try:
            body = request.json
        except Exception:  # not JSON: the route will answer 400 itself
            return None
        conversation = body.get(body_key) if isinstance(body, dict) else None
    return str(conversation) if conversation else None


def instrument(app: Any, *, conversation_body_key: str | None = None) -> None:
    """Time every request, bind the conversation id for the logs, serve `/metrics`.

    The id comes from a `conversation_id` route parameter (Rasa's HTTP API) or, with
    `conversation_body_key`, from that key of a JSON body (the action server's `sender_id`).
    `/metrics` is token-guarded outside development (kefu_ops.metrics).
    """
    from sanic import response

    @app.middleware("request")
    async def _start(request: Any) -> None:
        request.ctx.kefu_started = time.perf_counter()
        # Always bound, to None too: a keep-alive connection serves its requests in one task.
        bind_conversation(_conversation_of(request, conversation_body_key))

    @app.middleware("response")
    async def _observe(request: Any, resp: Any) -> None:
        started = getattr(request.ctx, "kefu_started", None)
        if started is None or resp is None:
            return
        route, status = _route(request), int(getattr(resp, "status", 0) or 0)
        if route == "/metrics":
            return
        observe_http(route, request.method, status, time.perf_counter() - started)

    @app.get("/metrics")
    async def _metrics(request: Any) -> Any:
        denied = check_access(request.headers.get("authorization"))
        if denied is not None:
            zh = (request.headers.get("accept-language") or "").lower().startswith("zh")
            return response.json({"error": {"code": denied.code, "details": None,
                                            "message": denied.message_zh if zh else denied.message_en}},
                                 status=denied.status)
        body, content_type = exposition()
        return response.raw(body, content_type=content_type)
