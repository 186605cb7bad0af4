"""Simultaneous claims with real commits from several threads: exactly one agent wins (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from crm_backend.agent.models import Agent
from crm_backend.core.db import begin_write
from crm_backend.handoff import assignment, errors, service
from crm_backend.handoff.models import Handoff


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_exactly_one_of_many_simultaneous_claims_wins(kind: str, fresh_engine_factory: Callable[[str], Engine]
                                                      ) -> None:
    engine = fresh_engine_factory(kind)
    with Session(engine) as session:
        agents = list(session.scalars(select(Agent).order_by(Agent.id)))
        ids = [a.id for a in agents]
        results: dict[int, list[str]] = {}
        for round_ in range(5):
            created = service.create_handoff(session, conversation_id=f"race-{round_}", channel="rest",
                                             customer_id=None, reason="", reason_code="", priority="normal",
                                             transcript=[], language="en")
            session.commit()
            results[created.handoff.id] = []
    barrier = threading.Barrier(len(ids) * 2)
    lock = threading.Lock()

    def contender(agent_id: int, handoff_id: int) -> None:
        with Session(engine) as own:
            barrier.wait(timeout=30)
            begin_write(own)  # like every write route: SQLite queues writers, PostgreSQL races rows
            agent = own.get(Agent, agent_id)
            assert agent is not None
            try:
                assignment.claim(own, handoff_id=handoff_id, agent=agent)
                own.commit()
                outcome = f"won:{agent_id}"
            except errors.AlreadyClaimed:
                own.rollback()
                outcome = "lost"
        with lock:
            results[handoff_id].append(outcome)

    for handoff_id in results:
        threads = [threading.Thread(target=contender, args=(agent_id, handoff_id))
                   for agent_id in ids for _ in range(2)]
        barrier.reset()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    with Session(engine) as session:
        for handoff_id, outcomes in results.items():
            winners = [o for o in outcomes if o.startswith("won")]
            assert len(outcomes) == len(ids) * 2
            assert len(winners) == 1, outcomes
            handoff = session.get(Handoff, handoff_id)
            assert handoff is not None and f"won:{handoff.assigned_agent_id}" == winners[0]
