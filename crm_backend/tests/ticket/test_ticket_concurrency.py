"""Real threads, real commits: retried ticket creation, concurrent first scores, concurrent upserts."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from crm_backend.interaction import service as interaction_service
from crm_backend.interaction.models import Interaction
from crm_backend.interaction.schemas import InteractionUpsert
from crm_backend.scoring.models import CustomerScore
from crm_backend.ticket import service
from crm_backend.ticket.models import Ticket
from crm_backend.ticket.schemas import TicketCreate

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


def count(engine: Engine, model: type, *where: Any) -> int:
    with Session(engine) as session:
        return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_same_key_from_many_threads_creates_one_ticket(fresh_engine_factory: Callable[[str], Engine],
                                                       kind: str) -> None:
    engine = fresh_engine_factory(kind)
    results = run_concurrently(engine, lambda s, i: service.create_ticket(s, data=BODY, idempotency_key="same"))
    assert {status for status, _ in results} == {201}
    assert len({body["ticket_no"] for _, body in results}) == 1
    assert count(engine, Ticket) == 1
    assert count(engine, CustomerScore, CustomerScore.customer_id == 4) == 1


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_distinct_tickets_and_first_score_in_parallel(fresh_engine_factory: Callable[[str], Engine],
                                                      kind: str) -> None:
    engine = fresh_engine_factory(kind)
    results = run_concurrently(engine, lambda s, i: service.create_ticket(s, data=BODY, idempotency_key=f"k{i}"))
    assert len({body["ticket_no"] for _, body in results}) == THREADS
    assert count(engine, Ticket) == THREADS
    assert count(engine, CustomerScore, CustomerScore.customer_id == 4) == 1


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_concurrent_interaction_upserts_keep_one_row(fresh_engine_factory: Callable[[str], Engine],
                                                     kind: str) -> None:
    engine = fresh_engine_factory(kind)
    results = run_concurrently(engine, lambda s, i: interaction_service.upsert_interaction(
        s, data=InteractionUpsert(conversation_id="race", channel="web", customer_id=3, intents=[f"i{i}"])))
    assert len({interaction_id for interaction_id, _ in results}) == 1
    assert sum(created for _, created in results) == 1
    assert count(engine, Interaction) == 1
