"""Services-mode delivery worker: `python -m crm_backend.playbook.worker` (needs REDIS_URL and DATABASE_URL)."""

from __future__ import annotations

import logging
import signal
import threading
from pathlib import Path

import dramatiq

from crm_backend.core.config import get_settings
from crm_backend.playbook.config import get_outreach_settings
from crm_backend.playbook.queue import Queue

HEARTBEAT_SECONDS = 10


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    url = (get_settings().redis_url or "").strip()
    if not url:
        raise SystemExit("REDIS_URL is not set: in embedded mode the CRM process runs the jobs itself")
    queue = Queue(url, start_worker=False)
    worker = dramatiq.Worker(queue.broker, worker_threads=get_outreach_settings().worker_threads)
    worker.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    print("playbook worker ready", flush=True)
    # A container healthcheck reads the file's age (the process has no HTTP port to probe).
    heartbeat = Path(get_outreach_settings().worker_heartbeat_file) if get_outreach_settings().worker_heartbeat_file \
        else None
    while True:
        if heartbeat is not None:
            heartbeat.touch()
        if stop.wait(HEARTBEAT_SECONDS if heartbeat is not None else None):
            break
    worker.stop()
    queue.close()


if __name__ == "__main__":
    main()
