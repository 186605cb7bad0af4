"""FastAPI application factory; `uvicorn crm_backend.main:app`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from crm_backend.api.main import include_routes
from crm_backend.api.responses import document_errors
from crm_backend.api.routes import metrics
from crm_backend.core.config import Settings, get_settings
from crm_backend.core.errors import add_exception_handlers
from crm_backend.core.limits import BodySizeLimitMiddleware, RejectNulMiddleware
from crm_backend.core.memory import limit_malloc_arenas
from crm_backend.jobs import Jobs
from crm_backend.subscriptions import subscribe_all
from kefu_ops import logs


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the CRM app: routes, error handlers, body-size limit, after-commit subscriptions, background jobs.

    Touches no database; the jobs start with the lifespan.
    """
    config = settings or get_settings()
    subscribe_all()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        logs.configure("crm")  # after uvicorn configured its own loggers
        limit_malloc_arenas(config.kefu_malloc_arenas)  # before the thread pool's threads start
        jobs = Jobs(config)
        jobs.start()
        try:
            yield
        finally:
            await jobs.stop()

    app = FastAPI(
        lifespan=lifespan,
        title="Kefu CRM",
        version="1.0.0",
        description="Customers, loyalty, orders, tickets and the agent console behind the Kefu assistant.",
        docs_url="/docs" if config.show_api_docs else None,
        redoc_url=None,
        openapi_url="/openapi.json" if config.show_api_docs else None,
    )
    add_exception_handlers(app)
    # Added last = runs first: the size limit bounds what the NUL check buffers.
    app.add_middleware(RejectNulMiddleware)
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=config.max_body_bytes,
                       upload_max_bytes=config.model_upload_limit_mb << 20)

    @app.get("/health", tags=["health"])
    def health() -> dict[str, str]:
        """Liveness probe."""
        return {"status": "ok"}

    include_routes(app)
    metrics.instrument(app)
    document_errors(app)
    return app


app = create_app()
