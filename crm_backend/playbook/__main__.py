"""`python -m crm_backend.playbook run-due`: start every enabled playbook whose occurrence for today has not
started, and queue its deliveries. The CRM's own timer does this every PLAYBOOK_SCHEDULE_SECONDS; the command
is for a deployment that switches the timer off (cron) and for operators. Reruns add nobody twice."""

from __future__ import annotations

import argparse

from crm_backend.core.config import get_settings
from crm_backend.core.db import get_sessionmaker
from crm_backend.playbook.queue import get_queue
from crm_backend.playbook.scheduler import run_due


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m crm_backend.playbook")
    parser.add_argument("command", choices=["run-due"])
    parser.parse_args()
    queue = get_queue()
    queued = run_due(get_sessionmaker(), queue, event_catchup_days=get_settings().playbook_event_catchup_days)
    if queue.embedded:
        queue.join(timeout_seconds=3600)  # no separate worker in embedded mode: finish before exiting
    queue.close()
    print(", ".join(f"{key}: {n}" for key, n in queued.items()) or "nothing due")


if __name__ == "__main__":
    main()
