"""Real services for the tests and benchmarks of both environments: fresh PostgreSQL databases and Redis
databases on the servers named by TEST_DATABASE_URL / TEST_REDIS_URL, and a free-port probe.

Whatever a process creates here is removed when it exits, passed or failed: its PostgreSQL databases are
dropped and its Redis databases emptied. Each database name is also written to $KEFU_TEST_LEDGER (set by
`./kefu test`), whose last stage fails if one of them is still on the server.

Standard library at import time; psycopg and redis are imported when used, so the bot venv (no psycopg)
can import `port_is_free` too.
"""

from __future__ import annotations

import atexit
import os
import urllib.parse

from scripts.kefu_cli.services import port_free

DEFAULT_DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"

_databases: list[str] = []
_redis_urls: list[str] = []


class ServiceDown(RuntimeError):
    """PostgreSQL or Redis is not reachable; the message names the service and its URL."""


def port_is_free(port: int) -> bool:
    """True when nothing listens on 127.0.0.1:`port` (the probe `./kefu run` uses)."""
    return port_free(port)


def namespaced(name: str) -> str:
    """`name` with the suffix of KEFU_TEST_NAMESPACE, so that two checkouts can test side by side."""
    suffix = os.environ.get("KEFU_TEST_NAMESPACE", "")
    return f"{name}_{suffix}" if suffix else name


def _admin_url() -> str:
    base = os.environ.get("TEST_DATABASE_URL", DEFAULT_DATABASE_URL)
    return urllib.parse.urlunsplit(urllib.parse.urlsplit(base)._replace(scheme="postgresql"))


def _cleanup() -> None:
    """Drop this process's databases and empty its Redis databases (registered with atexit)."""
    if _databases:
        import psycopg

        try:
            with psycopg.connect(_admin_url(), autocommit=True, connect_timeout=5) as conn:
                for name in _databases:
                    conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        except psycopg.Error as error:
            print(f"tests.services: could not drop {', '.join(_databases)}: {error}")
    if _redis_urls:
        import redis

        for url in _redis_urls:
            try:
                redis.Redis.from_url(url, socket_timeout=5).flushdb()
            except redis.RedisError as error:
                print(f"tests.services: could not empty {url}: {error}")


def _register(databases: list[str] | None = None, redis_urls: list[str] | None = None) -> None:
    if not _databases and not _redis_urls:
        atexit.register(_cleanup)
    for name in databases or []:
        if name not in _databases:
            _databases.append(name)
            ledger = os.environ.get("KEFU_TEST_LEDGER")
            if ledger:
                with open(ledger, "a", encoding="utf-8") as out:
                    out.write(name + "\n")
    for url in redis_urls or []:
        if url not in _redis_urls:
            _redis_urls.append(url)


def track_database(name: str) -> str:
    """Drop the database `name` (already namespaced) when this process exits; returns its URL.

    For a database that something else creates, e.g. `./kefu run` creating a missing database.
    """
    _register(databases=[name])
    base = os.environ.get("TEST_DATABASE_URL", DEFAULT_DATABASE_URL)
    return urllib.parse.urlunsplit(urllib.parse.urlsplit(base)._replace(path=f"/{name}"))


def drop_database(name: str) -> None:
    """Drop the database `name` (already namespaced) if it exists, e.g. to start a test from none."""
    import psycopg

    with psycopg.connect(_admin_url(), autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def database_exists(name: str) -> bool:
    import psycopg

    with psycopg.connect(_admin_url(), autocommit=True, connect_timeout=5) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is not None


def fresh_database_url(name: str) -> str:
    """A new, empty PostgreSQL database `name` (dropped first, and again at exit) on TEST_DATABASE_URL's server."""
    import psycopg

    name = namespaced(name)
    base = os.environ.get("TEST_DATABASE_URL", DEFAULT_DATABASE_URL)
    try:
        with psycopg.connect(_admin_url(), autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as error:
        raise ServiceDown(f"PostgreSQL is not reachable at {base} (set TEST_DATABASE_URL): {error}") from error
    return track_database(name)


def fresh_redis_url(db: int) -> str:
    """Redis database `db` on the server of TEST_REDIS_URL, emptied first and again at exit."""
    import redis

    base = os.environ.get("TEST_REDIS_URL", DEFAULT_REDIS_URL)
    url = urllib.parse.urlunsplit(urllib.parse.urlsplit(base)._replace(path=f"/{db}"))
    try:
        redis.Redis.from_url(url, socket_timeout=5).flushdb()
    except redis.RedisError as error:
        raise ServiceDown(f"Redis is not reachable at {base} (set TEST_REDIS_URL): {error}") from error
    _register(redis_urls=[url])
    return url
