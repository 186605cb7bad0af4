"""Server-rendered console pages: language choice, string tables, templates, static files."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session

from crm_backend.core.errors import NotFoundError
from crm_backend.core.i18n import pick_language

HERE = Path(__file__).parent
STATIC = HERE / "static"
LANG_COOKIE = "kefu_lang"
templates = Jinja2Templates(directory=str(HERE / "templates"))
# Everything comes from this origin: no CDN, no inline script (style attributes only, for the chart bars).
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
CONTENT_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
                 ".json": "application/json"}


@lru_cache
def strings() -> dict[str, dict[str, str]]:
    loaded: dict[str, dict[str, str]] = json.loads((STATIC / "strings.json").read_text(encoding="utf-8"))
    return loaded


def language(request: Request) -> str:
    """?lang= (remembered in a cookie), else the cookie, else Accept-Language."""
    chosen = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE)
    if chosen in ("zh", "en"):
        return chosen
    return pick_language(request.headers.get("accept-language"))


def render(request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    """Render a page in the request's language; a `?lang=` choice is stored in a cookie."""
    lang = language(request)
    table = strings()[lang]
    payload = json.dumps(strings(), ensure_ascii=False).replace("</", "<\\/")
    response = templates.TemplateResponse(request, name, {
        "lang": lang, "t": lambda key: table.get(key, key), "strings_json": payload, "agent": None,
        # an enum value in the page language, as i18n.js's kefuLabel does it
        "label": lambda kind, value: table.get(f"{kind}_{value}", str(value)),
        "csrf_token": "", **context}, status_code=status_code)
    if request.query_params.get("lang") in ("zh", "en"):
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="lax")
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Content-Security-Policy"] = CSP
    return response


def static_file(name: str) -> Response:
    """A file of console/static (no directory traversal: only plain names that exist)."""
    path = STATIC / name
    if "/" in name or "\\" in name or name.startswith(".") or not path.is_file():
        raise NotFoundError("No such console file", "没有这个工作台文件")
    return Response(path.read_bytes(), media_type=CONTENT_TYPES.get(path.suffix, "application/octet-stream"),
                    headers={"Cache-Control": "no-cache"})


def supervisor_page(request: Request, session: Session, name: str, path: str) -> Response:
    """A supervisors' page: the login page first without a session, the agent console for agents."""
    from crm_backend.console import auth
    from crm_backend.handoff.settings import is_supervisor

    found = auth.load(session, cookie=request.cookies.get(auth.SESSION_COOKIE))
    if found is None:
        return RedirectResponse(f"/console/login?next={path}", status_code=303)
    row, agent = found
    if not is_supervisor(agent):
        return RedirectResponse("/console", status_code=303)
    return render(request, name, {"agent": agent, "csrf_token": row.csrf_token, "supervisor": True})
