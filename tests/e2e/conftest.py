"""The `stack` fixture: the whole product started by `./kefu run` in services mode (PostgreSQL + Redis)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from testing.services import fresh_database_url, fresh_redis_url, port_is_free
from tests.e2e.stack import ARTIFACTS, Stack, stack_env

E2E_PORTS = (18010, 18011, 18012)


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """One shared stack for the session; stopping it with Ctrl-C must leave nothing running."""
    var_dir = tmp_path_factory.mktemp("stack")
    env = stack_env(var_dir, *E2E_PORTS, DATABASE_URL=fresh_database_url("kefu_e2e"), REDIS_URL=fresh_redis_url(5))
    running = Stack(*E2E_PORTS, var_dir=var_dir, env=env).start()
    yield running
    code = running.interrupt()
    assert code == 0, f"Ctrl-C should stop `./kefu run` cleanly, got exit {code}:\n{running.tail()}"
    busy = [port for port in running.ports if not port_is_free(port)]
    assert not busy, f"ports still in use after Ctrl-C: {busy}"
