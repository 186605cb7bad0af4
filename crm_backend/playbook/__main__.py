"""`python -m crm_backend.playbook run-due`: start every enabled playbook whose occurrence for today has not
started, and queue its deliveries (call it daily or more often, e.g. from cron; reruns add nobody twice)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session

from crm_backend.core.db import get_sessionmaker
from crm_backend.playbook import service
from crm_backend.playbook.queue import Queue, get_queue


def run_due(sessions: Callable[[], Session], queue: Queue, *, now: datetime | None = None) -> dict[str, int]:
    """{playbook key: deliveries queued} for the playbooks started now."""
    queued: dict[str, int] = {}
    with sessions() as session:
        service.ensure_defaults(session)
        session.commit()
        for playbook in service.due_playbooks(session, now=now):
            started = service.start_run(session, playbook_id=playbook.id, now=now)
            session.commit()
            queued[playbook.key] = queue.enqueue(started.to_send, now=now)
    return queued


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m crm_backend.playbook")
    parser.add_argument("command", choices=["run-due"])
    parser.parse_args()
    queue = get_queue()
    queued = run_due(get_sessionmaker(), queue)
    if queue.embedded:
        queue.join(timeout_seconds=3600)  # no separate worker in embedded mode: finish before exiting
    queue.close()
    print(", ".join(f"{key}: {n}" for key, n in queued.items()) or "nothing due")


if __name__ == "__main__":
    main()
