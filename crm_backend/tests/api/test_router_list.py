"""Routers are listed by hand in api/main.py: a route module left out of the list would answer 404."""

from __future__ import annotations

import importlib
import pkgutil

from fastapi import APIRouter

from crm_backend.api import main, routes


def test_every_route_module_router_is_listed() -> None:
    listed = {id(router) for router in (*main.API_ROUTERS, *main.ROOT_ROUTERS)}
    missing = []
    for module_info in pkgutil.iter_modules(routes.__path__):
        module = importlib.import_module(f"{routes.__name__}.{module_info.name}")
        for name in ("router", "root_router"):
            router = getattr(module, name, None)
            if isinstance(router, APIRouter) and id(router) not in listed:
                missing.append(f"{module_info.name}.{name}")
    assert missing == [], f"not included in crm_backend/api/main.py: {missing}"
