"""Engine, sessions and the declarative base.

SQLite gets WAL, a busy timeout and foreign keys; its driver is switched to manual
transaction control so that SAVEPOINTs (tests) and `BEGIN IMMEDIATE` (writes that must
serialize, see `begin_write`) behave like on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends
from sqlalchemy import DateTime, Engine, MetaData, create_engine, event
from sqlalchemy.engine import Connection
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator
from starlette.concurrency import run_in_threadpool

from crm_backend.core import events
from crm_backend.core.config import get_settings

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

IMMEDIATE = "kefu_sqlite_immediate"
WRITING = "kefu_writing"  # session.info flag: the open transaction began as a writer


class Base(DeclarativeBase):
    """Declarative base for every CRM model."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    """Current time, timezone-aware UTC."""
    return datetime.now(UTC)


def as_utc(moment: datetime | None) -> datetime | None:
    """`moment` as an aware UTC datetime; a naive one (SQLite, raw SQL) is taken to be UTC."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that is always returned timezone-aware UTC (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(UTC)
        # SQLite stores text; keep it naive UTC so string comparison orders correctly.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return as_utc(value)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get(IMMEDIATE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine for `url` with the per-dialect settings the CRM relies on."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        kwargs.setdefault("connect_args", {"timeout": 30, "check_same_thread": False})
        kwargs.setdefault("pool_size", 20)
        kwargs.setdefault("max_overflow", 20)
        engine = create_engine(url, **kwargs)
        _configure_sqlite(engine)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    return create_engine(url, **kwargs)


@lru_cache
def get_engine() -> Engine:
    """The process-wide engine for settings.database_url (created on first use)."""
    return make_engine(get_settings().database_url)


@lru_cache
def get_sessionmaker() -> sessionmaker[Session]:
    return sessionmaker(bind=get_engine(), expire_on_commit=False)


def finish(session: Session, *, failed: bool) -> None:
    """End a write unit: roll back on failure, else commit and deliver the after-commit events."""
    if failed:
        session.rollback()
        events.discard(session)
        return
    try:
        session.commit()
    except BaseException:
        session.rollback()
        events.discard(session)
        raise
    events.dispatch(session)


@asynccontextmanager
async def unit_of_work(session: Session) -> AsyncIterator[Session]:
    """The request's write unit: commit (then after-commit events) or roll back, whatever the response.

    A 4xx raised as a domain error rolls back, so a SQLite `BEGIN IMMEDIATE` never outlives its
    request; an error whose class sets `keep_writes` (a failed login's audit row) commits instead.
    Commit and rollback run in the threadpool: no database call blocks the event loop.
    """
    try:
        yield session
    except BaseException as error:
        await run_in_threadpool(finish, session, failed=not getattr(error, "keep_writes", False))
        raise
    await run_in_threadpool(finish, session, failed=False)
    await events.announce(session)


async def get_session() -> AsyncIterator[Session]:
    """FastAPI dependency (function scope, `SessionDep` below): one session and one write unit per request."""
    session = get_sessionmaker()()
    try:
        async with unit_of_work(session):
            yield session
    finally:
        await run_in_threadpool(session.close)


@contextmanager
def committed(session: Session) -> Iterator[Session]:
    """Make the block a write unit on `session`: commit (then after-commit events) or roll back."""
    try:
        yield session
    except BaseException:
        finish(session, failed=True)
        raise
    finish(session, failed=False)


@contextmanager
def write_unit() -> Iterator[Session]:
    """A unit of work outside a request (jobs, CLI): its own session, committed or rolled back, closed."""
    with get_sessionmaker()() as session, committed(session):
        yield session


def begin_write(session: Session) -> None:
    """Make the session's transaction a writer's before its first write.

    On SQLite this issues `BEGIN IMMEDIATE`, so a read-modify-write sequence waits for the lock
    instead of failing on a stale snapshot ("database is locked" when a read transaction later
    writes); on PostgreSQL row locks (`SELECT … FOR UPDATE`) do the work. A read-only transaction
    already open (the auth lookups of the request) is ended first; a second call in the same
    transaction is a no-op.
    """
    if session.in_transaction():
        if session.info.get(WRITING):
            return
        session.commit()
    session.connection(execution_options={IMMEDIATE: True})
    session.info[WRITING] = True


@event.listens_for(Session, "after_transaction_end")
def _writer_done(session: Session, transaction: Any) -> None:
    if transaction.parent is None:
        session.info.pop(WRITING, None)


# Function scope: the unit ends (commit or rollback) before the response is sent, so a client never
# reads an answer whose write is not yet committed.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
