"""A test database: migrated, with the reference data and the five named demo customers (ids 1–5)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from crm_backend.cli import migrate
from crm_backend.core.db import make_engine
from crm_backend.demo.generator import generate


def seeded_engine(url: str, *, now: datetime | None = None) -> Engine:
    """Migrate `url`, load the named customers (no generated ones; cheap password hashes), return an engine."""
    migrate(url)
    engine = make_engine(url)
    with Session(engine) as session:
        generate(session, now=now, generated=0, hash_rounds=4)
        session.commit()
    return engine
