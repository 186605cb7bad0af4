"""The CRM's background jobs, started and stopped by main.py's lifespan (settings in core/config.py).

- maintenance (a daemon thread, every `maintenance_interval_seconds`): points expiry and the tier
  review; the first run waits `maintenance_initial_delay_seconds`, so short-lived processes (CLI,
  tests) never touch the database from here;
- the handoff poller (an asyncio task, every `kefu_handoff_poll_seconds`, off with
  `KEFU_HANDOFF_POLLER=0`): kept bot triggers are retried, then one handoff round (`handoff/live.py`).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from contextlib import suppress

from crm_backend.campaign import service as campaign_service
from crm_backend.core.bus import get_bus, set_bus
from crm_backend.core.config import Settings
from crm_backend.core.db import get_sessionmaker, write_unit
from crm_backend.handoff import live
from crm_backend.points.service import expire_all
from crm_backend.tier.service import review_all

log = logging.getLogger(__name__)


def run_maintenance() -> tuple[int, int]:
    """Expire old points and review tiers once; returns (points expired, tier changes)."""
    with write_unit() as session:
        expired = expire_all(session)
    with write_unit() as session:
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
                expired, changed = run_maintenance()
                log.info("maintenance: %s points expired, %s tier changes", expired, changed)
            except Exception:  # logged; retried next interval
                log.exception("maintenance run failed")
            delay = self.interval


async def poll_round() -> None:
    """Retry the kept bot triggers that are due, then one round of the handoff duties."""
    rasa = live.rasa_client()
    session = get_sessionmaker()()
    try:
        retried = await campaign_service.retry_due(session, rasa=rasa)
        if retried.sent or retried.failed or retried.abandoned:
            log.info("kept bot triggers: %s sent, %s still failing, %s abandoned", retried.sent, retried.failed,
                     retried.abandoned)
        await live.poll_once(session, rasa)
    finally:
        await asyncio.to_thread(session.close)


async def run_poller(interval: float) -> None:
    while True:
        try:
            await poll_round()
        except asyncio.CancelledError:
            raise
        except Exception:  # the poller must survive a bad round (DB restart, bad data)
            log.exception("handoff poller round failed")
        await asyncio.sleep(interval)


class Jobs:
    """The jobs `settings` switch on; `start()` in the lifespan's start-up, `stop()` at shutdown."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.maintenance: MaintenanceThread | None = None
        self.poller: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self.settings.maintenance_interval_seconds > 0:
            self.maintenance = MaintenanceThread(self.settings.maintenance_interval_seconds,
                                                 self.settings.maintenance_initial_delay_seconds)
            self.maintenance.start()
        if self.settings.kefu_handoff_poller:
            self.poller = asyncio.create_task(run_poller(self.settings.kefu_handoff_poll_seconds))

    async def stop(self) -> None:
        if self.poller is not None:
            self.poller.cancel()
            with suppress(asyncio.CancelledError):
                await self.poller
        if self.maintenance is not None:
            self.maintenance.stop()
        await get_bus().close()
        set_bus(None)
