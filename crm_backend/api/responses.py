"""The error statuses each API operation documents in OpenAPI.

Most follow from what a route depends on, so they are derived once for every route here
(`document_errors`); a route adds its own business answers (409, 423, 429 …) with
`responses=error_responses(...)` on its decorator.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts

from crm_backend.api.deps import customer_from_token, require_service_token
from crm_backend.console.deps import console_session, current_supervisor, require_csrf

# The body every 4xx/5xx carries (core/errors.py: error_body).
ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {
        "type": "object",
        "required": ["code", "message"],
        "properties": {"code": {"type": "string"}, "message": {"type": "string"}, "details": {}},
    }},
}
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def error_responses(*codes: int, notes: dict[int, str] | None = None) -> dict[int | str, dict[str, Any]]:
    """`responses=` entries for error statuses, all with the shared error body; `notes` names the error codes."""
    return {code: {"description": (notes or {}).get(code, HTTPStatus(code).phrase),
                   "content": {"application/json": {"schema": ERROR_SCHEMA}}} for code in codes}


def _calls(dependant: Dependant) -> set[Any]:
    found = {dependant.call}
    for sub in dependant.dependencies:
        found |= _calls(sub)
    return found


def derived_codes(route: APIRoute) -> list[int]:
    """Statuses the route can answer because of its auth, parameters and body."""
    calls = _calls(route.dependant)
    codes = [422]  # validation, and NUL in any path, query or body (core/limits.py)
    if calls & {require_service_token, console_session, customer_from_token}:
        codes.append(401)
    if current_supervisor in calls or (require_csrf in calls and not (route.methods or set()) <= SAFE_METHODS):
        codes.append(403)
    if route.dependant.path_params:
        codes.append(404)
    if route.body_field is not None:
        codes.append(413)
    if any(param.alias.lower() == "idempotency-key" for param in route.dependant.header_params):
        codes.append(409)  # idempotency_conflict: the key was used with another body
    return codes


def document_errors(app: FastAPI) -> None:
    """Add the derived error statuses to every API route (a route's own entries win)."""
    for context in iter_route_contexts(app.routes):  # included routers are resolved lazily
        route = context.original_route
        if isinstance(route, APIRoute) and route.include_in_schema:
            for code, entry in error_responses(*derived_codes(route)).items():
                route.responses.setdefault(code, entry)
