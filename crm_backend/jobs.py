"""The CRM's background jobs, started and stopped by main.py's lifespan (settings in core/config.py).

- maintenance (a daemon thread, every `maintenance_interval_seconds`): points expiry and the tier
  review; the first run waits `maintenance_initial_delay_seconds`, so short-lived processes (CLI,
  tests) never touch the database from here;
- the handoff retry timer (an asyncio task, off with `KEFU_HANDOFF_TIMER=0`): kept bot triggers and
  undelivered agent replies are retried every `kefu_handoff_retry_seconds` while any wait, otherwise a
  round runs every `kefu_handoff_idle_seconds` for vanished agents (`handoff/live.py`); a failed delivery
  wakes it at once;
- the playbook scheduler (a daemon thread, every `playbook_schedule_seconds`, off with 0): starts the playbooks
  due today, claimed in the database so several CRM processes start each once (`playbook/scheduler.py`);
  its deliveries go to the task queue (Redis workers in services mode, threads in this process otherwise);
- a one-off warm-up of knowledge search (jieba's dictionary, the e5 model) in a thread, so the first
  customer question does not pay for it;
- the conversation stream consumer (a thread, `KEFU_EVENT_STREAM`: amqp, sql or off) and the transcript
  retention job (a thread, on the maintenance interval): `crm_backend/conversation/runner.py`.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from contextlib import suppress
from typing import Any

from crm_backend.campaign import service as campaign_service
from crm_backend.conversation import runner as stream
from crm_backend.core.bus import get_bus, set_bus
from crm_backend.core.config import Settings
from crm_backend.core.db import get_sessionmaker, write_unit
from crm_backend.handoff import live
from crm_backend.knowledge.search import warm_up as warm_up_knowledge
from crm_backend.playbook.queue import set_queue
from crm_backend.playbook.scheduler import PlaybookScheduler
from crm_backend.points.service import expire_all
from crm_backend.tier.service import review_all
from kefu_ops.metrics import worker_round

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
                worker_round("maintenance", ok=True)
            except Exception:  # logged; retried next interval
                log.exception("maintenance run failed")
                worker_round("maintenance", ok=False)
            delay = self.interval


async def retry_round() -> bool:
    """Retry the kept bot triggers that are due, then one round of the handoff duties.

    Returns True while something still waits for a retry.
    """
    rasa = live.rasa_client()
    session = get_sessionmaker()()
    try:
        retried = await campaign_service.retry_due(session, rasa=rasa)
        if retried.sent or retried.failed or retried.abandoned:
            log.info("kept bot triggers: %s sent, %s still failing, %s abandoned", retried.sent, retried.failed,
                     retried.abandoned)
        return await live.retry_once(session, rasa) or bool(retried.failed)
    finally:
        await asyncio.to_thread(session.close)


async def run_timer(retry_seconds: float, idle_seconds: float) -> None:
    """Rounds every `retry_seconds` while something waits, else one every `idle_seconds` (stale agents)."""
    woken = live.wake_event()
    while True:
        waiting = False
        try:
            waiting = await retry_round()
            worker_round("handoff_timer", ok=True)
        except asyncio.CancelledError:
            raise
        except Exception:  # the timer must survive a bad round (DB restart, bad data)
            log.exception("handoff retry round failed")
            worker_round("handoff_timer", ok=False)
        try:
            await asyncio.wait_for(woken.wait(), retry_seconds if waiting else idle_seconds)
            await asyncio.sleep(retry_seconds)  # a woken round retries after the usual pause, not at once
        except TimeoutError:
            pass
        woken.clear()


class Jobs:
    """The jobs `settings` switch on; `start()` in the lifespan's start-up, `stop()` at shutdown."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.maintenance: MaintenanceThread | None = None
        self.playbooks: PlaybookScheduler | None = None
        self.timer: asyncio.Task[None] | None = None
        self.threads: list[Any] = []

    def start(self) -> None:
        if self.settings.maintenance_interval_seconds > 0:
            self.maintenance = MaintenanceThread(self.settings.maintenance_interval_seconds,
                                                 self.settings.maintenance_initial_delay_seconds)
            self.maintenance.start()
        if self.settings.playbook_schedule_seconds > 0:
            self.playbooks = PlaybookScheduler(self.settings.playbook_schedule_seconds,
                                               self.settings.playbook_schedule_initial_delay_seconds,
                                               event_catchup_days=self.settings.playbook_event_catchup_days,
                                               sessions=lambda: get_sessionmaker()())
            self.playbooks.start()
        if self.settings.kefu_handoff_timer:
            self.timer = asyncio.create_task(run_timer(self.settings.kefu_handoff_retry_seconds,
                                                       self.settings.kefu_handoff_idle_seconds))
        if self.settings.event_stream != "off":
            self.threads.append(stream.make_consumer(self.settings, stream.notifier(asyncio.get_running_loop())))
            if self.settings.maintenance_interval_seconds > 0:
                self.threads.append(stream.RetentionThread(self.settings, self.settings.maintenance_interval_seconds,
                                                           self.settings.maintenance_initial_delay_seconds))
        threading.Thread(target=warm_up_knowledge, name="knowledge-warm-up", daemon=True).start()
        for thread in self.threads:
            thread.start()

    async def stop(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            with suppress(asyncio.CancelledError):
                await self.timer
        for thread in self.threads:
            await asyncio.to_thread(thread.stop)
        if self.maintenance is not None:
            self.maintenance.stop()
        if self.playbooks is not None:
            await asyncio.to_thread(self.playbooks.stop)
            await asyncio.to_thread(set_queue, None)  # stops the in-process delivery worker (embedded mode)
        await get_bus().close()
        set_bus(None)
