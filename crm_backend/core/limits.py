"""ASGI middleware that refuses request bodies over the configured size (413 `payload_too_large`)."""

from __future__ import annotations

import json
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from crm_backend.core.errors import error_body, payload_too_large
from crm_backend.core.i18n import pick_language


class BodySizeLimitMiddleware:
    """Checks Content-Length up front and counts streamed bodies (chunked uploads)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        length = headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > self.max_bytes:
            await self._reject(headers, send)
            return
        if length is None and scope.get("method") in {"POST", "PUT", "PATCH"}:
            # No declared length: buffer up to the limit, then replay to the app.
            chunks: list[bytes] = []
            size = 0
            more = True
            while more:
                message = await receive()
                if message["type"] != "http.request":
                    break
                body = message.get("body", b"")
                size += len(body)
                if size > self.max_bytes:
                    await self._reject(headers, send)
                    return
                chunks.append(body)
                more = message.get("more_body", False)
            replayed = False

            async def replay() -> Message:
                nonlocal replayed
                if not replayed:
                    replayed = True
                    return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
                return await receive()

            await self.app(scope, replay, send)
            return
        await self.app(scope, receive, send)

    async def _reject(self, headers: dict[str, Any], send: Send) -> None:
        error = payload_too_large(self.max_bytes)
        language = pick_language(headers.get("accept-language"))
        body = json.dumps(error_body(error.code, error.message(language), error.details), ensure_ascii=False).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})
