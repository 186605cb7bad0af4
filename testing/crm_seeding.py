"""A test database: migrated, with the reference data and the five named demo customers (ids 1–5)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from crm_backend.cli import migrate
from crm_backend.core.bus import set_bus
from crm_backend.core.config import get_settings
from crm_backend.core.db import get_engine, get_sessionmaker, make_engine
from crm_backend.demo.generator import generate


def seeded_engine(url: str, *, now: datetime | None = None) -> Engine:
    """Migrate `url`, load the named customers (no generated ones; cheap password hashes), return an engine."""
    migrate(url)
    engine = make_engine(url)
    with Session(engine) as session:
        generate(session, now=now, generated=0, hash_rounds=4)
        session.commit()
    return engine


@contextmanager
def app_on(url: str, **env: str) -> Iterator[FastAPI]:
    """A CRM app whose process-wide settings, engine and bus point at `url` (for code that reads them
    directly instead of through `get_session`: the event stream, real commits); restored afterwards."""
    from crm_backend.main import create_app

    def reset() -> None:
        for cached in (get_settings, get_engine, get_sessionmaker):
            cached.cache_clear()
        set_bus(None)

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DATABASE_URL", url)
        patch.setenv("MAINTENANCE_INTERVAL_SECONDS", "0")
        # No background timer or stream consumer unless a test asks for them (in `env`): a harness that drives
        # the lifespan from another event loop (schemathesis) could not stop the timer's task.
        patch.setenv("KEFU_HANDOFF_TIMER", "0")
        patch.setenv("KEFU_EVENT_STREAM", "off")
        patch.delenv("REDIS_URL", raising=False)
        for name, value in env.items():
            patch.setenv(name, value)
        reset()
        try:
            yield create_app()
        finally:
            get_engine().dispose()
            reset()
