"""Start real CRM processes on one PostgreSQL database + one Redis (two-process test and bench)."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from testing.crm_seeding import seeded_engine
from testing.services import fresh_database_url

ROOT = Path(__file__).resolve().parents[1]


def fresh_pg(name: str) -> str:
    """A new, migrated PostgreSQL database `name` with reference data and the named demo customers."""
    url = fresh_database_url(name)
    seeded_engine(url).dispose()
    return url


@contextmanager
def crm_processes(ports: tuple[int, ...], database: str, redis: str, token: str, logs: Path,
                  **extra_env: str) -> Iterator[list[str]]:
    """uvicorn processes of the CRM on `ports`, sharing `database` and `redis`; stopped on exit.

    The retry timer and the event-stream consumer are off unless `extra_env` switches them on.
    """
    env = {**os.environ, "DATABASE_URL": database, "REDIS_URL": redis, "CRM_SERVICE_TOKEN": token,
           "RASA_URL": "http://127.0.0.1:18049", "KEFU_HANDOFF_TIMER": "0", "KEFU_EVENT_STREAM": "off",
           "PYTHONPATH": str(ROOT), **extra_env}
    logs.mkdir(parents=True, exist_ok=True)
    processes = [subprocess.Popen([str(ROOT / ".venvs/crm/bin/python"), "-m", "uvicorn", "crm_backend.main:app",
                                   "--host", "127.0.0.1", "--port", str(port)], cwd=ROOT, env=env,
                                  stdout=(logs / f"{port}.log").open("wb"), stderr=subprocess.STDOUT)
                 for port in ports]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        deadline = time.monotonic() + 60
        for url, port, process in zip(urls, ports, processes, strict=True):
            while True:
                if process.poll() is not None:
                    raise RuntimeError((logs / f"{port}.log").read_text())
                try:
                    if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{url} did not start: {(logs / f'{port}.log').read_text()}")
                time.sleep(0.3)
        yield urls
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
