"""Real services for the tests and benchmarks of both environments: fresh PostgreSQL databases and Redis
databases on the servers named by TEST_DATABASE_URL / TEST_REDIS_URL, and a free-port probe.

Standard library at import time; psycopg and redis are imported when used, so the bot venv (no psycopg)
can import `port_is_free` too.
"""

from __future__ import annotations

import os
import urllib.parse

DEFAULT_DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


class ServiceDown(RuntimeError):
    """PostgreSQL or Redis is not reachable; the message names the service and its URL."""


def port_is_free(port: int) -> bool:
    """True when nothing listens on 127.0.0.1:`port` (the probe `./kefu run` uses)."""
    from scripts.kefu_cli.services import port_free

    return port_free(port)


def namespaced(name: str) -> str:
    """`name` with the suffix of KEFU_TEST_NAMESPACE, so that two checkouts can test side by side."""
    suffix = os.environ.get("KEFU_TEST_NAMESPACE", "")
    return f"{name}_{suffix}" if suffix else name


def fresh_database_url(name: str) -> str:
    """A new, empty PostgreSQL database `name` (dropped first) on the server of TEST_DATABASE_URL."""
    import psycopg

    name = namespaced(name)

    base = os.environ.get("TEST_DATABASE_URL", DEFAULT_DATABASE_URL)
    parts = urllib.parse.urlsplit(base)
    admin = urllib.parse.urlunsplit(parts._replace(scheme="postgresql"))
    try:
        with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as error:
        raise ServiceDown(f"PostgreSQL is not reachable at {base} (set TEST_DATABASE_URL): {error}") from error
    return urllib.parse.urlunsplit(parts._replace(path=f"/{name}"))


def fresh_redis_url(db: int) -> str:
    """Redis database `db` on the server of TEST_REDIS_URL, emptied first."""
    import redis

    base = os.environ.get("TEST_REDIS_URL", DEFAULT_REDIS_URL)
    url = urllib.parse.urlunsplit(urllib.parse.urlsplit(base)._replace(path=f"/{db}"))
    try:
        redis.Redis.from_url(url, socket_timeout=5).flushdb()
    except redis.RedisError as error:
        raise ServiceDown(f"Redis is not reachable at {base} (set TEST_REDIS_URL): {error}") from error
    return url
