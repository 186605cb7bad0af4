"""Shared fixtures for every CRM test (SQLite AND PostgreSQL, real databases).

Databases (created once per test session, migrated with Alembic `upgrade head`, then loaded
with the reference data + the five named demo customers, ids 1–5; no generated customers):
- `sqlite_engine`: a temporary SQLite file.
- `pg_engine`: database `$KEFU_TEST_PG_DB` (default `kefu_test`; set your own name so parallel
  runs don't collide) on the server of `$TEST_DATABASE_URL`
  (default `postgresql+psycopg://postgres@127.0.0.1:5432/postgres`), dropped and recreated.
  Fails (never skips) with a message naming PostgreSQL when the server is unreachable.
- `db_engine`: parametrized over ["sqlite", "postgresql"] — any test using it (directly or via
  `session` / `client`) runs twice.

Per test:
- `session`: a Session inside an outer transaction that is rolled back after the test;
  `session.commit()` in services only releases a SAVEPOINT (join_transaction_mode="create_savepoint").
- `client`: FastAPI TestClient whose `get_session` dependency runs the production write unit
  (`unit_of_work`) over that same `session`: commit (= release the savepoint) + after-commit events, or
  rollback on an error, exactly as in production.
- `service_headers`: {"Authorization": "Bearer <CRM_SERVICE_TOKEN>"}.
- `fresh_engine_factory`: for tests that need REAL commits from several threads/processes
  (concurrency): `fresh_engine_factory(kind)` returns an engine on a brand-new migrated database
  (`kind` is "sqlite" or "postgresql"); reference data + named customers are loaded.
- `demo_now`: the datetime the demo data of the session databases is relative to.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import datetime
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from crm_backend.core.config import get_settings
from crm_backend.core.db import get_session, unit_of_work, utcnow
from crm_backend.main import create_app
from crm_backend.subscriptions import subscribe_all
from testing.crm_seeding import seeded_engine
from testing.services import ServiceDown, fresh_database_url

DB_KINDS = ["sqlite", "postgresql"]
TEST_PG_DB = os.environ.get("KEFU_TEST_PG_DB", "kefu_test")


def _recreate_pg_database(name: str) -> str:
    try:
        return fresh_database_url(name)
    except ServiceDown as error:
        pytest.fail(str(error), pytrace=False)


@pytest.fixture(scope="session")
def demo_now() -> datetime:
    return utcnow()


@pytest.fixture(scope="session")
def sqlite_engine(tmp_path_factory: pytest.TempPathFactory, demo_now: datetime) -> Iterator[Engine]:
    path = tmp_path_factory.mktemp("sqlite") / "kefu_test.db"
    engine = seeded_engine(f"sqlite:///{path}", now=demo_now)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def pg_engine(demo_now: datetime) -> Iterator[Engine]:
    engine = seeded_engine(_recreate_pg_database(TEST_PG_DB), now=demo_now)
    yield engine
    engine.dispose()


@pytest.fixture(params=DB_KINDS)
def db_engine(request: pytest.FixtureRequest) -> Engine:
    return request.getfixturevalue("sqlite_engine" if request.param == "sqlite" else "pg_engine")


@pytest.fixture
def session(db_engine: Engine) -> Iterator[Session]:
    connection = db_engine.connect()
    outer = connection.begin()
    db_session = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    try:
        yield db_session
    finally:
        db_session.close()
        if outer.is_active:
            outer.rollback()
        connection.close()


@pytest.fixture(scope="session", autouse=True)
def subscriptions() -> None:
    """The after-commit subscriptions main.create_app wires, also for tests that call services directly."""
    subscribe_all()


@pytest.fixture(scope="session")
def app() -> FastAPI:
    # No handoff poller: the test app has no Rasa (tests that want one start their own).
    return create_app(get_settings().model_copy(update={"kefu_handoff_timer": False, "kefu_event_stream": "off",
                                                            "playbook_schedule_seconds": 0}))


@pytest.fixture
def client(app: FastAPI, session: Session) -> Iterator[TestClient]:
    async def request_unit() -> AsyncIterator[Session]:
        async with unit_of_work(session):
            yield session

    app.dependency_overrides[get_session] = request_unit
    try:
        with TestClient(app, raise_server_exceptions=False) as test_client:
            yield test_client
    finally:
        app.dependency_overrides.pop(get_session, None)


@pytest.fixture
def service_headers() -> dict[str, str]:
    return {"Authorization": f"Bearer {get_settings().crm_service_token}"}


@pytest.fixture
def fresh_engine_factory(tmp_path: Path, demo_now: datetime) -> Iterator[Callable[[str], Engine]]:
    engines: list[Engine] = []

    def factory(kind: str) -> Engine:
        if kind == "sqlite":
            url = f"sqlite:///{tmp_path / f'fresh{len(engines)}.db'}"
        else:
            url = _recreate_pg_database(f"{TEST_PG_DB}_fresh")
        engine = seeded_engine(url, now=demo_now)
        engines.append(engine)
        return engine

    yield factory
    for engine in engines:
        engine.dispose()
