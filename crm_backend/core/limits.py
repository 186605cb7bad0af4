"""ASGI middleware at the edge: bodies over the configured size (413) and NUL characters in text (422)."""

from __future__ import annotations

import json
import re
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from crm_backend.core.errors import DomainError, error_body, nul_in_text, payload_too_large
from crm_backend.core.i18n import pick_language

# Routes whose body is a binary file (the training worker's model archive): their own size limit, and no NUL
# check (a gzip archive is full of NUL bytes, and nothing in it is stored as text).
BINARY_UPLOADS = re.compile(r"^/api/v1/models/\d+/archive$")


class BodySizeLimitMiddleware:
    """Checks Content-Length up front and counts streamed bodies (chunked uploads)."""

    def __init__(self, app: ASGIApp, max_bytes: int, upload_max_bytes: int | None = None) -> None:
        self.app = app
        self.default_max_bytes = max_bytes
        self.upload_max_bytes = upload_max_bytes or max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        limit = self.upload_max_bytes if BINARY_UPLOADS.match(scope.get("path", "")) else self.default_max_bytes
        length = headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            await self._reject(headers, send, limit)
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
                if size > limit:
                    await self._reject(headers, send, limit)
                    return
                chunks.append(body)
                more = message.get("more_body", False)
            await self.app(scope, replaying(b"".join(chunks), receive), send)
            return
        await self.app(scope, receive, send)

    async def _reject(self, headers: dict[str, Any], send: Send, limit: int) -> None:
        await send_error(payload_too_large(limit), headers, send, close=True)


def replaying(body: bytes, receive: Receive) -> Receive:
    """A receive channel that first hands the app the already-read body, then the live connection."""
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def send_error(error: DomainError, headers: dict[str, Any], send: Send, *, close: bool = False) -> None:
    """Answer with the shared JSON error body, in the request's language, before the app runs."""
    language = pick_language(headers.get("accept-language"))
    body = json.dumps(error_body(error.code, error.message(language), error.details), ensure_ascii=False).encode()
    extra = [(b"connection", b"close")] if close else []
    await send({"type": "http.response.start", "status": error.status_code,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            *extra]})
    await send({"type": "http.response.body", "body": body})


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def _body_has_nul(body: bytes, content_type: str) -> bool:
    if b"\x00" in body:
        return True
    if content_type.startswith("application/x-www-form-urlencoded"):
        return b"%00" in body
    if b"\\u0000" not in body:
        return False
    try:  # an escaped NUL in JSON; parse to tell it from a literal backslash-u0000 inside a string
        return _has_nul(json.loads(body))
    except ValueError:
        return False  # not JSON: the app answers 422 for it anyway


class RejectNulMiddleware:
    """NUL in a path, query or body is refused with 422 `nul_in_text`, for every route at once.

    PostgreSQL cannot store NUL in text (the driver raises, a 500), SQLite would store it silently
    and no client of the CRM has a reason to send one.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        raw_path = scope.get("raw_path") or scope.get("path", "").encode()
        if "\x00" in scope.get("path", "") or b"%00" in raw_path or b"%00" in scope.get("query_string", b""):
            await send_error(nul_in_text(), headers, send)
            return
        if scope.get("method") not in {"POST", "PUT", "PATCH"} or BINARY_UPLOADS.match(scope.get("path", "")):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away before sending its body: nobody to answer
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if _body_has_nul(body, headers.get("content-type", "").lower()):
            await send_error(nul_in_text(), headers, send)
            return
        await self.app(scope, replaying(body, receive), send)
