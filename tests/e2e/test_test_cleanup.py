"""What a test run creates on the shared servers is gone at the end, and `./kefu test` fails if it is not."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg
import redis

from testing.services import DEFAULT_REDIS_URL, database_exists, namespaced, track_database
from tests.e2e.stack import ROOT

PROBE_REDIS_DB = 8
FAILING_TEST = f'''
import redis

from testing.services import fresh_database_url, fresh_redis_url


def test_that_fails():
    fresh_database_url("kefu_test_cleanup_probe")
    redis.Redis.from_url(fresh_redis_url({PROBE_REDIS_DB})).set("left", "behind")
    assert False, "this test fails on purpose"
'''


def admin() -> psycopg.Connection:
    url = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    return psycopg.connect(url.replace("+psycopg", ""), autocommit=True, connect_timeout=5)


def leftovers(ledger: Path, before: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "scripts.kefu_cli.leftovers", "check", str(ledger), str(before)],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)


def test_a_failing_test_still_removes_its_database_and_redis_keys(tmp_path: Path) -> None:
    name = namespaced("kefu_test_cleanup_probe")
    track_database(name)  # in case the child cannot clean up, this process drops it
    (tmp_path / "test_fails.py").write_text(FAILING_TEST)
    ledger = tmp_path / "ledger.txt"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "KEFU_TEST_LEDGER": str(ledger)}
    done = subprocess.run([sys.executable, "-m", "pytest", str(tmp_path / "test_fails.py"), "-q", "-p",
                           "no:cacheprovider"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and "this test fails on purpose" in done.stdout, done.stdout + done.stderr
    assert ledger.read_text().split() == [name], "the database must be recorded for the final check"
    assert not database_exists(name), f"{name} is still on the server after the failed run"
    probe = DEFAULT_REDIS_URL.rsplit("/", 1)[0] + f"/{PROBE_REDIS_DB}"
    assert redis.Redis.from_url(probe).dbsize() == 0, "the Redis database was not emptied"


def test_the_final_stage_fails_on_a_database_left_behind_and_drops_it(tmp_path: Path) -> None:
    name = namespaced("kefu_test_leftover_probe")
    other = f"{name}_elsewhere"  # another checkout's suffix: not this run's
    track_database(name)
    # What exists now is not this check's business: the session's own stack database (same namespace) included.
    before = tmp_path / "before.txt"
    snapshot = subprocess.run([sys.executable, "-m", "scripts.kefu_cli.leftovers", "snapshot", str(before)],
                              cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert snapshot.returncode == 0, snapshot.stdout + snapshot.stderr
    ledger = tmp_path / "ledger.txt"
    ledger.write_text(f"{name}\n")
    with admin() as conn:
        for database in (name, other):
            conn.execute(f'DROP DATABASE IF EXISTS "{database}"')
            conn.execute(f'CREATE DATABASE "{database}"')
    try:
        first = leftovers(ledger, before)
        assert first.returncode == 1 and name in first.stdout, first.stdout + first.stderr
        assert other not in first.stdout, "another checkout's database must not fail this run"
        assert not database_exists(name) and database_exists(other)
        second = leftovers(ledger, before)
        assert second.returncode == 0 and "left behind: 0" in second.stdout, second.stdout
    finally:
        with admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{other}"')
