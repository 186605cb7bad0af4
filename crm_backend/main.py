"""FastAPI application factory; `uvicorn crm_backend.main:app`."""

from __future__ import annotations

from fastapi import FastAPI

from crm_backend.api.main import include_routes
from crm_backend.core.config import Settings, get_settings
from crm_backend.core.errors import add_exception_handlers
from crm_backend.core.limits import BodySizeLimitMiddleware


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the CRM app: routes, error handlers, body-size limit. Touches no database."""
    settings = settings or get_settings()
    app = FastAPI(
        title="Kefu CRM",
        version="1.0.0",
        description="Customers, loyalty, orders, tickets and the agent console behind the Kefu assistant.",
        docs_url="/docs",
        openapi_url="/openapi.json",
    )
    add_exception_handlers(app)
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes)

    @app.get("/health", tags=["health"])
    def health() -> dict[str, str]:
        """Liveness probe."""
        return {"status": "ok"}

    include_routes(app)
    return app


app = create_app()
