"""Periodic ledger upkeep inside the CRM process: points expiry (every interval) and the tier review.

Runs in a daemon thread so it never blocks requests; the first run waits one interval's
`initial_delay` so short-lived processes (tests, CLI) never touch the database from here.
"""

from __future__ import annotations

import logging
import threading

from crm_backend.core.db import get_sessionmaker
from kefu_ops.metrics import worker_round

log = logging.getLogger(__name__)


def run_once() -> tuple[int, int]:
    """Expire old points and review tiers once; returns (points expired, tier changes)."""
    from crm_backend.points.service import expire_all
    from crm_backend.tier.service import review_all

    with get_sessionmaker()() as session:
        expired = expire_all(session)
    with get_sessionmaker()() as session:
        changed = review_all(session)
    return expired, changed


class MaintenanceThread:
    def __init__(self, interval_seconds: float, initial_delay: float) -> None:
        self.interval, self.initial_delay = interval_seconds, initial_delay
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._loop, name="crm-maintenance", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stop_event.set()
        self.thread.join(timeout=5)

    def _loop(self) -> None:
        delay = self.initial_delay
        while not self.stop_event.wait(delay):
            try:
                expired, changed = run_once()
                worker_round("maintenance", ok=True)
                log.info("maintenance: %s points expired, %s tier changes", expired, changed)
            except Exception:  # logged; retried next interval
                worker_round("maintenance", ok=False)
                log.exception("maintenance run failed")
            delay = self.interval
