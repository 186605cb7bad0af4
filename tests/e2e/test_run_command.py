"""`./kefu run` on embedded defaults, and every fault it must report in one line without leaving children."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.parse
from pathlib import Path

import psycopg
import pytest

from scripts.kefu_cli.config import dev_secrets
from testing.services import (
    DEFAULT_DATABASE_URL,
    database_exists,
    drop_database,
    namespaced,
    port_is_free,
    track_database,
)
from tests.e2e.stack import ROOT, Stack, stack_env, text_of

PORTS = (18020, 18021, 18022)


def run_kefu(env: dict[str, str], timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["./kefu", "run"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


def assert_one_line_error(result: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert result.returncode != 0, result.stdout + result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("kefu: error:")]
    assert len(errors) == 1, result.stderr
    for needle in needles:
        assert needle in errors[0], errors[0]
    assert all(port_is_free(p) for p in PORTS), "a half-started child is still listening"


def test_missing_python310(tmp_path: Path) -> None:
    env = stack_env(tmp_path, *PORTS, PATH="/usr/bin:/bin", PYENV_ROOT=str(tmp_path / "no-pyenv"),
                    HOME=str(tmp_path), KEFU_CACHE=os.environ.get("KEFU_CACHE", str(Path.home() / ".cache/kefu")))
    result = run_kefu(env, timeout=60)
    assert_one_line_error(result, "python3.10 not found", "KEFU_PYTHON310")


def test_port_already_in_use(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", PORTS[2]))
        busy.listen()
        result = run_kefu(stack_env(tmp_path, *PORTS), timeout=60)
    assert_one_line_error(result, f"port {PORTS[2]} is already in use", "RASA_PORT")


def server_url(user: str, database: str) -> str:
    """A URL on TEST_DATABASE_URL's PostgreSQL server with another login and database."""
    parts = urllib.parse.urlsplit(os.environ.get("TEST_DATABASE_URL", DEFAULT_DATABASE_URL))
    netloc = f"{user}@{parts.hostname}:{parts.port or 5432}"
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc, path=f"/{database}"))


def test_database_server_unreachable(tmp_path: Path) -> None:
    env = stack_env(tmp_path, *PORTS, DATABASE_URL="postgresql+psycopg://postgres@127.0.0.1:1/kefu")
    result = run_kefu(env, timeout=120)
    assert_one_line_error(result, "cannot reach the PostgreSQL server at 127.0.0.1:1", "start PostgreSQL",
                          "DATABASE_URL")


def test_database_login_refused(tmp_path: Path) -> None:
    role = namespaced("kefu_no_such_role")
    env = stack_env(tmp_path, *PORTS, DATABASE_URL=server_url(role, "postgres"))
    result = run_kefu(env, timeout=120)
    assert_one_line_error(result, f"refused the login of {role}", "DATABASE_URL", "createuser")


def test_missing_database_is_created_with_a_line_saying_so(tmp_path: Path) -> None:
    name = namespaced("kefu_e2e_created")
    drop_database(name)
    url = track_database(name)
    # A dead Redis stops the run right after the database check, so this test starts no server.
    env = stack_env(tmp_path, *PORTS, DATABASE_URL=url, REDIS_URL="redis://127.0.0.1:1/0")
    result = run_kefu(env, timeout=120)
    assert f"kefu: database '{name}' did not exist on" in result.stdout and "created it" in result.stdout
    assert database_exists(name)
    assert_one_line_error(result, "cannot reach Redis at 127.0.0.1:1", "REDIS_URL")


def test_missing_database_the_login_may_not_create(tmp_path: Path) -> None:
    role, name = namespaced("kefu_e2e_nocreatedb"), namespaced("kefu_e2e_not_created")
    drop_database(name)
    track_database(name)
    admin_url = os.environ.get("TEST_DATABASE_URL", DEFAULT_DATABASE_URL).replace("+psycopg", "")
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'DROP ROLE IF EXISTS "{role}"')
        admin.execute(f'CREATE ROLE "{role}" LOGIN NOCREATEDB')
        try:
            result = run_kefu(stack_env(tmp_path, *PORTS, DATABASE_URL=server_url(role, name)), timeout=120)
        finally:
            admin.execute(f'DROP ROLE "{role}"')
    assert_one_line_error(result, f"database '{name}' does not exist", f"{role} may not create it", "createdb")
    assert not database_exists(name)


def test_redis_unreachable(tmp_path: Path) -> None:
    env = stack_env(tmp_path, *PORTS, REDIS_URL="redis://127.0.0.1:1/0")
    result = run_kefu(env, timeout=120)
    assert_one_line_error(result, "cannot reach Redis at 127.0.0.1:1", "start Redis", "REDIS_URL")


def test_model_that_fails_to_train(tmp_path: Path) -> None:
    broken = tmp_path / "config.yml"
    broken.write_text((ROOT / "config.yml").read_text() + "\n  - name: NoSuchComponentAnywhere\n")
    env = stack_env(tmp_path, *PORTS, KEFU_RASA_CONFIG=str(broken))
    result = run_kefu(env, timeout=300)
    assert_one_line_error(result, "model training failed", "train.log")


def test_production_mode_refuses_placeholder_secrets(tmp_path: Path) -> None:
    env = stack_env(tmp_path, *PORTS, KEFU_ENV="production", RASA_AUTH_TOKEN=dev_secrets()["RASA_AUTH_TOKEN"])
    result = run_kefu(env, timeout=60)
    assert_one_line_error(result, "RASA_AUTH_TOKEN")


def test_embedded_stack_chats_then_a_crashed_child_stops_everything(tmp_path: Path) -> None:
    """Embedded defaults (SQLite, in-memory stores): a conversation works; a killed child ends the run."""
    env = stack_env(tmp_path, *PORTS, DATABASE_URL=f"sqlite:///{tmp_path / 'kefu.db'}")
    stack = Stack(*PORTS, var_dir=tmp_path, env=env).start()
    try:
        assert "SQLite" in stack.text() and "in-memory" in stack.text()
        for url in ("/demo", "/console", "/docs"):
            assert f"{stack.crm_url}{url}" in stack.text(), f"the banner must print {url}"
        assert text_of(stack.chat("embedded-user", "hello")), "the embedded stack must answer"
        others = [stack.child_pid("crm"), stack.child_pid("rasa")]
        os.kill(stack.child_pid("actions"), signal.SIGKILL)
        assert stack.process is not None
        code = stack.process.wait(timeout=60)
        assert code != 0
        errors = [line for line in stack.text().splitlines() if line.startswith("kefu: error:")]
        assert len(errors) == 1 and "action server exited unexpectedly" in errors[0], stack.tail()
        time.sleep(1)
        for pid in others:
            with pytest.raises(ProcessLookupError):
                os.kill(pid, 0)
        assert all(port_is_free(p) for p in PORTS)
    finally:
        if stack.process and stack.process.poll() is None:
            stack.interrupt()
