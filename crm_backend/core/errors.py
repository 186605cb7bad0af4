"""Domain errors and the single place that maps every error to the JSON error shape.

Body of every 4xx/5xx: {"error": {"code", "message", "details"}}; the message follows
the request's Accept-Language (zh… → Chinese, otherwise English).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from crm_backend.core.i18n import pick_language

log = logging.getLogger(__name__)


class DomainError(Exception):
    """A business rule failure with a stable code and bilingual message."""

    def __init__(
        self,
        code: str,
        status_code: int,
        message_en: str,
        message_zh: str | None = None,
        details: Any = None,
    ) -> None:
        super().__init__(message_en)
        self.code = code
        self.status_code = status_code
        self.message_en = message_en
        self.message_zh = message_zh or message_en
        self.details = details

    def message(self, language: str) -> str:
        return self.message_zh if language == "zh" else self.message_en


class NotFoundError(DomainError):
    def __init__(self, message_en: str = "Not found", message_zh: str = "未找到", *, code: str = "not_found",
                 details: Any = None) -> None:
        super().__init__(code, 404, message_en, message_zh, details)


class CustomerNotFound(NotFoundError):
    def __init__(self, customer_id: int) -> None:
        super().__init__(f"Customer {customer_id} not found", f"未找到客户 {customer_id}", code="customer_not_found")


class UnauthorizedError(DomainError):
    def __init__(self, message_en: str = "Missing or invalid credentials",
                 message_zh: str = "缺少或无效的凭证") -> None:
        super().__init__("unauthorized", 401, message_en, message_zh)


class ForbiddenError(DomainError):
    def __init__(self, message_en: str = "Not allowed", message_zh: str = "无权执行此操作") -> None:
        super().__init__("forbidden", 403, message_en, message_zh)


class ConflictError(DomainError):
    def __init__(self, message_en: str, message_zh: str | None = None, *, code: str = "conflict",
                 details: Any = None) -> None:
        super().__init__(code, 409, message_en, message_zh, details)


class IdempotencyConflict(ConflictError):
    def __init__(self) -> None:
        super().__init__(
            "This Idempotency-Key was already used with a different request body",
            "该幂等键已用于不同的请求内容",
            code="idempotency_conflict",
        )


class InvalidTransition(ConflictError):
    def __init__(self, current: str, target: str) -> None:
        super().__init__(
            f"Cannot change status from {current} to {target}",
            f"不能将状态从 {current} 改为 {target}",
            code="invalid_transition",
            details={"from": current, "to": target},
        )


class ValidationFailed(DomainError):
    def __init__(self, message_en: str, message_zh: str | None = None, details: Any = None) -> None:
        super().__init__("validation_error", 422, message_en, message_zh, details)


class RateLimited(DomainError):
    def __init__(self, retry_after: int | None = None) -> None:
        super().__init__("rate_limited", 429, "Too many requests, try again later", "请求过于频繁，请稍后再试",
                         {"retry_after": retry_after})


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": jsonable_encoder(details)}}


def error_response(request: Request, error: DomainError, headers: dict[str, str] | None = None) -> JSONResponse:
    """Render a DomainError in the language of the request."""
    language = pick_language(request.headers.get("accept-language"))
    return JSONResponse(error_body(error.code, error.message(language), error.details),
                        status_code=error.status_code, headers=headers)


_HTTP_CODES: dict[int, tuple[str, str, str]] = {
    400: ("bad_request", "Bad request", "请求无效"),
    401: ("unauthorized", "Missing or invalid credentials", "缺少或无效的凭证"),
    403: ("forbidden", "Not allowed", "无权执行此操作"),
    404: ("not_found", "Not found", "未找到"),
    405: ("method_not_allowed", "Method not allowed", "不支持该请求方法"),
    409: ("conflict", "Conflict", "请求冲突"),
    413: ("payload_too_large", "Request body is too large", "请求内容过大"),
    423: ("locked", "Locked", "已锁定"),
    429: ("rate_limited", "Too many requests, try again later", "请求过于频繁，请稍后再试"),
}


def http_error(status_code: int, detail: Any = None) -> DomainError:
    """Translate a bare HTTP status (+ optional detail) into a DomainError."""
    code, en, zh = _HTTP_CODES.get(status_code, ("http_error", "Request failed", "请求失败"))
    if isinstance(detail, dict) and "code" in detail:
        return DomainError(str(detail["code"]), status_code, str(detail.get("message", en)),
                           str(detail.get("message_zh", detail.get("message", zh))), detail.get("details"))
    if isinstance(detail, str) and detail and detail not in {"Not Found", "Method Not Allowed"}:
        en = detail
    return DomainError(code, status_code, en, zh)


def payload_too_large(limit: int) -> DomainError:
    return DomainError("payload_too_large", 413, f"Request body is larger than {limit} bytes",
                       f"请求内容超过 {limit} 字节上限", {"limit": limit})


def nul_in_text() -> DomainError:
    return DomainError("nul_in_text", 422, "Text must not contain NUL (\\u0000) characters",
                       "文本中不能包含 NUL（\\u0000）字符")


def add_exception_handlers(app: FastAPI) -> None:
    """Map every error the app can raise to the shared JSON error shape."""

    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> JSONResponse:
        return error_response(request, exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = list(exc.errors())
        if any(e.get("type") == "json_invalid" for e in errors):
            err = ValidationFailed("Request body is not valid JSON", "请求内容不是有效的 JSON",
                                   [{"loc": e.get("loc"), "msg": e.get("msg")} for e in errors])
        else:
            fields = ", ".join(".".join(str(p) for p in e.get("loc", ()) if p != "body") for e in errors)
            err = ValidationFailed(f"Invalid request: {fields}", f"请求参数无效：{fields}",
                                   [{"loc": e.get("loc"), "msg": e.get("msg"), "type": e.get("type")}
                                    for e in errors])
        return error_response(request, err)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return error_response(request, http_error(exc.status_code, exc.detail),
                              headers=dict(exc.headers) if exc.headers else None)

    @app.exception_handler(json.JSONDecodeError)
    async def _json(request: Request, exc: json.JSONDecodeError) -> JSONResponse:
        return error_response(request, ValidationFailed("Request body is not valid JSON", "请求内容不是有效的 JSON"))

    @app.exception_handler(OperationalError)
    async def _database(request: Request, exc: OperationalError) -> JSONResponse:
        # Lock timeouts or a lost connection: temporary, so tell the client to retry.
        log.warning("database unavailable on %s %s: %s", request.method, request.url.path, exc.orig)
        return error_response(request, DomainError("database_unavailable", 503, "The database is busy; retry shortly",
                                                   "数据库繁忙，请稍后重试"), headers={"Retry-After": "1"})

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_response(request, DomainError("internal_error", 500, "Internal server error", "服务器内部错误"))
