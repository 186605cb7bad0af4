"""Serve the chat widget bundle and the demo host page.

`/widget/kefu-widget.js` is the vendored socket.io client (static/vendor, MIT) followed by the widget,
wrapped in one function so the host page's own `io`, `define` or `module` are left untouched.
`/demo` is a host page; in development it can sign a customer token for demo customer 1 so the
widget chats as a logged-in, verified customer.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates

from crm_backend.core.config import Settings, get_settings
from crm_backend.core.security import create_customer_token

HERE = Path(__file__).resolve().parent
STATIC = HERE / "static"
templates = Jinja2Templates(directory=str(HERE / "templates"))

DEMO_CUSTOMER_ID = 1  # 王伟 Wang Wei, diamond member (docs/contract.md demo data)
DEMO_TOKEN_TTL_SECONDS = 3600

router = APIRouter(tags=["widget"], include_in_schema=False)


@lru_cache(maxsize=1)
def widget_bundle() -> tuple[bytes, str]:
    """The widget JavaScript with its private socket.io client, and its ETag."""
    vendor = (STATIC / "vendor" / "socket.io.min.js").read_text(encoding="utf-8")
    source = (STATIC / "kefu-widget.src.js").read_text(encoding="utf-8")
    bundle = (
        "/*! Kefu chat widget. Bundles socket.io-client 4.8.1 (MIT, (c) Guillermo Rauch). */\n"
        "(function () {\nvar define, module, exports; var __kefuPrevIo = window.io;\n"
        f"{vendor}\n;var KefuIO = window.io;\n"
        "if (__kefuPrevIo === undefined) { try { delete window.io; } catch (e) { window.io = undefined; } }\n"
        "else { window.io = __kefuPrevIo; }\n"
        f"{source}\n}})();\n"
    ).encode()
    return bundle, '"' + hashlib.sha256(bundle).hexdigest()[:20] + '"'


def _static(request: Request, body: bytes, etag: str, media_type: str) -> Response:
    headers = {"ETag": etag, "Cache-Control": "public, max-age=300", "Access-Control-Allow-Origin": "*",
               "X-Content-Type-Options": "nosniff"}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=media_type, headers=headers)


@router.get("/widget/kefu-widget.js")
def widget_js(request: Request) -> Response:
    """The one file a host page includes."""
    body, etag = widget_bundle()
    return _static(request, body, etag, "application/javascript; charset=utf-8")


@router.get("/widget/kefu-widget.css")
def widget_css(request: Request) -> Response:
    """The widget's stylesheet (loaded by the script next to itself)."""
    body = (STATIC / "kefu-widget.css").read_bytes()
    return _static(request, body, '"' + hashlib.sha256(body).hexdigest()[:20] + '"', "text/css; charset=utf-8")


def _page_language(request: Request, lang: str | None) -> str:
    if lang in ("zh", "en"):
        return lang
    accept = request.headers.get("accept-language", "")
    return "zh" if accept.lower().startswith("zh") else "en"


@router.get("/demo", response_class=HTMLResponse)
def demo_page(
    request: Request,
    settings: Annotated[Settings, Depends(get_settings)],
    visitor: Annotated[Literal["anonymous", "customer"], Query()] = "anonymous",
    lang: Annotated[Literal["zh", "en"] | None, Query()] = None,
) -> HTMLResponse:
    """A shop page embedding the widget, as an anonymous visitor or as logged-in demo customer 1."""
    token = None
    if visitor == "customer" and settings.is_development:
        token = create_customer_token(DEMO_CUSTOMER_ID, settings.customer_token_secret, DEMO_TOKEN_TTL_SECONDS)
    return templates.TemplateResponse(
        request,
        "demo.html",
        {
            "lang": _page_language(request, lang),
            "visitor": visitor,
            "customer_token": token,
            "signing_disabled": visitor == "customer" and not settings.is_development,
            "socket_url": settings.rasa_url,
            "widget_src": str(request.url_for("widget_js")),
        },
    )
