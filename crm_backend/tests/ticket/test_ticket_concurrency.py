"""Real threads, real commits: retried ticket creation, concurrent first scores, concurrent upserts."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from crm_backend.api.routes.tickets import open_ticket_once
from crm_backend.core.db import committed
from crm_backend.interaction import service as interaction_service
from crm_backend.interaction.models import Interaction
from crm_backend.interaction.schemas import InteractionUpsert
from crm_backend.scoring.models import CustomerScore
from crm_backend.ticket.models import Ticket
from crm_backend.ticket.schemas import TicketCreate, TicketCreated

THREADS = 12
BODY = TicketCreate(customer_id=4, severity="medium", channel="web", description="快递还没到，帮我查一下",
                    kind="complaint")


def run_concurrently(engine: Engine, call: Callable[[Session, int], Any]) -> list[Any]:
    barrier = threading.Barrier(THREADS)

    def worker(index: int) -> Any:
        barrier.wait()
        with Session(engine, expire_on_commit=False) as session:
            return call(session, index)

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        return list(pool.map(worker, range(THREADS)))


def create(session: Session, key: str) -> TicketCreated:
    with committed(session):  # the request's write unit: commit, then the after-commit rescoring
        return open_ticket_once(session, body=BODY, key=key)


def count(engine: Engine, model: type, *where: Any) -> int:
    with Session(engine) as session:
        return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_same_key_from_many_threads_creates_one_ticket(fresh_engine_factory: Callable[[str], Engine],
                                                       kind: str) -> None:
    engine = fresh_engine_factory(kind)
    results = run_concurrently(engine, lambda s, i: create(s, "same"))
    assert len({created.ticket_no for created in results}) == 1
    assert count(engine, Ticket) == 1
    assert count(engine, CustomerScore, CustomerScore.customer_id == 4) == 1


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_distinct_tickets_and_first_score_in_parallel(fresh_engine_factory: Callable[[str], Engine],
                                                      kind: str) -> None:
    engine = fresh_engine_factory(kind)
    results = run_concurrently(engine, lambda s, i: create(s, f"k{i}"))
    assert len({created.ticket_no for created in results}) == THREADS
    assert count(engine, Ticket) == THREADS
    assert count(engine, CustomerScore, CustomerScore.customer_id == 4) == 1


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_concurrent_interaction_upserts_keep_one_row(fresh_engine_factory: Callable[[str], Engine],
                                                     kind: str) -> None:
    engine = fresh_engine_factory(kind)
    def upsert(session: Session, i: int) -> tuple[int, bool]:
        with committed(session):
            return interaction_service.upsert_interaction(session, data=InteractionUpsert(
                conversation_id="race", channel="web", customer_id=3, intents=[f"i{i}"]))

    results = run_concurrently(engine, upsert)
    assert len({interaction_id for interaction_id, _ in results}) == 1
    assert sum(created for _, created in results) == 1
    assert count(engine, Interaction) == 1
