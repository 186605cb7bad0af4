"""The `/api/v1` router, assembled from every module in `crm_backend/api/routes/`.

Each route module may define:
- `router: APIRouter` — included under `/api/v1`;
- `root_router: APIRouter` — included at the site root (HTML pages such as /console, /demo);
- `install(app: FastAPI) -> None` — optional hook for static mounts or middleware.
Adding a file there is enough; nothing else needs editing.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

from fastapi import APIRouter, FastAPI

from crm_backend.api import routes

API_PREFIX = "/api/v1"


def route_modules() -> list[ModuleType]:
    """Import every module in crm_backend.api.routes, sorted by name."""
    names = sorted(info.name for info in pkgutil.iter_modules(routes.__path__) if not info.name.startswith("_"))
    return [importlib.import_module(f"{routes.__name__}.{name}") for name in names]


def include_routes(app: FastAPI) -> None:
    """Include the API router under /api/v1 and every module's root router / install hook."""
    api_router = APIRouter(prefix=API_PREFIX)
    modules = route_modules()
    for module in modules:
        router = getattr(module, "router", None)
        if isinstance(router, APIRouter):
            api_router.include_router(router)
    app.include_router(api_router)
    for module in modules:
        root_router = getattr(module, "root_router", None)
        if isinstance(root_router, APIRouter):
            app.include_router(root_router)
        install = getattr(module, "install", None)
        if callable(install):
            install(app)
