"""Starting due playbooks: on a timer inside every CRM process (`jobs.py`) or by hand (`python -m crm_backend.playbook
run-due`).

Several CRM processes run the same timer, so each playbook is claimed in the database before its audience is
planned: the playbook row is locked with `FOR UPDATE SKIP LOCKED` (PostgreSQL; a process that finds it locked
moves on) or the whole write is serialized by `BEGIN IMMEDIATE` (SQLite, one process), and the run is looked up
again under the lock. The unique (playbook, occurrence) run is the backstop: a loser's insert fails and is
rolled back. So each playbook starts once per occurrence (once per day for daily and event playbooks) however
many processes tick.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crm_backend.core.db import begin_write, utcnow
from crm_backend.playbook import repository, service
from crm_backend.playbook.queue import Queue, get_queue
from kefu_ops.metrics import worker_round

log = logging.getLogger(__name__)


def run_due(sessions: Callable[[], Session], queue: Queue, *, now: datetime | None = None,
            event_catchup_days: int = 0) -> dict[str, int]:
    """{playbook key: deliveries queued} for the playbooks this process started now."""
    now = now or utcnow()
    queued: dict[str, int] = {}
    with sessions() as session:
        begin_write(session)
        service.ensure_defaults(session)
        session.commit()
        for playbook_id, key in [(p.id, p.key) for p in service.due_playbooks(session, now=now)]:
            session.commit()  # each claim in its own transaction, so one lock is held at a time
            try:
                begin_write(session)
                claimed = repository.claim(session, playbook_id)
                if claimed is None or not claimed.enabled or repository.run_for(
                        session, playbook_id, service.occurrence_of(claimed, now)) is not None:
                    session.rollback()  # another process holds it or has started it
                    continue
                started = service.start_run(session, playbook_id=playbook_id, now=now,
                                            event_catchup_days=event_catchup_days)
                session.commit()
            except IntegrityError:
                session.rollback()
                continue
            queued[key] = queue.enqueue(started.to_send, now=now)
    return queued


class PlaybookScheduler:
    """A daemon thread starting due playbooks every `interval` seconds (the first tick after `initial_delay`)."""

    def __init__(self, interval_seconds: float, initial_delay: float, *, event_catchup_days: int,
                 sessions: Callable[[], Session], queue: Callable[[], Queue] = get_queue) -> None:
        self.interval, self.initial_delay = interval_seconds, initial_delay
        self.event_catchup_days = event_catchup_days
        self.sessions, self.queue = sessions, queue
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._loop, name="crm-playbooks", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stop_event.set()
        self.thread.join(timeout=5)

    def tick(self) -> dict[str, int]:
        return run_due(self.sessions, self.queue(), event_catchup_days=self.event_catchup_days)

    def _loop(self) -> None:
        delay = self.initial_delay
        while not self.stop_event.wait(delay):
            try:
                queued = self.tick()
                if queued:
                    log.info("playbooks started: %s", queued)
                worker_round("playbooks", ok=True)
            except Exception:  # logged; the next tick tries again (the claim makes that safe)
                log.exception("playbook schedule round failed")
                worker_round("playbooks", ok=False)
            delay = self.interval
