"""Start real CRM processes on one PostgreSQL database + one Redis (two-process test and bench)."""

from __future__ import annotations

import os
import subprocess
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from sqlalchemy.orm import Session

from crm_backend.cli import migrate
from crm_backend.core.db import make_engine
from crm_backend.demo.generator import generate

ROOT = Path(__file__).resolve().parents[3]


class ServiceDown(RuntimeError):
    """PostgreSQL or Redis is not reachable."""


def fresh_pg(name: str) -> str:
    """A new, migrated PostgreSQL database `name` with reference data and the named demo customers."""
    import psycopg

    base = os.environ.get("TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    parts = urllib.parse.urlsplit(base)
    try:
        with psycopg.connect(urllib.parse.urlunsplit(parts._replace(scheme="postgresql")), autocommit=True,
                             connect_timeout=5) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as error:
        raise ServiceDown(f"PostgreSQL is not reachable at {base}: {error}") from error
    url = urllib.parse.urlunsplit(parts._replace(path=f"/{name}"))
    migrate(url)
    engine = make_engine(url)
    with Session(engine) as session:
        generate(session, generated=0, hash_rounds=4)
        session.commit()
    engine.dispose()
    return url


def fresh_redis(db: int) -> str:
    import redis

    base = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    url = urllib.parse.urlunsplit(urllib.parse.urlsplit(base)._replace(path=f"/{db}"))
    try:
        redis.Redis.from_url(url, socket_timeout=3).flushdb()
    except redis.RedisError as error:
        raise ServiceDown(f"Redis is not reachable at {base}: {error}") from error
    return url


@contextmanager
def crm_processes(ports: tuple[int, ...], database: str, redis: str, token: str, logs: Path
                  ) -> Iterator[list[str]]:
    """uvicorn processes of the CRM on `ports`, sharing `database` and `redis`; stopped on exit."""
    env = {**os.environ, "DATABASE_URL": database, "REDIS_URL": redis, "CRM_SERVICE_TOKEN": token,
           "RASA_URL": "http://127.0.0.1:18049", "KEFU_HANDOFF_POLLER": "0", "PYTHONPATH": str(ROOT)}
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
