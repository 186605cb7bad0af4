"""The write unit and its after-commit events (core/db.py `committed`, core/events.py)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from crm_backend.core import events
from crm_backend.core.db import begin_write, committed
from crm_backend.customer.models import Customer


@dataclass(frozen=True)
class Renamed:
    customer_id: int


@pytest.fixture
def engine(fresh_engine_factory) -> Engine:
    return fresh_engine_factory("sqlite")


@pytest.fixture
def seen() -> Iterator[list[int]]:
    calls: list[int] = []

    def handler(session: Session, event: Renamed) -> None:
        calls.append(event.customer_id)
        customer = session.get(Customer, event.customer_id)
        assert customer is not None
        customer.name_en = "changed by the handler"
        session.flush()
        if event.customer_id == 2:
            raise RuntimeError("a failing subscriber")

    events.subscribe(Renamed, handler)
    events.subscribe(Renamed, handler)  # idempotent: still called once
    yield calls
    events._handlers.pop(Renamed)


def _name(engine: Engine, customer_id: int) -> str | None:
    with Session(engine) as session:
        return session.scalar(select(Customer.name_en).where(Customer.id == customer_id))


def test_events_run_once_after_the_commit(engine: Engine, seen: list[int]) -> None:
    with Session(engine) as session, committed(session):
        begin_write(session)
        customer = session.get(Customer, 1)
        assert customer is not None
        customer.preferred_language = "en"
        events.emit(session, Renamed(1))
        events.emit(session, Renamed(1))
        assert seen == []  # nothing before the commit
    assert seen == [1]
    assert _name(engine, 1) == "changed by the handler"


def test_a_failing_subscriber_never_undoes_the_write(engine: Engine, seen: list[int]) -> None:
    with Session(engine) as session, committed(session):
        begin_write(session)
        customer = session.get(Customer, 2)
        assert customer is not None
        customer.email = "li.na@example.com"
        events.emit(session, Renamed(2))
    assert seen == [2]
    with Session(engine) as session:
        customer = session.get(Customer, 2)
        assert customer is not None
        assert customer.email == "li.na@example.com"  # the write stands
        assert customer.name_en != "changed by the handler"  # the handler's own change was rolled back


def test_a_rolled_back_unit_sends_no_event(engine: Engine, seen: list[int]) -> None:
    with pytest.raises(ValueError), Session(engine) as session, committed(session):
        begin_write(session)
        events.emit(session, Renamed(3))
        raise ValueError("the request failed")
    assert seen == []
    with Session(engine) as session:
        assert session.in_transaction() is False
        begin_write(session)  # the SQLite write lock was released: a new writer gets it at once
        session.rollback()
